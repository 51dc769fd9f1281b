"""What geoip2's typed reader costs per look-up against hostlocate's maxminddb path.

Both read the same GeoLite2-Country-layout file (built here with mmdb-writer,
20,000 networks, the C extension's memory map) for the same addresses and take
the same three facts: located country, registered country, anycast. A third
row is hostlocate's whole ``GeoDatabase.lookup`` (country and ASN) on the
bundled files. Best of several rounds, microseconds per look-up.

    python benchmarks/bench_geoip2.py [--rounds 5] [--lookups 50000]

The figures and the decision they led to are in docs/data.md ("geoip2").
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import geoip2.database
import geoip2.errors
import maxminddb
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from hostlocate.sources.geo import GeoDatabase, _geoip2_country

NETWORKS = 20_000
COUNTRIES = ("DE", "FR", "GB", "NL", "US", "JP", "BR", "ZA")


def build(path: Path) -> list[str]:
    """A GeoLite2-Country-layout database; one address inside each network."""
    writer = MMDBWriter(
        ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country", int_type="u32"
    )
    rng = random.Random(7)
    addresses = []
    for i in range(NETWORKS):
        a, b = 20 + i // 250, i % 250
        cc, reg = rng.choice(COUNTRIES), rng.choice(COUNTRIES)
        record = {
            "country": {"iso_code": cc, "geoname_id": 1000 + i % 50},
            "registered_country": {"iso_code": reg, "geoname_id": 2000 + i % 50},
            "continent": {"code": "EU", "geoname_id": 6255148},
            "traits": {"is_anycast": i % 97 == 0},
        }
        writer.insert_network(IPSet([f"{a}.{b}.0.0/16"]), record)
        addresses.append(f"{a}.{b}.{rng.randrange(256)}.{rng.randrange(1, 255)}")
    writer.to_db_file(str(path))
    return addresses


def best(fn: Callable[[str], object], ips: list[str], rounds: int) -> float:
    """Best microseconds per call over ``rounds`` passes."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for ip in ips:
            fn(ip)
        times.append(time.perf_counter() - started)
    return min(times) / len(ips) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--lookups", type=int, default=50_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "GeoLite2-Country.mmdb"
        ips = build(path)
        rng = random.Random(11)
        sample = [rng.choice(ips) for _ in range(args.lookups)]

        raw = maxminddb.open_database(str(path), maxminddb.MODE_MMAP_EXT)
        get = raw.get

        def ours(ip: str) -> object:
            record = get(ip)
            return _geoip2_country(record) if isinstance(record, dict) else None

        typed = geoip2.database.Reader(str(path), mode=geoip2.database.MODE_MMAP_EXT)

        def theirs(ip: str) -> object:
            try:
                model = typed.country(ip)
            except geoip2.errors.AddressNotFoundError:
                return None
            return (
                model.country.iso_code,
                model.registered_country.iso_code,
                model.traits.is_anycast,
            )

        assert [ours(ip) for ip in sample[:1000]] == [theirs(ip) for ip in sample[:1000]]
        with GeoDatabase() as bundled:
            whole = best(bundled.lookup, sample, args.rounds)
        rounds = args.rounds
        rows = [
            ("maxminddb get + hostlocate's reading (GeoLite2 layout)", best(ours, sample, rounds)),
            ("geoip2 Reader.country() typed model (GeoLite2 layout)", best(theirs, sample, rounds)),
            ("hostlocate GeoDatabase.lookup, country + ASN (bundled)", whole),
        ]
        raw.close()
        typed.close()
    print(f"{args.lookups} look-ups, best of {args.rounds} rounds, µs per look-up")
    for name, micros in rows:
        print(f"  {name:58} {micros:7.2f}")
    print(f"  geoip2 / maxminddb: {rows[1][1] / rows[0][1]:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
