"""The Redis store against a real redis-server on loopback (tests/redislab).

Keys expire on their own, ranges answer only the addresses of their service,
the budget is one for several processes, a ``Retry-After`` pauses every
worker, locks expire, and a Redis that goes away mid-run leaves the workers
working alone until it is back. The password never shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hostlocate.caches import is_redis_url, open_cache
from hostlocate.errors import ConfigError
from hostlocate.models import DnsPart
from hostlocate.redis_shared import MAX_PAUSE
from hostlocate.redis_store import ALONE, PASSWORD_ENV, RedisStore, mask_url
from hostlocate.sources._rdap_ratelimit import RateLimit
from hostlocate.store import SqliteStore
from tests._need import absent
from tests.redislab import LabUnavailable, RedisLab, start_redis_lab

pytestmark = pytest.mark.integration

RIPE = "https://rdap.db.ripe.net/"
ARIN = "https://rdap.arin.net/registry/"


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


@pytest.fixture
def store(redis_lab: RedisLab) -> Iterator[RedisStore]:
    redis_lab.flush()
    with contextlib.closing(RedisStore(redis_lab.url())) as opened:
        yield opened


# -- the URL and its password ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret@127.0.0.1:6390/2", "redis://:***@127.0.0.1:6390/2"),
        ("rediss://user:s3cret@127.0.0.1/0", "rediss://user:***@127.0.0.1/0"),
        ("redis://127.0.0.1:6390/0", "redis://127.0.0.1:6390/0"),
        ("redis://:p%40ss@[::1]:6390/1", "redis://:***@[::1]:6390/1"),
    ],
    ids=["password", "user-and-password-tls", "no-password", "ipv6-quoted"],
)
def test_the_url_is_shown_with_its_password_masked(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_the_password_never_shows_in_repr_or_errors(redis_lab: RedisLab) -> None:
    with contextlib.closing(RedisStore(redis_lab.url())) as opened:
        for text in (repr(opened), str(opened), opened.url, opened.path):
            assert redis_lab.password not in text
            assert "***" in text
    wrong = redis_lab.url().replace(redis_lab.password, "not-the-password")
    with pytest.raises(ConfigError) as caught:
        RedisStore(wrong)
    assert "not-the-password" not in str(caught.value)
    assert f"127.0.0.1:{redis_lab.port}" in str(caught.value)


def test_the_password_may_come_from_the_environment(
    redis_lab: RedisLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, redis_lab.password)
    with contextlib.closing(RedisStore(redis_lab.url(password=False))) as opened:
        opened.put_entry("registrar", "example.com", b"x", 5)
        assert opened.get_entry("registrar", "example.com") is not None
        assert redis_lab.password not in repr(opened)


def test_unreachable_at_start_is_a_clear_error_naming_the_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        open_cache("redis://:hunter2@127.0.0.1:1/0")
    message = str(caught.value)
    assert "redis://:***@127.0.0.1:1/0" in message
    assert "hunter2" not in message
    assert list(tmp_path.iterdir()) == []


def test_a_redis_url_never_becomes_a_file(
    redis_lab: RedisLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert is_redis_url(redis_lab.url())
    opened = open_cache(redis_lab.url())
    assert isinstance(opened, RedisStore)
    opened.close()
    with pytest.raises(ConfigError):
        open_cache("memcached://127.0.0.1:1")
    assert list(tmp_path.iterdir()) == []
    path = open_cache(str(tmp_path / "cache.sqlite3"))
    assert isinstance(path, SqliteStore)
    path.close()


def test_rediss_speaks_tls(tmp_path: Path) -> None:
    try:
        lab = start_redis_lab(tmp_path / "redis-tls", tls=True)
    except LabUnavailable as exc:
        absent(str(exc))
    try:
        with contextlib.closing(RedisStore(lab.tls_url())) as opened:
            assert opened.url.startswith("rediss://:***@")
            opened.put_entry("registrar", "example.com", b"over tls", 60)
        with contextlib.closing(RedisStore(lab.url())) as plain:  # the same server
            assert plain.get_entry("registrar", "example.com") is not None
        # A server whose certificate the client does not trust is refused at start.
        untrusted = lab.tls_url().split("?", 1)[0]
        with pytest.raises(ConfigError) as caught:
            RedisStore(untrusted)
        assert lab.password not in str(caught.value)
    finally:
        lab.stop()


# -- values with their own lifetimes -------------------------------------------------------


def test_entries_expire_with_their_own_ttl(store: RedisStore) -> None:
    store.put_entry("negative", "192.0.2.1", b"short", 0.3)
    store.put_entry("registrar", "example.com", b"long", 60)
    short = store.get_entry("negative", "192.0.2.1")
    long = store.get_entry("registrar", "example.com")
    assert short is not None and short[0] == b"short" and 0 < short[1] <= 0.3
    assert long is not None and long[0] == b"long" and 59 < long[1] <= 60
    time.sleep(0.4)
    assert store.get_entry("negative", "192.0.2.1") is None
    assert store.get_entry("registrar", "example.com") is not None


def test_keys_carry_a_versioned_prefix(store: RedisStore, redis_lab: RedisLab) -> None:
    store.put_entry("registrar", "example.com", b"v", 60)
    assert redis_lab.command("EXISTS", "hostlocate:v1:registrar:example.com") == b":1\r\n"
    assert store.count() == 1


def test_typed_views_hold_dns_answers(store: RedisStore) -> None:
    view = store.namespace("dns-part", DnsPart)
    part = DnsPart(rdtype="A", addresses=("192.0.2.7",), min_ttl=300)
    view.put("www.example.com/A", part, 300)
    found = view.get_with_ttl("www.example.com/A")
    assert found is not None and found[0] == part
    assert view.get("nothing/A") is None
    assert view.stats.hits == 1 and view.stats.misses == 1
    view.clear()
    assert view.get("www.example.com/A") is None


# -- the range rule -------------------------------------------------------------------------


def test_a_range_answers_the_addresses_it_holds_for_its_service_only(store: RedisStore) -> None:
    first, last = int(ip("193.0.0.0")), int(ip("193.0.7.255"))
    store.put_network(RIPE, 4, first, last, b"ripe-ncc", 60)
    assert store.find_network(RIPE, ip("193.0.6.139")) is not None
    assert store.find_network(RIPE, ip("193.0.0.0")) is not None
    assert store.find_network(RIPE, ip("193.0.7.255")) is not None
    assert store.find_network(RIPE, ip("193.0.8.0")) is None
    assert store.find_network(RIPE, ip("192.255.255.255")) is None
    # Another service is authoritative elsewhere: its look-ups never see RIPE's ranges.
    assert store.find_network(ARIN, ip("193.0.6.139")) is None


def test_the_smallest_of_nested_ranges_answers(store: RedisStore) -> None:
    store.put_network(ARIN, 4, int(ip("23.0.0.0")), int(ip("23.15.255.255")), b"allocation", 60)
    store.put_network(ARIN, 4, int(ip("23.1.2.0")), int(ip("23.1.2.255")), b"assignment", 60)
    inner = store.find_network(ARIN, ip("23.1.2.9"))
    outer = store.find_network(ARIN, ip("23.1.3.9"))
    assert inner is not None and inner[0] == b"assignment"
    assert outer is not None and outer[0] == b"allocation"


def test_ipv6_ranges_are_exact_to_the_last_address(store: RedisStore) -> None:
    net = ipaddress.ip_network("2a00:2381::/32")
    store.put_network(RIPE, 6, int(net[0]), int(net[-1]), b"v6", 60)
    assert store.find_network(RIPE, net[-1]) is not None
    after = ipaddress.IPv6Address(int(net[-1]) + 1)
    before = ipaddress.IPv6Address(int(net[0]) - 1)
    assert store.find_network(RIPE, after) is None
    assert store.find_network(RIPE, before) is None
    assert store.find_network(RIPE, ip("193.0.6.139")) is None


def test_an_expired_range_answers_nothing(store: RedisStore) -> None:
    store.put_network(RIPE, 4, int(ip("193.0.0.0")), int(ip("193.0.7.255")), b"soon", 0.2)
    assert store.find_network(RIPE, ip("193.0.6.139")) is not None
    time.sleep(0.3)
    assert store.find_network(RIPE, ip("193.0.6.139")) is None


# -- one budget for every worker --------------------------------------------------------------


def _take_tokens(url: str, window: float, start_at: float, out: multiprocessing.Queue[int]) -> None:
    """In a process of its own: take tokens of ``lab`` until ``window`` seconds after
    ``start_at`` (a wall-clock time, the same for every process)."""

    async def run() -> int:
        store = RedisStore(url)
        budget = store.budget({"lab": (RateLimit(10, 5),)})
        time.sleep(max(0.0, start_at - time.time()))
        # One end for all, whenever this process got going.
        deadline = time.monotonic() + (start_at + window - time.time())
        granted = 0
        while time.monotonic() < deadline:
            if await budget.acquire("lab", deadline):
                granted += 1
            else:
                break
        store.close()
        return granted

    out.put(asyncio.run(run()))


def test_processes_share_one_budget(redis_lab: RedisLab) -> None:
    redis_lab.flush()
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[int] = context.Queue()
    start_at = time.time() + 5.0
    window = 1.0
    workers = [
        context.Process(target=_take_tokens, args=(redis_lab.url(), window, start_at, results))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    granted = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(10)
    # Burst 5 and 10 a second for one second: at most 15 (+1 for the edge) for all
    # four together; four private budgets would have granted about 60.
    assert 5 <= sum(granted) <= 16, granted


def test_a_retry_after_seen_by_one_worker_pauses_all(redis_lab: RedisLab) -> None:
    redis_lab.flush()

    async def run() -> None:
        one, two = RedisStore(redis_lab.url()), RedisStore(redis_lab.url())
        limits = {"lab": (RateLimit(100, 100),)}
        first, second = one.budget(limits), two.budget(limits)
        await first.pause("lab", 2.0)
        assert not await second.acquire("lab", time.monotonic() + 0.5)
        assert second.stats()["refusals"] == 1
        # A registry's word is bounded as for one worker: never more than 30 s.
        await first.pause("other", 3600)
        left = int(redis_lab.command("PTTL", "hostlocate:v1:pause:other")[1:].split(b"\r")[0])
        assert 0 < left <= MAX_PAUSE * 1000
        one.close()
        two.close()

    asyncio.run(run())


def test_queued_reservations_are_kept_until_they_are_served(store: RedisStore) -> None:
    """A bucket whose tokens are booked ahead (workers waiting their turn) outlives
    the queue: forgotten earlier, the next worker would find it full again."""

    async def run() -> None:
        budget = store.budget({"lab": (RateLimit(1, 1),)})
        queued = [
            asyncio.ensure_future(budget.acquire("lab", time.monotonic() + 60)) for _ in range(6)
        ]
        await asyncio.sleep(0.3)
        assert budget.stats()["waits"] == 5  # one token now, five booked 1..5 s ahead
        left = store._client.pttl(f"{store.prefix}bucket:lab")
        assert left > 4000, left
        for task in queued:
            task.cancel()
        await asyncio.gather(*queued, return_exceptions=True)

    asyncio.run(run())


def test_an_unlimited_registry_never_waits(store: RedisStore) -> None:
    async def run() -> None:
        budget = store.budget({"*": (RateLimit(float("inf"), 1),)})
        for _ in range(50):
            assert await budget.acquire("lab", time.monotonic() + 0.01)
        assert budget.stats()["waits"] == 0

    asyncio.run(run())


# -- locks of look-ups under way ------------------------------------------------------------


def test_a_lock_is_held_by_one_worker_and_expires_by_itself(redis_lab: RedisLab) -> None:
    redis_lab.flush()

    async def run() -> None:
        one = RedisStore(redis_lab.url(), lock_ttl=0.3)
        two = RedisStore(redis_lab.url(), lock_ttl=0.3)
        held = await one.claim("ip4:c10006")
        assert held is not None and held is not ALONE
        assert await two.claim("ip4:c10006") is None
        assert await two.held("ip4:c10006")
        await one.release(held)
        again = await two.claim("ip4:c10006")
        assert again is not None and again is not ALONE
        # The holder "dies": nobody releases, the lock expires.
        await asyncio.sleep(0.4)
        assert not await one.held("ip4:c10006")
        assert await one.claim("ip4:c10006") not in (None, ALONE)
        one.close()
        two.close()

    asyncio.run(run())


# -- Redis lost and found ---------------------------------------------------------------------


def test_redis_lost_then_back(redis_alone: RedisLab) -> None:
    said: list[str] = []
    opened = RedisStore(redis_alone.url(), retry_interval=0.2, notice=said.append)
    opened.put_entry("registrar", "before.example", b"1", 60)
    redis_alone.kill()
    # Working alone: nothing raises, answers go to local caches.
    assert opened.get_entry("registrar", "before.example") is None
    opened.put_entry("registrar", "during.example", b"2", 60)
    opened.put_network(RIPE, 4, int(ip("193.0.0.0")), int(ip("193.0.7.255")), b"ripe", 60)
    assert opened.get_entry("registrar", "during.example") is not None
    assert opened.find_network(RIPE, ip("193.0.6.139")) is not None
    assert not opened.shared
    assert len(said) == 1 and "unreachable" in said[0]
    assert redis_alone.password not in said[0]

    async def alone() -> None:
        assert await opened.claim("ip4:1") is ALONE
        budget = opened.budget({"lab": (RateLimit(1, 2),)})
        assert await budget.acquire("lab", time.monotonic() + 0.1)
        assert budget.stats()["local_acquires"] == 1

    asyncio.run(alone())
    redis_alone.start()
    time.sleep(0.3)
    assert opened.get_entry("registrar", "nothing.example") is None
    assert opened.shared
    assert len(said) == 2 and "again" in said[1]
    # What was learnt alone is handed to the others once Redis is back.
    with contextlib.closing(RedisStore(redis_alone.url())) as other:
        assert other.find_network(RIPE, ip("193.0.6.139")) is not None
    assert opened.summary()["redis_lost"] == 1
    assert opened.summary()["reads_without_redis"] >= 2
    opened.close()
