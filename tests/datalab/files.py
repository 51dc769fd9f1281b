"""Small real data files in the publishers' formats, built in a test's temporary folder.

The MaxMind DBs are written with mmdb-writer (DB-IP's GeoIP2 layout or the flat
``country_code`` one), answer the addresses ``hostlocate.datasets`` checks a new
database with, and carry some hundred filler networks so that they pass the
size floor like a real file would. Nothing here is production data; the PSL and
the range lists come from the repository's own ``data/`` files.
"""

from __future__ import annotations

import gzip
import io
import ipaddress
import json
import tarfile
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from hostlocate import _resources
from hostlocate.datasets import KNOWN_ASNS, KNOWN_COUNTRIES
from tests import _need

FILLER_NETWORKS = 800
"""Enough distinct records to make a ~20 KB database, over the 16 KiB floor."""
FILLER_COUNTRIES = ("US", "GB", "JP", "BR", "ZA", "IN", "AU", "CA")
PROBE = "20.0.0.1"
"""A filler address: tests tell database generations apart by its answer."""


def mmdb_writer() -> ModuleType:
    """mmdb-writer builds the databases; CI must have it."""
    return _need.mmdb_writer()


def _host_network(ip: str) -> str:
    address = ipaddress.ip_address(ip)
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _write(
    path: Path, database_type: str, rows: list[tuple[str, dict[str, Any]]], ip_version: int
) -> Path:
    writer_module = mmdb_writer()
    from netaddr import IPSet

    writer = writer_module.MMDBWriter(
        ip_version=ip_version,
        ipv4_compatible=ip_version == 6,
        database_type=database_type,
        int_type="u32",
    )
    for cidr, record in rows:
        writer.insert_network(IPSet([cidr]), record)
    writer.to_db_file(str(path))
    return path


def _filler(count: int) -> list[str]:
    return [f"{20 + i // 250}.{i % 250}.0.0/16" for i in range(count)]


def country_mmdb(
    path: Path,
    *,
    layout: str = "geoip2",
    answers: Mapping[str, str] | None = None,
    probe_country: str = "US",
    filler: int = FILLER_NETWORKS,
    ip_version: int = 6,
    database_type: str = "DBIP-Country-Lite",
) -> Path:
    """A country database answering ``answers`` (default: the known ones) and the probe."""
    known = dict(KNOWN_COUNTRIES) if answers is None else dict(answers)

    def record(cc: str, n: int) -> dict[str, Any]:
        if layout == "flat":
            return {"country_code": cc}
        return {"country": {"iso_code": cc, "geoname_id": n}, "continent": {"code": "EU"}}

    rows = [
        (cidr, record(probe_country if i == 0 else FILLER_COUNTRIES[i % 8], i))
        for i, cidr in enumerate(_filler(filler))
    ]
    rows += [
        (_host_network(ip), record(cc, 10_000 + i)) for i, (ip, cc) in enumerate(known.items())
    ]
    if ip_version == 4:
        rows = [(cidr, rec) for cidr, rec in rows if ":" not in cidr]
    return _write(path, database_type, rows, ip_version)


def asn_mmdb(
    path: Path,
    *,
    answers: Mapping[str, int] | None = None,
    filler: int = FILLER_NETWORKS,
    database_type: str = "DBIP-ASN-Lite (compat=GeoLite2-ASN)",
) -> Path:
    """An ASN database (GeoLite2-ASN keys) answering ``answers`` (default: the known ones)."""
    known = dict(KNOWN_ASNS) if answers is None else dict(answers)
    rows = [
        (
            cidr,
            {
                "autonomous_system_number": 64_512 + i,
                "autonomous_system_organization": f"Filler network {i}",
            },
        )
        for i, cidr in enumerate(_filler(filler))
    ]
    rows += [
        (
            _host_network(ip),
            {"autonomous_system_number": asn, "autonomous_system_organization": f"AS{asn}"},
        )
        for ip, asn in known.items()
    ]
    return _write(path, database_type, rows, 6)


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def tar_gz(members: Mapping[str, bytes], *, symlinks: Mapping[str, str] | None = None) -> bytes:
    """A ``.tar.gz`` holding ``members`` (name to bytes) and optional symlinks."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return raw.getvalue()


def maxmind_archive(edition: str, mmdb: bytes, stamp: str = "20261124") -> bytes:
    """A GeoLite2 download as MaxMind packs it: ``EDITION_YYYYMMDD/EDITION.mmdb`` and texts."""
    folder = f"{edition}_{stamp}"
    return tar_gz(
        {
            f"{folder}/COPYRIGHT.txt": b"Database and Contents Copyright (c) MaxMind, Inc.\n",
            f"{folder}/LICENSE.txt": b"Use of this MaxMind product is governed by ...\n",
            f"{folder}/{edition}.mmdb": mmdb,
        }
    )


def psl_bytes() -> bytes:
    """The repository's Public Suffix List snapshot."""
    return _resources.data_path("psl/public_suffix_list.dat").read_bytes()


def psl_with_version(stamp: str) -> bytes:
    """The snapshot with its ``VERSION`` line set to ``stamp`` (``2027-01-05_10-00-00_UTC``)."""
    lines = psl_bytes().decode().splitlines(keepends=True)
    out = [f"// VERSION: {stamp}\n" if line.startswith("// VERSION:") else line for line in lines]
    return "".join(out).encode()


def bootstrap_files(publication: str = "2026-11-20T18:00:01Z") -> dict[str, bytes]:
    """IANA-format RDAP bootstrap files with the registries' real service URLs."""
    ripe, arin = "https://rdap.db.ripe.net/", "https://rdap.arin.net/registry/"
    services: dict[str, list[list[list[str]]]] = {
        "ipv4": [[["193.0.0.0/8", "88.0.0.0/8"], [ripe]], [["3.0.0.0/8"], [arin]]],
        "ipv6": [[["2001:4000::/23"], [ripe]], [["2600::/12"], [arin]]],
        "asn": [[["3154-3353", "3354-4661"], [ripe, arin]]],
        "dns": [[["com", "net"], ["https://rdap.verisign.com/com/v1/"]]],
    }
    return {
        kind: json.dumps(
            {
                "description": f"RDAP bootstrap file for {kind} (test copy)",
                "publication": publication,
                "services": entries,
                "version": "1.0",
            },
            indent=1,
        ).encode()
        for kind, entries in services.items()
    }


def _provider_ranges(provider_id: str) -> list[str]:
    table = json.loads(_resources.data_path("providers.json").read_bytes())
    record = next(p for p in table["providers"] if p["id"] == provider_id)
    return list(record["ranges"])


def cloudflare_lists(*, drop_last_v4: bool = True) -> tuple[bytes, bytes]:
    """Cloudflare's ``ips-v4`` and ``ips-v6`` as the repository's table has them.

    ``drop_last_v4`` leaves one network out, so the refreshed table differs.
    """
    ranges = _provider_ranges("cloudflare")
    v4 = [r for r in ranges if ":" not in r]
    v6 = [r for r in ranges if ":" in r]
    if drop_last_v4:
        v4 = v4[:-1]
    return ("\n".join(v4) + "\n").encode(), ("\n".join(v6) + "\n").encode()


def cloudfront_list() -> bytes:
    """AWS's CloudFront list, split into its two keys, from the repository's table."""
    ranges = [r for r in _provider_ranges("aws_cloudfront") if ":" not in r]
    half = len(ranges) // 2
    return json.dumps(
        {
            "CLOUDFRONT_GLOBAL_IP_LIST": ranges[:half],
            "CLOUDFRONT_REGIONAL_EDGE_IP_LIST": ranges[half:],
        }
    ).encode()


def with_build_epoch(mmdb: bytes, epoch: int) -> bytes:
    """The same database with its metadata's ``build_epoch`` set to ``epoch`` (up to 2**64-1).

    mmdb-writer always stamps the current time; publishers' files have their own
    dates, and a hostile one any uint64. The metadata map is the file's last part and
    holds no pointers, so the value is re-encoded in place as an 8-byte uint64.
    """
    start = mmdb.rindex(b"\xab\xcd\xefMaxMind.com")
    at = mmdb.index(b"build_epoch", start) + len(b"build_epoch")
    control, extended = mmdb[at], mmdb[at + 1]
    if control >> 5 != 0 or extended != 2:  # type 0 = extended; 7 + 2 = uint64
        raise ValueError("build_epoch is not stored as a uint64")
    size = control & 0x1F
    return mmdb[:at] + bytes([0x08, 0x02]) + epoch.to_bytes(8, "big") + mmdb[at + 2 + size :]
