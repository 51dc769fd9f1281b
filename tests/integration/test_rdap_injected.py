"""The RDAP client's cache and request budget are handed to it, not built inside.

A cache (:class:`~hostlocate.sources.base.RdapCache`) or a budget
(:class:`~hostlocate.sources.base.RateBudget`) given to the client is the one
it uses: the in-memory default, the SQLite store shared by processes, or a
fake of the protocol written here. Requests are counted by the RDAP lab.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from hostlocate.errors import ErrorCode
from hostlocate.sources._rdap_cache import MemoryRdapCache
from hostlocate.sources.base import RateBudget, RdapCache, RdapEntryKind
from hostlocate.sources.rdap import RdapClient
from hostlocate.store import SqliteStore
from tests.rdaplab import RdapLab

pytestmark = pytest.mark.integration

T = TypeVar("T")


@pytest.fixture
def lab(rdap_lab: RdapLab) -> RdapLab:
    """The shared lab with its counters and faults cleared."""
    rdap_lab.reset()
    return rdap_lab


def run(lab: RdapLab, body: Callable[[RdapClient], Awaitable[T]], **options: Any) -> T:
    options.setdefault("bootstrap_dir", lab.bootstrap_dir)
    if "budget" not in options:
        options.setdefault("rate_limits", {"*": math.inf})

    async def main() -> T:
        async with RdapClient(**options) as client:
            return await body(client)

    return asyncio.run(main())


class RecordingCache(MemoryRdapCache):
    """The default cache, noting the service each range is kept for."""

    def __init__(self) -> None:
        super().__init__()
        self.networks: list[tuple[str, int, int, int]] = []
        self.reads = 0

    def put_network(
        self, service: str, version: int, start: int, end: int, value: bytes, ttl: float
    ) -> None:
        self.networks.append((service, version, start, end))
        super().put_network(service, version, start, end, value, ttl)

    def find_network(
        self, service: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address
    ) -> tuple[bytes, float] | None:
        self.reads += 1
        return super().find_network(service, address)

    def get_entry(self, kind: RdapEntryKind, key: str) -> tuple[bytes, float] | None:
        self.reads += 1
        return super().get_entry(kind, key)


class ScriptedBudget:
    """A budget that grants or refuses as told and notes every call."""

    def __init__(self, *, grant: bool) -> None:
        self.grant = grant
        self.asked: list[str] = []
        self.paused: list[tuple[str, float]] = []

    async def acquire(self, registry: str, deadline: float) -> bool:
        self.asked.append(registry)
        return self.grant

    async def pause(self, registry: str, seconds: float) -> None:
        self.paused.append((registry, seconds))

    def stats(self) -> dict[str, float]:
        return {"waits": 0, "wait_seconds": 0.0, "refusals": 0 if self.grant else len(self.asked)}


def test_a_given_cache_keeps_each_range_under_the_service_that_answered(lab: RdapLab) -> None:
    cache = RecordingCache()
    protocol_view: RdapCache = cache

    async def first(client: RdapClient) -> None:
        await client.lookup_ip("193.0.6.139")
        await client.lookup_domain("cf-site.com")

    run(lab, first, cache=protocol_view)
    assert cache.networks == [
        (
            lab.service("ripe"),
            4,
            int(ipaddress.IPv4Address("193.0.0.0")),
            int(ipaddress.IPv4Address("193.0.7.255")),
        )
    ]
    lab.reset()

    async def second(client: RdapClient) -> None:
        network = await client.lookup_ip("193.0.7.1")
        registrar = await client.lookup_domain("cf-site.com")
        assert network.from_cache and network.requests == 0
        assert registrar.from_cache and registrar.name is not None

    run(lab, second, cache=cache)  # a new client, the same cache: no request
    assert lab.counts() == {}


def test_the_sqlite_store_serves_as_the_cache_of_later_processes(
    lab: RdapLab, tmp_path: Path
) -> None:
    path = tmp_path / "cache.sqlite3"

    async def fill(client: RdapClient) -> None:
        await client.lookup_ip("193.0.6.139")
        await client.lookup_ip("45.0.0.1")  # a 404, remembered
        await client.lookup_domain("cf-site.com")

    with SqliteStore(path) as store:
        run(lab, fill, cache=store)
    lab.reset()

    async def reuse(client: RdapClient) -> None:
        network = await client.lookup_ip("193.0.5.5")
        missing = await client.lookup_ip("45.0.0.1")
        registrar = await client.lookup_domain("CF-SITE.com")
        assert network.from_cache and network.network is not None
        assert network.network.cidr == "193.0.0.0/21"
        assert missing.error == ErrorCode.RDAP_NOT_FOUND and missing.from_cache
        assert registrar.from_cache and registrar.error is None

    with SqliteStore(path) as store:  # a new store object: as a new process would open it
        run(lab, reuse, cache=store)
    assert lab.counts() == {}


def test_a_shared_cache_is_read_once_per_range_then_from_memory(lab: RdapLab) -> None:
    shared = RecordingCache()

    async def fill(client: RdapClient) -> None:
        await client.lookup_ip("193.0.6.139")
        await client.lookup_domain("cf-site.com")

    run(lab, fill, cache=shared)
    shared.reads = 0

    async def reuse(client: RdapClient) -> None:
        for ip in ("193.0.5.1", "193.0.4.1", "193.0.3.1", "193.0.2.1"):
            found = client.cached_ip(ip)
            assert found is not None and found[0].from_cache
        for _ in range(3):
            assert client.cached_domain("cf-site.com") is not None

    run(lab, reuse, cache=shared)
    assert shared.reads == 2  # one range, one registrar; the rest from memory


def test_a_budget_that_refuses_stops_the_request_before_it_is_sent(lab: RdapLab) -> None:
    budget = ScriptedBudget(grant=False)
    protocol_view: RateBudget = budget

    async def body(client: RdapClient) -> None:
        result = await client.lookup_ip("193.0.6.139")
        assert result.error == ErrorCode.RDAP_RATE_LIMITED and result.requests == 0
        assert client.stats()["rate_limit_refusals"] == 1

    run(lab, body, budget=protocol_view)
    assert budget.asked == ["ripe"]
    assert lab.counts() == {}


def test_a_retry_after_pauses_the_registry_in_the_given_budget(lab: RdapLab) -> None:
    lab.rate_limit("ripe", times=1, retry_after="1")
    budget = ScriptedBudget(grant=True)

    async def body(client: RdapClient) -> None:
        result = await client.lookup_ip("193.0.6.139")
        assert result.error is None and result.requests == 2

    run(lab, body, budget=budget)
    assert budget.asked == ["ripe", "ripe"]
    assert budget.paused == [("ripe", 1.0)]


def test_the_rdap_client_does_not_import_the_store() -> None:
    import subprocess
    import sys

    code = "import sys, hostlocate.sources.rdap; print('hostlocate.store' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- one path for every kind of look-up: the AS of an address --------------------------------


def test_an_autonomous_system_is_looked_up_once_then_cached(lab: RdapLab) -> None:
    async def body(client: RdapClient) -> None:
        assert client.cached_autnum(13335) is None
        together = await asyncio.gather(*(client.lookup_autnum(13335) for _ in range(5)))
        first = together[0]
        assert first.asn == 13335 and first.name == "CLOUDFLARENET" and first.error is None
        assert first.abuse_emails == ("abuse@cloudflare.com",)
        assert first.source_url == lab.service("arin") + "autnum/13335"
        assert sum(one.requests for one in together) == 1
        assert all(one.from_cache for one in together[1:])
        kept = client.cached_autnum(13335)
        assert kept is not None and kept[0].from_cache and kept[0].name == "CLOUDFLARENET"
        stats = client.stats()
        assert stats["autnum_cache_misses"] == 1 and stats["inflight_joins"] == 4
        with pytest.raises(ValueError, match="AS number"):
            await client.lookup_autnum(-1)

    run(lab, body)
    assert lab.path_counts() == {"/arin/autnum/13335": 1}


def test_an_unknown_autonomous_system_is_not_found_and_remembered(lab: RdapLab) -> None:
    async def body(client: RdapClient) -> None:
        first = await client.lookup_autnum(13336)
        again = await client.lookup_autnum(13336)
        assert first.error == again.error == ErrorCode.RDAP_NOT_FOUND
        assert first.requests == 1 and again.from_cache and again.requests == 0

    run(lab, body)
    assert lab.total() == 1


def test_the_client_is_an_owner_source() -> None:
    from hostlocate.sources.base import OwnerSource

    wanted = [name for name in vars(OwnerSource) if not name.startswith("_")]
    assert {"cached_ip", "cached_domain", "cached_autnum", "lookup_autnum"} <= set(wanted)
    assert all(callable(getattr(RdapClient, name)) for name in wanted)
    assert not hasattr(RdapClient, "peek_ip") and not hasattr(RdapClient, "peek_domain")
