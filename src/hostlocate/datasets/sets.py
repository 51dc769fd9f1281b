"""The table of data sets, the user data folder and the dates manifests carry.

Every other part of the package reads these names, limits and dates; they need
nothing from the rest of it, so they sit at the bottom of its imports.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import platformdirs

from hostlocate._resources import ManifestEntry

# -- the data sets ------------------------------------------------------------------

DATASETS: tuple[str, ...] = (
    "geoip_country",
    "geoip_asn",
    "psl",
    "providers",
    "hotlines",
    "platforms",
    "rdap_bootstrap",
)
"""Every data set, by the name its manifest entries carry."""

REQUIRED: frozenset[str] = frozenset(DATASETS[:6])
"""Data sets a verdict cannot be made without (without an RDAP bootstrap, RDAP starts at ARIN)."""

UPDATABLE: tuple[str, ...] = ("geoip_country", "geoip_asn", "psl", "rdap_bootstrap", "providers")
"""Data sets with a publisher download; the hotline table comes with releases only."""

PROVENANCE_KEYS: Mapping[str, str] = {"psl": "public_suffix_list"}
"""Data sets whose key in ``provenance.sources`` differs from their name."""

MAX_AGE_DAYS: Mapping[str, int] = {
    "geoip_country": 45,  # DB-IP Lite is monthly, GeoLite2 twice a week
    "geoip_asn": 45,
    "psl": 30,  # the list changes weekly; new suffixes matter for registered domains
    "providers": 90,  # published CDN ranges change a few times a year
    "hotlines": 180,  # membership changes slowly
    "platforms": 180,  # platforms' seats and report pages change slowly
    # IANA's registries: a download's age counts from when it was fetched, the
    # bundled copy's from the registries' own date.
    "rdap_bootstrap": 7,
}
"""Age, in days, past which ``hostlocate data status`` warns."""

CLOCK_SKEW = timedelta(hours=1)
"""How far in the future a data date may lie before the data is refused: clocks differ,
but a copy dated later than that would win over every other copy until then."""

# -- publishers: the command line names them, so they need no download code -----------

SOURCES: Mapping[str, str] = {
    # DB-IP Lite, published monthly; {month} is YYYY-MM (db-ip.com/db/lite.php).
    "dbip-country": "https://download.db-ip.com/free/dbip-country-lite-{month}.mmdb.gz",
    "dbip-asn": "https://download.db-ip.com/free/dbip-asn-lite-{month}.mmdb.gz",
    # MaxMind GeoLite2 with the user's licence key; answers with a redirect to storage.
    "maxmind-country": "https://download.maxmind.com/app/geoip_download"
    "?edition_id=GeoLite2-Country&license_key={licence_key}&suffix=tar.gz",
    "maxmind-asn": "https://download.maxmind.com/app/geoip_download"
    "?edition_id=GeoLite2-ASN&license_key={licence_key}&suffix=tar.gz",
    "psl": "https://publicsuffix.org/list/public_suffix_list.dat",
    # IANA's RDAP bootstrap registries (RFC 9224); the same as
    # hostlocate.sources.bootstrap.IANA_BOOTSTRAP_URLS (a unit test keeps them equal).
    "rdap-ipv4": "https://data.iana.org/rdap/ipv4.json",
    "rdap-ipv6": "https://data.iana.org/rdap/ipv6.json",
    "rdap-asn": "https://data.iana.org/rdap/asn.json",
    "rdap-dns": "https://data.iana.org/rdap/dns.json",
    # Providers' own range lists, for the providers the table matches by range.
    "cloudflare-ipv4": "https://www.cloudflare.com/ips-v4",
    "cloudflare-ipv6": "https://www.cloudflare.com/ips-v6",
    "cloudfront": "https://d7uri8nf7uskq.cloudfront.net/tools/list-cloudfront-ips",
}
"""Where each download comes from; ``--source NAME=URL`` replaces one."""
VENDORS: tuple[str, ...] = ("dbip", "maxmind")
"""GeoIP publishers ``hostlocate data update`` can download from."""
DEFAULT_TIMEOUT = 60.0
"""Seconds to wait for a connection or for the next bytes of a download."""

USER_DIR_ENV = "HOSTLOCATE_USER_DATA_DIR"
"""Environment variable naming the user data folder (default: the platform's)."""
LICENCE_KEY_ENV = "MAXMIND_LICENSE_KEY"
RDAP_KINDS: tuple[str, ...] = ("ipv4", "ipv6", "asn", "dns")

_REFRESH_HINT: Mapping[str, str] = {
    "hotlines": "a newer hostlocate release carries a newer table",
    "platforms": "a newer hostlocate release carries a newer table",
}
_ABSENT: Mapping[str, str] = {
    "rdap_bootstrap": "not in this folder: the RDAP client fetches IANA's files when first "
    "needed and caches them",
}
_NO_DOMAINS = (
    "IP address services only (no dns.json): domain registrar look-ups need "
    "`hostlocate data update rdap_bootstrap`"
)


def user_data_dir() -> Path:
    """The user data folder: ``$HOSTLOCATE_USER_DATA_DIR`` or the platform's data folder."""
    configured = os.environ.get(USER_DIR_ENV)
    if configured:
        return Path(configured)
    return Path(platformdirs.user_data_dir("hostlocate", appauthor=False))


# -- dates ---------------------------------------------------------------------------

_PSL_STAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})_(\d{2})-(\d{2})-(\d{2})_UTC")


def parse_date(text: str | None) -> datetime | None:
    """A data date as an aware datetime: ISO 8601 (date or date-time) or the PSL's stamp."""
    if not text:
        return None
    text = text.strip()
    stamp = _PSL_STAMP.fullmatch(text)
    try:
        if stamp:
            y, mo, d, h, mi, s = (int(g) for g in stamp.groups())
            return datetime(y, mo, d, h, mi, s, tzinfo=UTC)
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def iso(when: datetime) -> str:
    """UTC, to the second, with a ``Z``: the form manifests use."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_newer(candidate: ManifestEntry, reference: ManifestEntry | None) -> bool:
    """True when ``candidate`` should replace ``reference``: its data date is later.

    Anything replaces nothing; an undated copy never replaces a dated one.
    """
    if reference is None:
        return True
    mine = parse_date(candidate.build_date)
    if mine is None:
        return False
    theirs = parse_date(reference.build_date)
    return theirs is None or mine > theirs
