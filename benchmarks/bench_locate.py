"""One cached record through the sync and the async surface, side by side.

A record whose host was decided recently needs no source: ``Locator.locate``
answers it in the caller's thread, ``await AsyncLocator.locate`` on the loop.
Both locators run on the bundled data with in-memory DNS and RDAP sources
(tests/fakes.py) filled by one look-up, so what is timed is the surface and the
verdict, not a network. Rounds alternate between the two, best of rounds.

Run: ``python benchmarks/bench_locate.py [--calls N] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tests.fakes import FakeDns, FakeOwners

from hostlocate import AsyncLocator, Locator
from hostlocate.models import DnsPart, IpOwnership, Network, RegistrarInfo

HOST = "www.ripe-site.nl"
IP = "193.0.6.139"
URLS = [f"hxxps://www[.]ripe-site[.]nl/page/{i}" for i in range(64)]


def _sources() -> tuple[FakeDns, FakeOwners]:
    dns = FakeDns(
        {
            (HOST, "A"): DnsPart(rdtype="A", rcode="NOERROR", addresses=(IP,), min_ttl=3600),
            (HOST, "AAAA"): DnsPart(rdtype="AAAA", rcode="NOERROR", min_ttl=3600),
        },
        ttl=3600,
    )
    owners = FakeOwners(
        {IP: IpOwnership(network=Network(cidr="193.0.0.0/21", rir="ripe", country="NL"))},
        {"ripe-site.nl": RegistrarInfo(domain="ripe-site.nl", abuse_email="abuse@reg.example")},
        ttl=3600,
    )
    return dns, owners


def sync_round(loc: Locator, calls: int) -> float:
    urls = URLS
    n = len(urls)
    start = time.perf_counter()
    for i in range(calls):
        loc.locate(urls[i % n])
    return (time.perf_counter() - start) / calls


async def async_round(loc: AsyncLocator, calls: int) -> float:
    urls = URLS
    n = len(urls)
    start = time.perf_counter()
    for i in range(calls):
        await loc.locate(urls[i % n])
    return (time.perf_counter() - start) / calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    dns, owners = _sources()
    sync_loc = Locator(dns=dns, owners=owners)
    sync_loc.locate(URLS[0])  # the look-up; every call after it is a cached record
    adns, aowners = _sources()
    loop = asyncio.new_event_loop()
    async_loc = loop.run_until_complete(_async_locator(adns, aowners))
    loop.run_until_complete(async_loc.locate(URLS[0]))

    sync_best = async_best = float("inf")
    for _ in range(args.rounds):
        sync_best = min(sync_best, sync_round(sync_loc, args.calls))
        async_best = min(async_best, loop.run_until_complete(async_round(async_loc, args.calls)))
    sync_loc.close()
    loop.run_until_complete(async_loc.aclose())
    loop.close()

    print(f"cached record, best of {args.rounds} rounds of {args.calls:,} calls")
    print(f"  await AsyncLocator.locate   {async_best * 1e6:8.2f} µs/call")
    print(f"  Locator.locate              {sync_best * 1e6:8.2f} µs/call")
    print(f"  sync / async                {sync_best / async_best:8.2f}x  (target: within 2x)")
    return 0


async def _async_locator(dns: FakeDns, owners: FakeOwners) -> AsyncLocator:
    return AsyncLocator(dns=dns, owners=owners)


if __name__ == "__main__":
    sys.exit(main())
