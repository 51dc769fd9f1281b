"""The checks a downloaded file must pass before it may replace the data in use.

Each reads the file as the locator would and, where it can, asks it answers that
have been stable for years, so a truncated, wrong or implausible download is refused.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec

from hostlocate.datasets.download import Limits, _Refused
from hostlocate.datasets.sets import CLOCK_SKEW, iso
from hostlocate.errors import DataError
from hostlocate.models import SourceInfo

KNOWN_COUNTRIES: tuple[tuple[str, str], ...] = (
    ("193.0.6.139", "NL"),  # RIPE NCC, Amsterdam
    ("88.198.1.1", "DE"),  # Hetzner
    ("210.107.73.73", "KR"),  # LG DACOM
    ("2001:41d0:2:193d::5", "FR"),  # OVH
)
KNOWN_ASNS: tuple[tuple[str, int], ...] = (
    ("193.0.6.139", 3333),
    ("88.198.1.1", 24940),
    ("3.3.3.3", 16509),
    ("2001:41d0:2:193d::5", 16276),
)
"""Addresses whose answers have been stable for years: a new database must give at
least three of four (geolocation moves now and then), and the IPv6 one."""
KNOWN_SUFFIXES: tuple[str, ...] = ("com", "co.uk", "github.io")


EARLIEST_DATE = datetime(2000, 1, 1, tzinfo=UTC)
"""No data set here is older: an earlier date is a broken stamp, not a date."""


def check_data_date(when: datetime | None, now: datetime, what: str) -> None:
    """Refuse data dated before 2000 or in the future: a future date would always win.

    ``when`` None (no stamp) is left to the caller.
    """
    if when is None:
        return
    if when < EARLIEST_DATE:
        raise _Refused(f"{what} is dated {iso(when)}, which is not a plausible data date")
    if when > now + CLOCK_SKEW:
        raise _Refused(f"{what} is dated {iso(when)}, in the future (the clock says {iso(now)})")


def epoch_date(epoch: object) -> datetime | None:
    """A Unix time as a date; None for one no calendar holds (2**64-1, negative, not a number)."""
    try:
        seconds = int(epoch)  # type: ignore[call-overload]
        return datetime.fromtimestamp(seconds, UTC) if seconds >= 0 else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


class MmdbFacts(msgspec.Struct, frozen=True):
    """What a checked MaxMind-format database says about itself."""

    database_type: str
    build_date: str


def _check_size(path: Path, limits: Limits, what: str) -> None:
    size = path.stat().st_size
    if size < limits.minimum:
        raise _Refused(f"{what} is {size} bytes, less than the {limits.minimum} expected")
    if size > limits.unpacked:
        raise _Refused(f"{what} is {size} bytes, over the {limits.unpacked}-byte limit")


def check_mmdb(path: Path, kind: str) -> MmdbFacts:
    """Open a country or ASN database as the locator would and ask it the known addresses."""
    import maxminddb

    from hostlocate.sources.geo import GeoDatabase

    label = "country" if kind == "country" else "ASN"
    try:
        db = (
            GeoDatabase(path, None, country_source=SourceInfo(name="new"))
            if kind == "country"
            else GeoDatabase(None, path, asn_source=SourceInfo(name="new"))
        )
    except DataError as exc:
        raise _Refused(f"not a usable {label} database: {exc.message}") from None
    with db:
        got: list[tuple[str, object, object]] = []
        for ip, want in KNOWN_COUNTRIES if kind == "country" else KNOWN_ASNS:
            try:
                found = db.lookup(ip)
            except (DataError, ValueError) as exc:
                raise _Refused(f"{label} database fails on {ip}: {exc}") from None
            got.append((ip, want, found.country if kind == "country" else found.asn))
    right = [ip for ip, want, answer in got if answer == want]
    if len(right) < 3 or not any(":" in ip for ip in right):
        shown = ", ".join(f"{ip}: {answer} (expected {want})" for ip, want, answer in got)
        raise _Refused(f"{label} database gives implausible answers: {shown}")
    with maxminddb.open_database(str(path)) as reader:
        meta = reader.metadata()
    built = epoch_date(meta.build_epoch)
    if built is None:
        raise _Refused(f"{label} database's build date (epoch {meta.build_epoch}) is not a date")
    return MmdbFacts(str(meta.database_type), iso(built))


def check_psl(path: Path) -> str | None:
    """Refuse a list that is not UTF-8, lacks its section markers or a well-known suffix.

    Returns the list's ``VERSION`` stamp. The list is also loaded as the parser
    would load it and asked two registered domains.
    """
    from hostlocate.psl import PublicSuffixes

    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Refused(f"public suffix list is not UTF-8: {exc}") from None
    for marker in ("===BEGIN ICANN DOMAINS===", "===END PRIVATE DOMAINS==="):
        if marker not in text:
            raise _Refused(f"public suffix list lacks its {marker} line (truncated or not a PSL)")
    rules = {line.strip() for line in text.splitlines() if line and not line.startswith("//")}
    for rule in KNOWN_SUFFIXES:
        if rule not in rules:
            raise _Refused(f"public suffix list lacks the rule {rule}")
    matcher = PublicSuffixes(path)
    try:
        answers = (
            matcher.registered_domain("www.example.co.uk"),
            matcher.registered_domain("a.b.github.io"),
        )
    except DataError as exc:
        raise _Refused(f"public suffix list does not load: {exc.message}") from None
    if answers != ("example.co.uk", "b.github.io"):
        raise _Refused(f"public suffix list gives implausible registered domains: {answers}")
    version = re.search(r"^// VERSION: *(\S+)", text, re.MULTILINE)
    return version.group(1) if version else None


_BOOTSTRAP_PROBES: Mapping[str, Callable[[Any], list[str]]] = {
    "ipv4": lambda b: b.service_for_ip("193.0.6.139"),
    "ipv6": lambda b: b.service_for_ip("2001:41d0::1"),
    "asn": lambda b: b.service_for_asn(3333),
    "dns": lambda b: b.service_for_domain("example.com"),
}


def check_bootstrap(kind: str, path: Path) -> str | None:
    """Refuse a bootstrap file that is not IANA's format or has no service for a known key.

    Returns its ``publication`` stamp.
    """
    from hostlocate.sources.bootstrap import Bootstrap

    try:
        doc = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Refused(f"RDAP bootstrap {kind}.json is not JSON: {exc}") from None
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, list) or not services:
        raise _Refused(f"RDAP bootstrap {kind}.json has no services")
    try:
        bootstrap = Bootstrap({kind: doc}, origin="user")
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise _Refused(f"RDAP bootstrap {kind}.json is not in IANA's format: {exc}") from None
    if not _BOOTSTRAP_PROBES[kind](bootstrap):
        raise _Refused(f"RDAP bootstrap {kind}.json names no service for a well-known {kind} key")
    publication = doc.get("publication")
    return publication if isinstance(publication, str) else None


def _public_https(url: object) -> bool:
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme.lower() != "https" or not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return True  # a name: resolved when it is used, like IANA's own


def public_https_services(doc: Any) -> tuple[Any, int]:
    """A downloaded bootstrap document with only its https services on public hosts.

    A downloaded file is not the user's own: its ``http://`` services could be
    read or rewritten on the way, and loopback or private ones would send
    queries inside the user's network. Entries left without a service go.
    Returns the document and how many service URLs were dropped.
    """
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, list):
        return doc, 0
    kept: list[Any] = []
    dropped = 0
    for entry in services:
        if not (isinstance(entry, list) and len(entry) >= 2 and isinstance(entry[-1], list)):
            kept.append(entry)  # the format check refuses it
            continue
        urls = [u for u in entry[-1] if _public_https(u)]
        dropped += len(entry[-1]) - len(urls)
        if urls:
            kept.append([*entry[:-1], urls])
    return {**doc, "services": kept}, dropped


_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_cidr_list(text: str, version: int, *, what: str) -> list[_Network]:
    """One CIDR a line, all of one IP version (Cloudflare's ``ips-v4``/``ips-v6``)."""
    networks: list[_Network] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            net = ipaddress.ip_network(line, strict=True)
        except ValueError:
            raise _Refused(f"{what}, line {number}: not a network: {line[:60]!r}") from None
        if net.version != version:
            raise _Refused(f"{what}, line {number}: {line} is not IPv{version}")
        networks.append(net)
    if not networks:
        raise _Refused(f"{what} lists no networks")
    return networks


def parse_cloudfront(body: bytes) -> list[_Network]:
    """AWS's list of CloudFront edge ranges (global and regional edge caches)."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Refused(f"CloudFront list is not JSON: {exc}") from None
    keys = ("CLOUDFRONT_GLOBAL_IP_LIST", "CLOUDFRONT_REGIONAL_EDGE_IP_LIST")
    if not isinstance(doc, dict) or not all(isinstance(doc.get(k), list) for k in keys):
        raise _Refused(f"CloudFront list lacks {' and '.join(keys)}")
    networks: list[_Network] = []
    for key in keys:
        for item in doc[key]:
            try:
                networks.append(ipaddress.ip_network(str(item), strict=True))
            except ValueError:
                raise _Refused(f"CloudFront list, {key}: not a network: {item!r:.60}") from None
    if len(networks) < 10:
        raise _Refused(f"CloudFront list has only {len(networks)} networks")
    return networks


def _collapse(networks: Sequence[_Network]) -> list[str]:
    v4 = [n for n in networks if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in networks if isinstance(n, ipaddress.IPv6Network)]
    return [str(n) for n in ipaddress.collapse_addresses(v4)] + [
        str(n) for n in ipaddress.collapse_addresses(v6)
    ]
