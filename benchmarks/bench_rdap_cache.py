"""What a cached RDAP answer costs to read, by where the cache lives.

Prints, side by side in one run (the machine is shared and noisy, so compare
within a run), the cost of finding the range that holds an address:

* ``MemoryRdapCache`` (the client's default);
* ``SqliteStore`` read directly (one indexed query over the address's
  prefixes: 33 keys for IPv4, 129 for IPv6);
* ``TieredRdapCache`` over the same store, as the client reads a given cache
  (the store once per range, then memory);
* ``RdapClient.cached_ip`` on that tiered cache, a new address each time.

No network: ranges are written straight into the caches. Run with
``PYTHONPATH=src python benchmarks/bench_rdap_cache.py [--ranges N]``.
"""

from __future__ import annotations

import argparse
import ipaddress
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec

from hostlocate.models import IpOwnership, Network
from hostlocate.sources._rdap_cache import MemoryRdapCache, TieredRdapCache
from hostlocate.sources.base import RdapCache
from hostlocate.sources.bootstrap import Bootstrap
from hostlocate.sources.rdap import RdapClient
from hostlocate.store import SqliteStore

SERVICE = "https://registry.test/"
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _per_call(calls: Sequence[_Address], probe: Callable[[_Address], object]) -> float:
    started = time.perf_counter()
    for address in calls:
        probe(address)
    return (time.perf_counter() - started) / len(calls) * 1e6


def _fill(cache: RdapCache, ranges: int) -> None:
    for n in range(ranges):
        first = ipaddress.IPv4Address((193 << 24) + (n << 8))
        last = ipaddress.IPv4Address(int(first) + 255)
        network = Network(cidr=f"{first}/24", start_address=str(first), end_address=str(last))
        value = msgspec.msgpack.encode(IpOwnership(network=network, from_cache=True))
        cache.put_network(SERVICE, 4, int(first), int(last), value, 3600.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--ranges", type=int, default=2000, help="cached /24 ranges")
    parser.add_argument("--lookups", type=int, default=20_000, help="look-ups per figure")
    args = parser.parse_args()
    v4 = [
        ipaddress.IPv4Address((193 << 24) + ((n % args.ranges) << 8) + 1 + n // args.ranges % 250)
        for n in range(args.lookups)
    ]
    v6_misses = [ipaddress.IPv6Address((0x2A00 << 112) + n) for n in range(args.lookups // 10)]
    bootstrap = Bootstrap(
        {"ipv4": {"version": "1.0", "services": [[["193.0.0.0/8"], [SERVICE]]]}}, origin="user"
    )
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStore(Path(folder) / "cache.sqlite3")
        memory = MemoryRdapCache()
        _fill(store, args.ranges)
        _fill(memory, args.ranges)
        client = RdapClient(bootstrap=bootstrap, cache=store)
        tiered = TieredRdapCache(store, client._span_of)
        figures = {
            "memory, range hit": _per_call(v4, lambda a: memory.find_network(SERVICE, a)),
            "sqlite, range hit": _per_call(v4, lambda a: store.find_network(SERVICE, a)),
            "sqlite, IPv6 miss": _per_call(v6_misses, lambda a: store.find_network(SERVICE, a)),
            "tiered over sqlite": _per_call(v4, lambda a: tiered.find_network(SERVICE, a)),
            "client.cached_ip (tiered)": _per_call(v4, lambda a: client.cached_ip(str(a))),
        }
        store.close()
    print(f"{args.ranges} cached ranges, {args.lookups} look-ups of addresses in them")
    for name, micros in figures.items():
        print(f"  {name:<28} {micros:8.2f} us a look-up")


if __name__ == "__main__":
    main()
