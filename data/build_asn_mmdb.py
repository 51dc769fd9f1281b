"""Build data/geo/asn.mmdb (GeoLite2-ASN layout) from the npm package @ip-location-db/asn.

The package ships CSV files (``start,end,asn,organisation``, inclusive ranges)
merged from RouteViews, the five RIRs' delegation statistics (NRO) and DB-IP's
IP to ASN Lite, all CC-BY-4.0. No MaxMind-format ASN file with that licence is
published as a package, so this script writes one with the PyPI package
``mmdb-writer``. Records use GeoLite2-ASN's keys, ``autonomous_system_number``
(uint32) and ``autonomous_system_organization``, so any reader of GeoLite2-ASN
(including ``geoip2``'s ``Reader.asn()``) can read it.

Refresh (from the repository root; needs npm and ``pip install -e .[build-data]``;
takes about two minutes and under 1 GB of memory)::

    npm view @ip-location-db/asn version          # the newest version
    python data/build_asn_mmdb.py 2.3.2026061719  # fetch, build, verify, update MANIFEST.json

``--from-dir DIR`` builds from an already unpacked package instead of fetching.
The build is deterministic: the database's build epoch is the data time encoded
in the package version, so the same version always gives the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import maxminddb
from mmdb_writer import MMDBWriter
from netaddr import IPRange, IPSet

sys.path.insert(0, str(Path(__file__).resolve().parent))
import update_manifest
from _npm import fetch_package, version_timestamp

PACKAGE = "@ip-location-db/asn"
RELATIVE = "geo/asn.mmdb"
DATABASE_TYPE = "ip-location-db-ASN (compat=GeoLite2-ASN)"
MAX_BYTES = 25 * 1024 * 1024
ATTRIBUTION = (
    "ASN data: RouteViews (routeviews.org), NRO/RIR delegation statistics (nro.net) "
    "and DB-IP IP to ASN Lite (https://db-ip.com), CC-BY-4.0, "
    "merged by the ip-location-db project (npm @ip-location-db/asn)"
)


class _PinnedWriter(MMDBWriter):
    """mmdb-writer stamps the wall clock; pin the epoch so rebuilds are byte-identical."""

    def __init__(self, build_epoch: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._build_epoch = build_epoch

    def _build_meta(self) -> dict[str, Any]:
        meta = super()._build_meta()
        meta["build_epoch"] = self._build_epoch
        return meta


def _rows(package: Path) -> list[tuple[str, str, int, str]]:
    rows: list[tuple[str, str, int, str]] = []
    for name in ("asn-ipv4.csv", "asn-ipv6.csv"):
        with (package / name).open(newline="", encoding="utf-8") as fh:
            for line in csv.reader(fh):
                if not line:
                    continue
                start, end, asn, org = line[0], line[1], int(line[2]), line[3].strip()
                rows.append((start, end, asn, org))
    return rows


def build(package: Path, output: Path, build_epoch: int, version: str) -> int:
    rows = _rows(package)
    writer = _PinnedWriter(
        build_epoch,
        ip_version=6,
        ipv4_compatible=True,
        database_type=DATABASE_TYPE,
        languages=["en"],
        description={
            "en": f"IP to ASN from {PACKAGE} {version} (RouteViews, NRO, DB-IP; CC-BY-4.0)"
        },
        int_type="u32",
    )
    records: dict[tuple[int, str], dict[str, Any]] = {}
    for start, end, asn, org in rows:
        record = records.get((asn, org))
        if record is None:
            record = {"autonomous_system_number": asn}
            if org:
                record["autonomous_system_organization"] = org
            records[(asn, org)] = record
        writer.insert_network(IPSet(IPRange(start, end)), record)
    tmp = output.with_suffix(".mmdb.tmp")
    writer.to_db_file(str(tmp))
    _verify(tmp, rows)
    size = tmp.stat().st_size
    if size > MAX_BYTES:
        tmp.unlink()
        raise SystemExit(f"{output.name} would be {size} bytes, over the {MAX_BYTES} limit")
    tmp.replace(output)
    return len(rows)


def _verify(path: Path, rows: list[tuple[str, str, int, str]]) -> None:
    """Every 97th range, at both ends, must read back as written."""
    with maxminddb.open_database(str(path)) as reader:
        for start, end, asn, org in rows[::97]:
            for ip in (start, end):
                got = reader.get(ip)
                want_org = org or None
                if not isinstance(got, dict) or (
                    got.get("autonomous_system_number"),
                    got.get("autonomous_system_organization"),
                ) != (asn, want_org):
                    raise SystemExit(f"verification failed at {ip}: {got!r} != AS{asn} {org!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", help=f"exact {PACKAGE} version, e.g. 2.3.2026061719")
    parser.add_argument("--from-dir", type=Path, help="an unpacked package folder to use")
    parser.add_argument(
        "--output", type=Path, default=update_manifest.DATA_DIR / RELATIVE, help="output file"
    )
    parser.add_argument("--no-manifest", action="store_true", help="do not update MANIFEST.json")
    args = parser.parse_args(argv)

    stamp = version_timestamp(args.version)
    epoch = int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
    with tempfile.TemporaryDirectory(prefix="hostlocate-asn-") as scratch:
        package = args.from_dir or fetch_package(PACKAGE, args.version, Path(scratch))
        count = build(package, args.output, epoch, args.version)
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes, {count} ranges)")
    if not args.no_manifest and args.output.resolve() == (update_manifest.DATA_DIR / RELATIVE):
        update_manifest.record(
            RELATIVE,
            name="geoip_asn",
            title=f"IP to ASN ({PACKAGE} {args.version}, GeoLite2-ASN layout)",
            source=f"npm package {PACKAGE}, files asn-ipv4.csv and asn-ipv6.csv, "
            "converted by data/build_asn_mmdb.py",
            upstream="RouteViews prefix-to-AS data, NRO extended delegation statistics, "
            "DB-IP IP to ASN Lite; merged by the ip-location-db project",
            version=args.version,
            build_date=stamp,
            licence="CC-BY-4.0",
            attribution=ATTRIBUTION,
            refresh=f"python data/build_asn_mmdb.py VERSION  (npm view {PACKAGE} version)",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
