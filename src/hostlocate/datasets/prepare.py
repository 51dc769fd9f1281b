"""Turning one data set's downloads into a checked file and its manifest fields.

One step per data set, each under a temporary name in the target folder; nothing
here touches the data in use, which is :mod:`hostlocate.datasets.updating`'s job.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from hostlocate.datasets.checks import (
    _check_size,
    _collapse,
    _Network,
    check_bootstrap,
    check_data_date,
    check_mmdb,
    check_psl,
    parse_cidr_list,
    parse_cloudfront,
    public_https_services,
)
from hostlocate.datasets.download import (
    PUBLISHERS,
    Limits,
    _Fetcher,
    _Refused,
    _Unavailable,
    gunzip_limited,
    untar_member,
)
from hostlocate.datasets.resolution import resolve
from hostlocate.datasets.sets import RDAP_KINDS, iso, parse_date
from hostlocate.errors import DataError
from hostlocate.models import SourceInfo

_INCOMING = ".incoming-"


@dataclasses.dataclass
class _Prepared:
    """A checked download, still under a temporary name, and its manifest fields."""

    name: str
    temp: Path
    """The file; for the RDAP bootstrap a folder of its four files."""
    fields: dict[str, Any]


@dataclasses.dataclass
class _Context:
    target: Path
    fetcher: _Fetcher
    limits: Mapping[str, Limits]
    vendor: str
    now: datetime
    temps: list[Path] = dataclasses.field(default_factory=list)

    def temp(self, subdir: str, suffix: str) -> Path:
        folder = self.target / subdir
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=_INCOMING, suffix=suffix, dir=folder)
        os.close(fd)
        self.temps.append(Path(name))
        return Path(name)

    def temp_dir(self, subdir: str) -> Path:
        folder = self.target / subdir
        folder.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=_INCOMING, dir=folder))
        self.temps.append(path)
        return path

    def cleanup(self) -> None:
        for path in self.temps:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _prepare_geo(ctx: _Context, name: str) -> _Prepared:
    kind = "country" if name == "geoip_country" else "asn"
    limits = ctx.limits["mmdb"]
    packed = ctx.temp("geo", ".download")
    url = ctx.fetcher.fetch(f"{ctx.vendor}-{kind}", packed, limits.download)
    mmdb = ctx.temp("geo", ".mmdb")
    if ctx.vendor == "maxmind":
        member = untar_member(packed, mmdb, suffix=".mmdb", max_bytes=limits.unpacked)
        stamp = re.search(r"_(\d{8})/", member)  # GeoLite2-Country_20261124/...
    else:
        gunzip_limited(packed, mmdb, max_bytes=limits.unpacked)
        stamp = re.search(r"(\d{4}-\d{2})\.mmdb", url)  # dbip-country-lite-2026-11.mmdb.gz
    packed.unlink()
    _check_size(mmdb, limits, f"{kind} database")
    facts = check_mmdb(mmdb, kind)
    check_data_date(parse_date(facts.build_date), ctx.now, f"the {kind} database")
    version = stamp.group(1) if stamp else facts.build_date[:10]
    publisher = PUBLISHERS[ctx.vendor]
    return _Prepared(
        name,
        mmdb,
        {
            "title": f"{facts.database_type} {version}",
            "source": f"downloaded by hostlocate data update from {url}",
            "upstream": publisher.upstream,
            "version": version,
            "build_date": facts.build_date,
            "licence": publisher.licence,
            "attribution": publisher.attribution,
            "url": url,
        },
    )


def _prepare_psl(ctx: _Context, name: str) -> _Prepared:
    limits = ctx.limits["psl"]
    path = ctx.temp("psl", ".dat")
    url = ctx.fetcher.fetch("psl", path, limits.download)
    _check_size(path, limits, "public suffix list")
    version = check_psl(path)
    when = parse_date(version)
    check_data_date(when, ctx.now, "the public suffix list")
    publisher = PUBLISHERS["psl"]
    return _Prepared(
        name,
        path,
        {
            "title": f"Public Suffix List (VERSION {version or 'not stated'})",
            "source": f"downloaded by hostlocate data update from {url}",
            "upstream": publisher.upstream,
            "version": version,
            "build_date": iso(when) if when else iso(ctx.now),
            "licence": publisher.licence,
            "attribution": publisher.attribution,
            "url": url,
        },
    )


def _keep_public_https(path: Path) -> None:
    """Rewrite a downloaded bootstrap file with only its public https services.

    Unlike a folder the user names (``--rdap-bootstrap``), a download is not
    trusted with ``http://`` or loopback and private services.
    """
    try:
        doc = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError):
        return  # check_bootstrap refuses it with the reason
    kept, dropped = public_https_services(doc)
    if dropped:
        path.write_text(json.dumps(kept, indent=1) + "\n", encoding="utf-8")


def _prepare_rdap(ctx: _Context, name: str) -> _Prepared:
    limits = ctx.limits["rdap"]
    folder = ctx.temp_dir("rdap")
    urls: list[str] = []
    stamps: list[str] = []
    for kind in RDAP_KINDS:
        path = folder / f"{kind}.json"
        urls.append(ctx.fetcher.fetch(f"rdap-{kind}", path, limits.download))
        _check_size(path, limits, f"RDAP bootstrap {kind}.json")
        _keep_public_https(path)
        published = check_bootstrap(kind, path)
        check_data_date(parse_date(published), ctx.now, f"RDAP bootstrap {kind}.json")
        if published:
            stamps.append(published)
    publisher = PUBLISHERS["iana"]
    return _Prepared(
        name,
        folder,
        {
            "title": "IANA RDAP bootstrap registries"
            + (f" (published up to {max(stamps)})" if stamps else ""),
            "source": "downloaded by hostlocate data update from " + ", ".join(urls),
            "upstream": publisher.upstream,
            "version": max(stamps) if stamps else None,
            # IANA republishes a file only when it changes: age counts from the check.
            "build_date": iso(ctx.now),
            "licence": publisher.licence,
            "attribution": publisher.attribution,
            "url": " ".join(urls),
        },
    )


_RANGE_FEEDS: Mapping[str, tuple[tuple[str, int], ...]] = {
    "cloudflare": (("cloudflare-ipv4", 4), ("cloudflare-ipv6", 6)),
    "aws_cloudfront": (("cloudfront", 4),),
}
"""Provider ids whose ranges are replaced, and the sources (with the IP version each
covers) that give them; ranges of a version no source covers are kept."""


def _feed_networks(key: str, body: bytes, version: int) -> list[_Network]:
    if key == "cloudfront":
        return parse_cloudfront(body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Refused(f"{key} is not text: {exc}") from None
    return parse_cidr_list(text, version, what=key)


def _prepare_providers(ctx: _Context, name: str) -> _Prepared:
    from hostlocate.providers import ProviderTable

    limits = ctx.limits["ranges"]
    base = resolve(None, user_dir=ctx.target).get("providers")
    if base is None:  # pragma: no cover - the bundled table is always there
        raise _Unavailable("no provider table to refresh")
    urls: list[str] = []
    fresh: dict[str, tuple[set[int], list[_Network]]] = {}
    for provider_id, feeds in _RANGE_FEEDS.items():
        versions, networks = fresh.setdefault(provider_id, (set(), []))
        for key, version in feeds:
            path = ctx.temp("", ".ranges")
            urls.append(ctx.fetcher.fetch(key, path, limits.download))
            _check_size(path, limits, key)
            networks.extend(_feed_networks(key, path.read_bytes(), version))
            versions.add(version)
    table = json.loads(base.path.read_bytes())
    today = ctx.now.strftime("%Y-%m-%d")
    seen = set()
    for record in table["providers"]:
        found = fresh.get(record["id"])
        if found is None:
            continue
        versions, networks = found
        kept = [r for r in record.get("ranges", []) if (6 if ":" in r else 4) not in versions]
        record["ranges"] = kept + _collapse(networks)
        record["ranges_date"] = today
        seen.add(record["id"])
    if seen != set(fresh):
        raise _Refused(f"the provider table has no record for {sorted(set(fresh) - seen)}")
    table["updated"] = today
    out = ctx.temp("", ".json")
    out.write_text(json.dumps(table, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    try:
        loaded = ProviderTable.load(out, source=SourceInfo(name="new"))
    except DataError as exc:
        raise _Refused(f"refreshed provider table does not load: {exc.message}") from None
    for ip in ("104.16.0.1", "2606:4700::1"):
        owner = loaded.by_address(ip, None)
        if owner is None or owner.id != "cloudflare":
            raise _Refused(f"refreshed provider table does not place {ip} at Cloudflare")
    entry = base.entry
    return _Prepared(
        name,
        out,
        {
            "title": f"hostlocate provider table, ranges refreshed {today}",
            "source": f"{entry.title} ({base.origin}), with the ranges of "
            + ", ".join(sorted(fresh))
            + " replaced from "
            + ", ".join(urls),
            "upstream": entry.upstream,
            "version": f"{entry.version or 'unversioned'}+ranges.{ctx.now.strftime('%Y%m%d')}",
            "build_date": iso(ctx.now),
            "licence": entry.licence,
            "attribution": entry.attribution,
            "url": " ".join(urls),
        },
    )


_PREPARE: Mapping[str, Callable[[_Context, str], _Prepared]] = {
    "geoip_country": _prepare_geo,
    "geoip_asn": _prepare_geo,
    "psl": _prepare_psl,
    "rdap_bootstrap": _prepare_rdap,
    "providers": _prepare_providers,
}
