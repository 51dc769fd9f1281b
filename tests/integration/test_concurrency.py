"""One locator shared by many threads, or by many tasks, gives the verdicts of sequential use.

The inputs mix lab names (CNAME chains, round robin, CDN, IPv6 only, big
answers, private and mixed answers, NXDOMAIN, SERVFAIL, two names in one
registry network), IP literals, special names and invalid text, each several
times in different spellings. The sequential reference comes from a fresh
locator asking one input at a time; the shared locators start cold too, and
get the inputs in a different order from every thread or task, so the same
host, address and network are asked at the same moment from several places.
DNS answers come through a 40 ms forwarder and every registry answers 40 ms
late, so that those look-ups really overlap.

Compared: the whole verdict but what legitimately depends on the order of
asking: ``provenance`` (time), ``dns.queries`` and ``dns.min_ttl`` (cold or
warm cache), and a network's ``source_url`` (which address of the network was
asked first).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from hostlocate import AsyncLocator, Locator, Verdict
from tests.netlab import DnsLab
from tests.rdaplab import NO_RATE_LIMITS, RdapLab

pytestmark = pytest.mark.integration

THREADS = 8
TASKS = 8

INPUTS = [
    "hxxps://www.brand-shop[.]com/a?q=1",
    "www.brand-shop.com",
    "rr.multi-host.com",
    "http://a.multi-host.com/",
    "http://b.multi-host.com/x",
    "cdn.cf-site.com",
    "mixed.cf-site.com",
    "v6only.ovh-site.fr",
    "HTTP://WWW.OVH-SITE.FR/Path",
    "www.ovh-site.fr",
    "www.uk-site.co.uk",
    "big.corp-site.com",
    "half.corp-site.com",
    "intranet.corp-site.com",
    "lo.corp-site.com",
    "nope.corp-site.com",
    "www.broken-site.com",
    "anything.wild.corp-site.com",
    "other.wild.corp-site.com",
    "www.cn-site.com",
    "www.br-site.com",
    "http://193.0.6.139/",
    "http://193.0.6.140:8080/",
    "[2a00:2381:ffff::1]",
    "http://1.1.1.1/",
    "http://10.0.0.1/",
    "hxxp://abcdefghijklmnop[.]onion/",
    "http://localhost/",
    "",
    "http://[1::2::3]/",
    "javascript:alert(1)",
    "http://example.fr:99999/",
]


def comparable(v: Verdict) -> dict[str, Any]:
    d = v.to_dict()
    d.pop("provenance")
    if d["dns"]:
        d["dns"].pop("queries", None)
        d["dns"].pop("min_ttl", None)
    for address in d["addresses"]:
        if address.get("network"):
            address["network"].pop("source_url", None)
    return d


def rotated(items: list[str], k: int) -> list[str]:
    k %= len(items)
    return items[k:] + items[:k]


@pytest.fixture(scope="module")
def slow_lab(dns_lab: DnsLab, rdap_lab: RdapLab) -> Iterator[tuple[str, RdapLab]]:
    rdap_lab.reset()
    rdap_lab.latency(None, 0.04)
    try:
        yield dns_lab.start_forwarder(40), rdap_lab
    finally:
        rdap_lab.reset()


def options(rdap_lab: RdapLab) -> dict[str, Any]:
    return {
        "rdap_bootstrap": rdap_lab.bootstrap_dir,
        "rdap_options": NO_RATE_LIMITS,
        "timeout": 10.0,
    }


@pytest.fixture(scope="module")
def reference(slow_lab: tuple[str, RdapLab]) -> dict[str, dict[str, Any]]:
    """Each input's verdict from a fresh locator asked one input at a time."""
    resolver, rdap_lab = slow_lab
    with Locator([resolver], **options(rdap_lab)) as loc:
        verdicts = {text: comparable(loc.locate(text)) for text in INPUTS}
    statuses = {v["status"] for v in verdicts.values()}
    assert statuses == {"located", "unresolved", "not_routable", "invalid"}
    assert not [t for t, v in verdicts.items() if v["error"] and v["error"]["code"] == "internal"]
    return verdicts


def test_one_locator_shared_by_threads(
    slow_lab: tuple[str, RdapLab], reference: dict[str, dict[str, Any]]
) -> None:
    resolver, rdap_lab = slow_lab
    start = threading.Barrier(THREADS)

    def worker(k: int) -> list[Verdict]:
        start.wait()
        order = rotated(INPUTS, k * 5)
        if k % 2:
            return list(loc.locate_many(order, concurrency=4))
        return [loc.locate(text) for text in order]

    with (
        Locator([resolver], **options(rdap_lab)) as loc,
        concurrent.futures.ThreadPoolExecutor(THREADS) as pool,
    ):
        results = list(pool.map(worker, range(THREADS)))
        stats = loc.stats()
    # The look-ups did meet: some waited on the same registry request in flight.
    assert stats["rdap"]["inflight_joins"] > 0, stats
    for k, verdicts in enumerate(results):
        assert [v.input for v in verdicts] == rotated(INPUTS, k * 5)
        for v in verdicts:
            assert comparable(v) == reference[v.input], v.input


def test_one_async_locator_shared_by_tasks(
    slow_lab: tuple[str, RdapLab], reference: dict[str, dict[str, Any]]
) -> None:
    resolver, rdap_lab = slow_lab

    async def run() -> list[list[Verdict]]:
        async with AsyncLocator([resolver], **options(rdap_lab)) as loc:

            async def task(k: int) -> list[Verdict]:
                order = rotated(INPUTS, k * 3)
                if k % 2:
                    return [v async for v in loc.locate_many(order, concurrency=4)]
                return list(await asyncio.gather(*(loc.locate(text) for text in order)))

            out = list(await asyncio.gather(*(task(k) for k in range(TASKS))))
            assert loc.stats()["rdap"]["inflight_joins"] > 0
            return out

    results = asyncio.run(run())
    for k, verdicts in enumerate(results):
        assert [v.input for v in verdicts] == rotated(INPUTS, k * 3)
        for v in verdicts:
            assert comparable(v) == reference[v.input], v.input


def test_threads_and_a_batch_at_once_on_a_warm_locator(
    slow_lab: tuple[str, RdapLab], reference: dict[str, dict[str, Any]]
) -> None:
    """Warm caches and the per-host decision reuse give the same verdicts under contention."""
    resolver, rdap_lab = slow_lab
    with Locator([resolver], **options(rdap_lab)) as loc:
        for text in INPUTS:
            loc.locate(text)
        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            batches = list(
                pool.map(
                    lambda k: list(loc.locate_many(rotated(INPUTS, k) * 3, concurrency=16)),
                    range(THREADS),
                )
            )
    for verdicts in batches:
        for v in verdicts:
            assert comparable(v) == reference[v.input], v.input
