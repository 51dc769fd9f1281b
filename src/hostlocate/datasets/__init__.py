"""``hostlocate data``: which data a verdict rests on, where it came from, and refreshing it.

A data set is read from one of three folders, each described by a
``MANIFEST.json`` of the same format (see :mod:`hostlocate._resources`):

* ``bundled``: the package's own folder, never written at run time;
* ``user``: the user data folder, written only by ``hostlocate data update``;
* ``path``: a folder given as ``--data-dir`` / ``data_dir=``. It pins every
  data set and nothing else is consulted, so the same inputs and the same DNS
  and RDAP answers give the same verdict.

Without a pinned folder, a user copy is used when its data date is later than
the bundled copy's: a package upgrade that brings newer data wins over an old
download. Every file is hashed against its manifest before it is read.

An update downloads into the user folder, checks the download (format, size
bounds, parse, a few known answers), moves it to a new content-addressed name
through a synced temporary file and one rename, and only then commits by
replacing the manifest atomically. The previous generation stays on disk, so a
process that opened it keeps reading whole files, and a refused download
leaves the old data in use.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gzip
import hashlib
import ipaddress
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol, TextIO
from urllib.parse import quote, urljoin, urlsplit

import msgspec
import platformdirs

from hostlocate import _resources
from hostlocate._resources import MANIFEST_NAME, DataFolder, ManifestEntry
from hostlocate.errors import ConfigError, DataError
from hostlocate.models import SourceInfo

if TYPE_CHECKING:
    import httpx

    from hostlocate.geo import GeoDatabase
    from hostlocate.hotlines import HotlineDirectory
    from hostlocate.providers import ProviderTable
    from hostlocate.psl import PublicSuffixes

# -- the data sets ------------------------------------------------------------------

DATASETS: tuple[str, ...] = (
    "geoip_country",
    "geoip_asn",
    "psl",
    "providers",
    "hotlines",
    "rdap_bootstrap",
)
"""Every data set, by the name its manifest entries carry."""

REQUIRED: frozenset[str] = frozenset(DATASETS[:5])
"""Data sets a verdict cannot be made without (the RDAP bootstrap can be fetched)."""

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
    "rdap_bootstrap": 7,  # IANA's registries; measured from when the copy was fetched
}
"""Age, in days, past which ``hostlocate data status`` warns."""

USER_DIR_ENV = "HOSTLOCATE_USER_DATA_DIR"
"""Environment variable naming the user data folder (default: the platform's)."""
LICENCE_KEY_ENV = "MAXMIND_LICENSE_KEY"
RDAP_KINDS: tuple[str, ...] = ("ipv4", "ipv6", "asn", "dns")

_REFRESH_HINT: Mapping[str, str] = {
    "hotlines": "a newer hostlocate release carries a newer table",
}
_ABSENT: Mapping[str, str] = {
    "rdap_bootstrap": "not downloaded: the RDAP client fetches IANA's files when first needed "
    "and caches them",
}


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


# -- resolution ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DataSet:
    """One data set as it will be read: its folder, its files and what the manifest says."""

    name: str
    origin: str
    """``bundled``, ``user`` or ``path`` (a pinned folder)."""
    folder: DataFolder
    files: tuple[str, ...]
    """Its files, relative to the folder (four for the RDAP bootstrap)."""
    entry: ManifestEntry
    path: Path
    """The file to read; for the RDAP bootstrap, the folder holding its files."""

    @property
    def source(self) -> SourceInfo:
        """Its provenance record, as verdicts carry it."""
        return _resources.make_source_info(self.entry, self.origin)


def _load_set(folder: DataFolder, name: str, members: tuple[str, ...]) -> DataSet:
    paths = [folder.path(rel) for rel in members]  # hashes each file, once per manifest
    _, entry = folder.entry(members[0])
    if name == "rdap_bootstrap":
        parents = {p.parent for p in paths}
        if len(parents) != 1 or not {"ipv4.json", "ipv6.json"} <= {p.name for p in paths}:
            raise DataError(
                f"{folder.root}: the rdap_bootstrap files must share one folder and include "
                "ipv4.json and ipv6.json",
                path=str(folder.root),
            )
        path = parents.pop()
    elif len(members) != 1:
        raise DataError(
            f"{folder.root / MANIFEST_NAME} lists {len(members)} files for {name}, not one",
            path=str(folder.root / MANIFEST_NAME),
        )
    else:
        path = paths[0]
    return DataSet(name, folder.origin, folder, members, entry, path)


@dataclasses.dataclass(frozen=True)
class ResolvedData:
    """The data a locator reads: one :class:`DataSet` per name, chosen by :func:`resolve`."""

    sets: Mapping[str, DataSet]
    pinned: Path | None = None
    """The ``--data-dir`` folder when every data set is pinned."""
    user_dir: Path | None = None
    """The user folder that was considered (None when pinned)."""
    notes: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Why a user copy was not used, by data set name."""

    def get(self, name: str) -> DataSet | None:
        return self.sets.get(name)

    def path(self, name: str) -> Path | None:
        """The file (or, for ``rdap_bootstrap``, the folder) of a data set."""
        found = self.sets.get(name)
        return None if found is None else found.path

    def source_info(self, name: str) -> SourceInfo | None:
        found = self.sets.get(name)
        return None if found is None else found.source

    def sources(self) -> dict[str, SourceInfo]:
        """Provenance of every resolved data set, keyed as ``provenance.sources`` is."""
        return {PROVENANCE_KEYS.get(n, n): ds.source for n, ds in self.sets.items()}

    @property
    def rdap_bootstrap(self) -> Path | None:
        """A folder of IANA-format bootstrap files, when one was downloaded or pinned."""
        return self.path("rdap_bootstrap")

    def _need(self, name: str) -> DataSet:
        found = self.sets.get(name)
        if found is None:
            raise DataError(f"no {name} data set")
        return found

    def geo_database(
        self,
        country: str | os.PathLike[str] | None = None,
        asn: str | os.PathLike[str] | None = None,
    ) -> GeoDatabase:
        """The GeoIP databases; an explicit ``country``/``asn`` path wins over the data set."""
        from hostlocate.geo import GeoDatabase

        c, a = self._need("geoip_country"), self._need("geoip_asn")
        return GeoDatabase(
            country if country is not None else c.path,
            asn if asn is not None else a.path,
            country_source=None if country is not None else c.source,
            asn_source=None if asn is not None else a.source,
        )

    def provider_table(self) -> ProviderTable:
        from hostlocate.providers import ProviderTable

        found = self._need("providers")
        return ProviderTable.load(found.path, source=found.source)

    def hotline_directory(self) -> HotlineDirectory:
        from hostlocate.hotlines import HotlineDirectory

        found = self._need("hotlines")
        return HotlineDirectory.load(found.path, source=found.source)

    def public_suffixes(self) -> PublicSuffixes:
        from hostlocate.psl import PublicSuffixes

        return PublicSuffixes(self._need("psl").path)


def resolve(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    user_dir: str | os.PathLike[str] | None = None,
) -> ResolvedData:
    """Which copy of each data set to read.

    ``data_dir`` pins every data set to that folder (a copy of ``data/``, of the
    user folder, or one written by :func:`export`); a required data set it does
    not list, or a file that does not match its manifest, raises
    :class:`~hostlocate.errors.DataError`. Without it, each data set comes from
    the user folder (``user_dir``, default :func:`user_data_dir`) when that copy
    is newer than the bundled one and intact, else from the bundled folder.
    """
    if data_dir is not None:
        root = Path(os.fspath(data_dir))
        if not root.is_dir():
            raise DataError(f"data folder not found: {root}", path=str(root))
        folder = _resources.folder(root, origin="path")
        folder.entries()
        pinned: dict[str, DataSet] = {}
        for name in DATASETS:
            members = folder.members(name)
            if members:
                pinned[name] = _load_set(folder, name, members)
            elif name in REQUIRED:
                raise DataError(
                    f"{root} pins no {name} data: its {MANIFEST_NAME} lists none "
                    "(write a complete folder with `hostlocate data export DIR`)",
                    path=str(root),
                )
        return ResolvedData(pinned, pinned=root)

    home = Path(os.fspath(user_dir)) if user_dir is not None else user_data_dir()
    bundled = _resources.bundled()
    notes: dict[str, str] = {}
    user: DataFolder | None = None
    if (home / MANIFEST_NAME).is_file():
        user = _resources.folder(home, origin="user")
        try:
            user.entries()
        except DataError as exc:
            notes["user folder"] = f"not used: {exc.message}"
            user = None
    sets: dict[str, DataSet] = {}
    for name in DATASETS:
        shipped = bundled.members(name)
        shipped_entry = bundled.entry(shipped[0])[1] if shipped else None
        mine = user.members(name) if user is not None else ()
        if user is not None and mine:
            entry = user.entry(mine[0])[1]
            if is_newer(entry, shipped_entry):
                try:
                    sets[name] = _load_set(user, name, mine)
                    continue
                except DataError as exc:
                    notes[name] = f"user copy not used: {exc.message}"
            elif shipped_entry is not None:
                notes[name] = (
                    f"user copy ({entry.build_date or 'undated'}) is not newer than the "
                    f"bundled one ({shipped_entry.build_date}); the bundled one is used"
                )
        if shipped:
            sets[name] = _load_set(bundled, name, shipped)
    return ResolvedData(sets, user_dir=home, notes=notes)


# -- status --------------------------------------------------------------------------


class DataStatus(msgspec.Struct, frozen=True, kw_only=True):
    """One line of ``hostlocate data status``."""

    name: str
    origin: str | None
    """``bundled``, ``user``, ``path``, or None when the data set is absent."""
    title: str | None = None
    version: str | None = None
    build_date: str | None = None
    age_days: int | None = None
    max_age_days: int
    stale: bool = False
    licence: str | None = None
    attribution: str | None = None
    url: str | None = None
    fetched_at: str | None = None
    path: str | None = None
    note: str | None = None


def status(
    resolved: ResolvedData,
    *,
    now: datetime | None = None,
    max_age: Mapping[str, int] | None = None,
) -> list[DataStatus]:
    """Each data set with its date, age and origin; ``stale`` past its age limit."""
    now = now or datetime.now(UTC)
    limits = {**MAX_AGE_DAYS, **(max_age or {})}
    rows: list[DataStatus] = []
    for name in DATASETS:
        found = resolved.get(name)
        note = resolved.notes.get(name)
        if found is None:
            rows.append(
                DataStatus(
                    name=name,
                    origin=None,
                    max_age_days=limits[name],
                    note=note or _ABSENT.get(name),
                )
            )
            continue
        entry = found.entry
        when = parse_date(entry.build_date)
        age = None if when is None else max(0, int((now - when).total_seconds() // 86_400))
        rows.append(
            DataStatus(
                name=name,
                origin=found.origin,
                title=entry.title,
                version=entry.version,
                build_date=entry.build_date,
                age_days=age,
                max_age_days=limits[name],
                stale=age is not None and age > limits[name],
                licence=entry.licence,
                attribution=entry.attribution,
                url=entry.url,
                fetched_at=entry.fetched_at,
                path=str(found.path),
                note=note if note is not None else (None if when else "no data date"),
            )
        )
    return rows


def stale_warnings(rows: Sequence[DataStatus]) -> list[str]:
    """One sentence per data set past its age limit, saying how to refresh it."""
    return [
        f"{row.name} data is {row.age_days} days old, past its {row.max_age_days}-day limit; "
        + _REFRESH_HINT.get(row.name, f"refresh it with `hostlocate data update {row.name}`")
        for row in rows
        if row.stale
    ]


# -- publishers ----------------------------------------------------------------------

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


@dataclasses.dataclass(frozen=True)
class _Publisher:
    upstream: str
    licence: str | None
    attribution: str | None


PUBLISHERS: Mapping[str, _Publisher] = {
    "dbip": _Publisher(
        "DB-IP Lite databases, monthly (https://db-ip.com/db/lite.php)",
        "CC-BY-4.0",
        "IP Geolocation by DB-IP (https://db-ip.com), CC-BY-4.0",
    ),
    "maxmind": _Publisher(
        "MaxMind GeoLite2 (https://www.maxmind.com), downloaded with the user's licence key",
        "GeoLite2 End User License Agreement (https://www.maxmind.com/en/geolite2/eula)",
        "This product includes GeoLite2 data created by MaxMind, available from "
        "https://www.maxmind.com",
    ),
    "psl": _Publisher(
        "Public Suffix List (https://publicsuffix.org)",
        "MPL-2.0",
        "Public Suffix List, Mozilla Foundation and contributors, MPL-2.0 "
        "(https://publicsuffix.org)",
    ),
    "iana": _Publisher(
        "IANA RDAP bootstrap registries, RFC 9224 (https://data.iana.org/rdap/)",
        None,
        "RDAP bootstrap registries published by IANA (https://www.iana.org)",
    ),
}
VENDORS: tuple[str, ...] = ("dbip", "maxmind")


class Limits(msgspec.Struct, frozen=True):
    """Size bounds of one kind of download, in bytes."""

    download: int
    """The most bytes accepted from the wire."""
    unpacked: int
    """The most bytes a compressed download may unpack to."""
    minimum: int
    """The smallest plausible file: less is a truncated or wrong download."""


LIMITS: Mapping[str, Limits] = {
    "mmdb": Limits(download=256 << 20, unpacked=512 << 20, minimum=16 << 10),
    "psl": Limits(download=16 << 20, unpacked=16 << 20, minimum=64 << 10),
    "rdap": Limits(download=4 << 20, unpacked=4 << 20, minimum=64),
    "ranges": Limits(download=4 << 20, unpacked=4 << 20, minimum=16),
}

DEFAULT_TIMEOUT = 60.0
"""Seconds to wait for a connection or for the next bytes of a download."""
DOWNLOAD_BUDGET = 900.0
"""Seconds one download may take in all."""
MAX_REDIRECTS = 5

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


class _Refused(Exception):
    """A download arrived but is not acceptable."""


class _Unavailable(Exception):
    """A download could not be made: network, HTTP status, missing licence key."""


class _NotFound(_Unavailable):
    pass


# -- downloading ---------------------------------------------------------------------


_KEY_PARAM = re.compile(r"(?i)(license_key=)[^&#]*")


@dataclasses.dataclass
class _Fetcher:
    """Downloads one source into a file: https only (but for user-given URLs), capped."""

    client: httpx.Client
    overrides: Mapping[str, str]
    licence_key: str | None
    now: datetime
    budget: float = DOWNLOAD_BUDGET

    def redact(self, text: str) -> str:
        text = _KEY_PARAM.sub(r"\1REDACTED", text)
        if self.licence_key:
            for form in {self.licence_key, quote(self.licence_key, safe="")}:
                text = text.replace(form, "REDACTED")
        return text

    def _months(self) -> list[str]:
        first = self.now.astimezone(UTC).replace(day=1)
        previous = first - timedelta(days=1)
        return [first.strftime("%Y-%m"), previous.strftime("%Y-%m")]

    def _fill(self, template: str, month: str = "") -> str:
        key = quote(self.licence_key or "", safe="")
        return template.replace("{month}", month).replace("{licence_key}", key)

    def fetch(self, key: str, dest: Path, max_bytes: int) -> str:
        """Download source ``key`` into ``dest``; the (redacted) URL it came from."""
        given = self.overrides.get(key)
        if given is not None:
            candidates = [self._fill(given, self._months()[0])]
        else:
            template = SOURCES[key]
            if "{licence_key}" in template and not self.licence_key:
                raise _Unavailable(
                    "MaxMind downloads need a licence key: --maxmind-licence-key KEY or "
                    f"{LICENCE_KEY_ENV}"
                )
            # This month's DB-IP file appears in its first days: fall back to last month's.
            months = self._months() if "{month}" in template else [""]
            candidates = [self._fill(template, month) for month in months]
        missing: _NotFound | None = None
        for url in candidates:
            try:
                return self._get(url, dest, max_bytes, user_given=given is not None)
            except _NotFound as exc:
                missing = exc
        assert missing is not None
        raise missing

    def _get(self, url: str, dest: Path, max_bytes: int, *, user_given: bool) -> str:
        import httpx

        deadline = time.monotonic() + self.budget
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            shown = self.redact(current)
            scheme = urlsplit(current).scheme.lower()
            if scheme != "https" and not (user_given and scheme == "http"):
                raise _Unavailable(f"{shown}: not fetched, publisher downloads use https only")
            try:
                with self.client.stream("GET", current) as response:
                    if response.is_redirect:
                        location = response.headers.get("location")
                        if not location:
                            raise _Unavailable(f"{shown}: redirect without a location")
                        current = urljoin(current, location)
                        continue
                    if response.status_code == 404:
                        raise _NotFound(f"{shown}: HTTP 404, not published")
                    if response.status_code != 200:
                        raise _Unavailable(f"{shown}: HTTP {response.status_code}")
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes:
                        raise _Refused(
                            f"{shown}: announces {declared} bytes, over the {max_bytes}-byte limit"
                        )
                    self._save(response, dest, max_bytes, deadline, shown)
                    return shown
            except httpx.HTTPError as exc:
                raise _Unavailable(f"{shown}: {type(exc).__name__}: {exc or 'failed'}") from exc
        raise _Unavailable(f"{self.redact(url)}: more than {MAX_REDIRECTS} redirects")

    def _save(
        self, response: httpx.Response, dest: Path, max_bytes: int, deadline: float, shown: str
    ) -> None:
        written = 0
        with dest.open("wb") as fh:
            for chunk in response.iter_bytes(1 << 16):
                written += len(chunk)
                if written > max_bytes:
                    raise _Refused(f"{shown}: more than the {max_bytes}-byte limit")
                if time.monotonic() > deadline:
                    raise _Unavailable(f"{shown}: took longer than {self.budget:.0f} s")
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        if not written:
            raise _Refused(f"{shown}: empty response")


# -- unpacking -----------------------------------------------------------------------


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Capped:
    """A read-only stream that refuses to yield more than ``limit`` bytes in all."""

    def __init__(self, raw: _Readable, limit: int) -> None:
        self._raw = raw
        self._left = limit
        self._limit = limit

    def read(self, size: int = -1) -> bytes:
        want = self._left + 1 if size < 0 else min(size, self._left + 1)
        data = self._raw.read(want)
        self._left -= len(data)
        if self._left < 0:
            raise _Refused(f"unpacks to more than {self._limit} bytes")
        return data


def _check_gzip_magic(path: Path) -> None:
    with path.open("rb") as fh:
        if fh.read(2) != b"\x1f\x8b":
            raise _Refused("not a gzip file")


def gunzip_limited(src: Path, dest: Path, *, max_bytes: int) -> int:
    """Unpack a gzip file, refusing one that unpacks past ``max_bytes`` or ends early."""
    _check_gzip_magic(src)
    total = 0
    try:
        with gzip.open(src, "rb") as packed, dest.open("wb") as out:
            while chunk := packed.read(1 << 20):
                total += len(chunk)
                if total > max_bytes:
                    raise _Refused(f"unpacks to more than {max_bytes} bytes")
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except EOFError as exc:
        raise _Refused("truncated gzip file") from exc
    except (OSError, zlib.error) as exc:
        raise _Refused(f"corrupt gzip file: {exc}") from exc
    return total


def untar_member(src: Path, dest: Path, *, suffix: str, max_bytes: int) -> str:
    """Copy the first regular file named ``*suffix`` out of a ``.tar.gz``; its name there.

    Nothing is extracted by the archive's own paths, so names like ``../x`` do no
    harm; the archive is read as a stream, capped at about twice ``max_bytes`` unpacked.
    """
    _check_gzip_magic(src)
    try:
        with gzip.open(src, "rb") as packed:
            stream = _Capped(packed, 2 * max_bytes + (1 << 20))  # room for headers, padding
            with tarfile.open(fileobj=stream, mode="r|") as archive:  # type: ignore[call-overload]
                for member in archive:
                    if not member.name.endswith(suffix):
                        continue
                    if not member.isreg():
                        raise _Refused(f"{member.name} in the archive is not a regular file")
                    if member.size > max_bytes:
                        raise _Refused(f"{member.name} is over the {max_bytes}-byte limit")
                    source = archive.extractfile(member)
                    if source is None:
                        raise _Refused(f"{member.name} cannot be read from the archive")
                    with dest.open("wb") as out:
                        shutil.copyfileobj(_Capped(source, max_bytes), out, 1 << 20)
                        out.flush()
                        os.fsync(out.fileno())
                    return str(member.name)
    except EOFError as exc:
        raise _Refused("truncated archive") from exc
    except (tarfile.TarError, OSError, zlib.error) as exc:
        raise _Refused(f"corrupt archive: {exc}") from exc
    raise _Refused(f"the archive holds no *{suffix} file")


# -- checks --------------------------------------------------------------------------


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

    from hostlocate.geo import GeoDatabase

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
    built = datetime.fromtimestamp(int(meta.build_epoch), UTC)
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


# -- updating ------------------------------------------------------------------------

_LAYOUT: Mapping[str, tuple[str, str, str]] = {
    "geoip_country": ("geo", "country", ".mmdb"),
    "geoip_asn": ("geo", "asn", ".mmdb"),
    "psl": ("psl", "public_suffix_list", ".dat"),
    "providers": ("", "providers", ".json"),
}
"""Where each single-file data set lives in the user folder: ``dir/stem.<sha>suffix``."""
_INCOMING = ".incoming-"


class UpdateResult(msgspec.Struct, frozen=True, kw_only=True):
    """What ``hostlocate data update`` did for one data set."""

    name: str
    outcome: str
    """``updated``, ``unchanged``, ``refused`` (the download is not acceptable) or
    ``failed`` (no download); after the last two the previous data stays."""
    message: str
    version: str | None = None
    build_date: str | None = None
    files: tuple[str, ...] = ()


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


def _prepare_rdap(ctx: _Context, name: str) -> _Prepared:
    limits = ctx.limits["rdap"]
    folder = ctx.temp_dir("rdap")
    urls: list[str] = []
    stamps: list[str] = []
    for kind in RDAP_KINDS:
        path = folder / f"{kind}.json"
        urls.append(ctx.fetcher.fetch(f"rdap-{kind}", path, limits.download))
        _check_size(path, limits, f"RDAP bootstrap {kind}.json")
        published = check_bootstrap(kind, path)
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


def _current_entries(target: Path) -> dict[str, ManifestEntry]:
    """The user folder's manifest as it is now; an unreadable one is moved aside."""
    manifest = target / MANIFEST_NAME
    if not manifest.exists():
        return {}
    try:
        return dict(DataFolder(target, origin="user").entries())
    except DataError:
        manifest.replace(manifest.with_name(f"{MANIFEST_NAME}.unreadable"))
        return {}


def _commit(target: Path, prepared: _Prepared, now: datetime) -> tuple[bool, tuple[str, ...]]:
    """Move a checked download into place, then rewrite the manifest: (changed, its files).

    A download identical to the copy in use moves no file; its entry is still
    rewritten, because the fetch time (and, for data whose age counts from the
    check, the data date) says the copy was found current just now.
    """
    current = _current_entries(target)
    old = {rel: e for rel, e in current.items() if e.name == prepared.name}
    if prepared.temp.is_dir():
        hashed = {p.name: _resources.hash_file(p) for p in sorted(prepared.temp.iterdir())}
        generation = hashlib.sha256(
            "".join(f"{n}:{s}\n" for n, (_, s) in sorted(hashed.items())).encode()
        ).hexdigest()[:16]
        new = {f"rdap/{generation}/{n}": hs for n, hs in hashed.items()}
    else:
        folder, stem, suffix = _LAYOUT[prepared.name]
        size, sha = _resources.hash_file(prepared.temp)
        new = {str(PurePosixPath(folder, f"{stem}.{sha[:16]}{suffix}")): (size, sha)}
    changed = sorted(new) != sorted(old) or not all((target / rel).is_file() for rel in new)
    if changed:
        _move_into_place(target, prepared.temp, next(iter(new)))
    fetched = iso(now)
    entries = {
        rel: ManifestEntry(
            name=prepared.name,
            size=size,
            sha256=sha,
            fetched_at=fetched,
            refresh=f"hostlocate data update {prepared.name}",
            **prepared.fields,
        )
        for rel, (size, sha) in new.items()
    }
    files = {rel: e for rel, e in current.items() if e.name != prepared.name}
    files.update(entries)
    _resources.write_manifest(target, files)
    if changed:
        _prune(target, prepared.name, keep=set(new) | set(old))
    return changed, tuple(sorted(new))


def _move_into_place(target: Path, temp: Path, relative: str) -> None:
    """Rename a checked temporary file (or bootstrap folder) to its content-addressed name."""
    if temp.is_dir():
        final = target / PurePosixPath(relative).parent
        if final.exists():  # the same content under its content-addressed name
            shutil.rmtree(temp)
        else:
            for child in temp.iterdir():
                with child.open("rb") as fh:
                    os.fsync(fh.fileno())
            _resources.fsync_dir(temp)
            os.replace(temp, final)
    else:
        final = target / relative
        os.replace(temp, final)
    _resources.fsync_dir(final.parent)


def _prune(target: Path, name: str, *, keep: set[str]) -> None:
    """Delete generations older than the previous one (which open readers may still use)."""
    if name == "rdap_bootstrap":
        kept = {PurePosixPath(rel).parent.name for rel in keep}
        base = target / "rdap"
        for child in base.iterdir() if base.is_dir() else ():
            if child.is_dir() and not child.name.startswith(".") and child.name not in kept:
                shutil.rmtree(child, ignore_errors=True)
        return
    folder, stem, suffix = _LAYOUT[name]
    base = target / folder
    for child in base.glob(f"{stem}.*{suffix}"):
        if child.relative_to(target).as_posix() not in keep:
            child.unlink(missing_ok=True)


def _sweep_incoming(target: Path) -> None:
    """Remove temporary files a killed update left (only while holding the lock)."""
    for child in target.rglob(f"{_INCOMING}*"):
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(target: Path) -> Iterator[None]:
    """One update of a folder at a time (advisory lock where the platform has one)."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    with (target / ".lock").open("a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            _sweep_incoming(target)
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _is_bundled(target: Path) -> bool:
    try:
        return target.resolve() == _resources.data_dir().resolve()
    except (OSError, DataError):
        return False


def update(
    names: Sequence[str] = (),
    *,
    target: str | os.PathLike[str] | None = None,
    sources: Mapping[str, str] | None = None,
    licence_key: str | None = None,
    vendor: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    limits: Mapping[str, Limits] | None = None,
    now: datetime | None = None,
) -> list[UpdateResult]:
    """Download fresh copies of ``names`` (default: every updatable data set) into ``target``.

    ``target`` defaults to :func:`user_data_dir`; the bundled folder is refused.
    ``sources`` replaces publisher URLs by :data:`SOURCES` key; such URLs may be
    ``http://`` and may redirect anywhere. ``vendor`` picks the GeoIP publisher,
    ``dbip`` or ``maxmind`` (default: ``maxmind`` when a licence key is given).
    Each data set succeeds or fails alone; a failure never touches the data in use.
    Raises :class:`~hostlocate.errors.ConfigError` for unknown names or sources.
    """
    import httpx

    chosen = list(dict.fromkeys(names)) or list(UPDATABLE)
    for name in chosen:
        if name not in DATASETS:
            raise ConfigError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
        if name not in UPDATABLE:
            raise ConfigError(f"{name} has no publisher download; {_REFRESH_HINT[name]}")
    overrides = dict(sources or {})
    for key in overrides:
        if key not in SOURCES:
            raise ConfigError(f"unknown source {key!r}; known: {', '.join(SOURCES)}")
    vendor = vendor or ("maxmind" if licence_key else "dbip")
    if vendor not in VENDORS:
        raise ConfigError(f"unknown GeoIP vendor {vendor!r}; known: {', '.join(VENDORS)}")
    folder = Path(os.fspath(target)) if target is not None else user_data_dir()
    if _is_bundled(folder):
        raise ConfigError(f"{folder} is the bundled data folder; updates go to a user folder")
    when = now or datetime.now(UTC)
    client = httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
        follow_redirects=False,
        headers={"User-Agent": f"hostlocate/{_version()} (data update)"},
    )
    fetcher = _Fetcher(client, overrides, licence_key, when)
    results: list[UpdateResult] = []
    with client, _locked(folder):
        for name in chosen:
            ctx = _Context(folder, fetcher, {**LIMITS, **(limits or {})}, vendor, when)
            results.append(_update_one(ctx, name))
    return results


def _update_one(ctx: _Context, name: str) -> UpdateResult:
    try:
        prepared = _PREPARE[name](ctx, name)
        changed, files = _commit(ctx.target, prepared, ctx.now)
    except _Refused as exc:
        return UpdateResult(
            name=name, outcome="refused", message=f"{exc}; the previous data stays in use"
        )
    except (_Unavailable, OSError) as exc:
        return UpdateResult(
            name=name, outcome="failed", message=f"{exc}; the previous data stays in use"
        )
    finally:
        ctx.cleanup()
    fields = prepared.fields
    message = f"{fields['title']}, data of {str(fields['build_date'])[:10]}"
    if not changed:
        message += " (already there)"
    if _shadowed(name, fields.get("build_date")):
        message += "; not newer than the bundled copy, which stays in use"
    return UpdateResult(
        name=name,
        outcome="updated" if changed else "unchanged",
        message=message,
        version=fields.get("version"),
        build_date=fields.get("build_date"),
        files=files,
    )


def _shadowed(name: str, build_date: str | None) -> bool:
    """True when the bundled copy of ``name`` is at least as new as ``build_date``."""
    bundled = _resources.bundled()
    shipped = bundled.members(name)
    if not shipped:
        return False
    theirs = parse_date(bundled.entry(shipped[0])[1].build_date)
    mine = parse_date(build_date)
    return mine is None or (theirs is not None and mine <= theirs)


def _version() -> str:
    from hostlocate import __version__

    return __version__


# -- export --------------------------------------------------------------------------

EXPORT_NAMES: Mapping[str, str] = {
    "geoip_country": "geo/country.mmdb",
    "geoip_asn": "geo/asn.mmdb",
    "psl": "psl/public_suffix_list.dat",
    "providers": "providers.json",
    "hotlines": "hotlines.csv",
}


def export(target: str | os.PathLike[str], resolved: ResolvedData | None = None) -> ResolvedData:
    """Copy the data sets in use into a new folder with its manifest, to pin them.

    The folder must not exist or be empty. It appears whole or not at all (it is
    written beside its final name and renamed), and it is read back with
    :func:`resolve` before this returns.
    """
    chosen = resolved if resolved is not None else resolve()
    root = Path(os.fspath(target))
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ConfigError(f"{root} exists and is not an empty folder")
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.export-", dir=root.parent))
    try:
        files: dict[str, ManifestEntry] = {}
        for name, found in chosen.sets.items():
            for rel in found.files:
                _, entry = found.folder.entry(rel)
                dest_rel = (
                    f"rdap/{PurePosixPath(rel).name}"
                    if name == "rdap_bootstrap"
                    else EXPORT_NAMES[name]
                )
                dest = staging / dest_rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(found.folder.root / rel, dest)
                if _resources.hash_file(dest) != (entry.size, entry.sha256):
                    raise DataError(f"{found.folder.root / rel} changed while it was copied")
                with dest.open("rb") as fh:
                    os.fsync(fh.fileno())
                files[dest_rel] = entry
        _resources.write_manifest(staging, files)
        if root.exists():
            root.rmdir()
        os.replace(staging, root)
        _resources.fsync_dir(root.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return resolve(root)


# -- the command ---------------------------------------------------------------------


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``hostlocate data``."""
    sub = parser.add_subparsers(dest="data_action", required=True, metavar="ACTION")

    p = sub.add_parser("status", help="each data set: date, age, origin, licence")
    p.add_argument("--data-dir", metavar="DIR", help="report a pinned data folder instead")
    p.add_argument("--dir", metavar="DIR", help="the user data folder (default: the platform's)")
    p.add_argument("--json", action="store_true", help="one JSON document")
    p.add_argument(
        "--max-age",
        action="append",
        type=_pair,
        default=[],
        metavar="NAME=DAYS",
        help="warn when a data set is older than DAYS (repeatable)",
    )

    p = sub.add_parser("update", help="download fresh data into the user data folder")
    p.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"data sets to update (default: {' '.join(UPDATABLE)})",
    )
    p.add_argument("--dir", metavar="DIR", help="the folder to update (default: the user's)")
    p.add_argument(
        "--source",
        action="append",
        type=_pair,
        default=[],
        metavar="NAME=URL",
        help=f"download from URL instead of the publisher; NAME one of {', '.join(SOURCES)}",
    )
    p.add_argument(
        "--maxmind-licence-key",
        metavar="KEY",
        help=f"MaxMind licence key for GeoLite2 (default: ${LICENCE_KEY_ENV})",
    )
    p.add_argument(
        "--geoip-vendor",
        choices=VENDORS,
        help="GeoIP publisher (default: maxmind with a licence key, else dbip)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"network timeout (default {DEFAULT_TIMEOUT:.0f})",
    )
    p.add_argument("--json", action="store_true", help="one JSON document")

    p = sub.add_parser("export", help="copy the data in use into DIR, to pin it with --data-dir")
    p.add_argument("target", metavar="DIR", help="a new or empty folder")
    p.add_argument("--data-dir", metavar="DIR", help="export a pinned data folder instead")
    p.add_argument("--dir", metavar="DIR", help="the user data folder (default: the platform's)")


def run(args: argparse.Namespace) -> int:
    """Run ``hostlocate data ACTION``: 0 done, 1 a data set failed, 2 bad usage."""
    try:
        if args.data_action == "status":
            return _status_command(args, sys.stdout, sys.stderr)
        if args.data_action == "update":
            return _update_command(args, sys.stdout, sys.stderr)
        return _export_command(args, sys.stdout)
    except ConfigError as exc:
        sys.stderr.write(f"hostlocate: {exc}\n")
        return 2
    except DataError as exc:
        sys.stderr.write(f"hostlocate: {exc}\n")
        return 1


def _max_ages(pairs: Sequence[tuple[str, str]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for name, days in pairs:
        if name not in DATASETS:
            raise ConfigError(f"--max-age: unknown data set {name!r}")
        if not days.isdigit() or int(days) < 1:
            raise ConfigError(f"--max-age {name}: {days!r} is not a positive number of days")
        out[name] = int(days)
    return out


def _status_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    limits = _max_ages(args.max_age)
    resolved = resolve(args.data_dir, user_dir=args.dir)
    rows = status(resolved, max_age=limits)
    warnings = stale_warnings(rows)
    for warning in warnings:
        err.write(f"hostlocate: warning: {warning}\n")
    if args.json:
        doc = {
            "pinned": str(resolved.pinned) if resolved.pinned else None,
            "user_dir": str(resolved.user_dir) if resolved.user_dir else None,
            "datasets": msgspec.to_builtins(rows),
            "notes": dict(resolved.notes),
            "warnings": warnings,
        }
        out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return 0
    if resolved.pinned:
        out.write(f"pinned data folder: {resolved.pinned}\n")
    else:
        out.write(f"user data folder: {resolved.user_dir}\n")
    out.write(
        f"{'data set':15} {'origin':8} {'data date':10} {'age':>6} {'':5}  {'version':26} licence\n"
    )
    for row in rows:
        age = "-" if row.age_days is None else f"{row.age_days} d"
        stale = "STALE" if row.stale else ""
        out.write(
            f"{row.name:15} {row.origin or '-':8} {(row.build_date or '-')[:10]:10} {age:>6} "
            f"{stale:5}  {(row.version or '-')[:26]:26} {row.licence or '-'}\n"
        )
    for row in rows:
        if row.note:
            out.write(f"  {row.name}: {row.note}\n")
    if "user folder" in resolved.notes:
        out.write(f"  user folder: {resolved.notes['user folder']}\n")
    return 0


def _update_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    sources: dict[str, str] = {}
    for name, url in args.source:
        if name in sources:
            raise ConfigError(f"--source {name} given twice")
        sources[name] = url
    if not args.timeout > 0:
        raise ConfigError("--timeout must be positive")
    results = update(
        args.names,
        target=args.dir,
        sources=sources,
        licence_key=args.maxmind_licence_key or os.environ.get(LICENCE_KEY_ENV) or None,
        vendor=args.geoip_vendor,
        timeout=args.timeout,
    )
    bad = [r for r in results if r.outcome in ("refused", "failed")]
    for r in bad:
        err.write(f"hostlocate: data update {r.name} {r.outcome}: {r.message}\n")
    if args.json:
        out.write(json.dumps(msgspec.to_builtins(results), indent=2, ensure_ascii=False) + "\n")
    else:
        for r in results:
            if r not in bad:
                out.write(f"{r.name}: {r.outcome}: {r.message}\n")
    return 1 if bad else 0


def _export_command(args: argparse.Namespace, out: TextIO) -> int:
    resolved = resolve(args.data_dir, user_dir=args.dir)
    written = export(args.target, resolved)
    for name, found in written.sets.items():
        out.write(f"{name:15} {found.entry.build_date or '-':22} {found.path}\n")
    out.write(f"pin it with: --data-dir {written.pinned}\n")
    return 0
