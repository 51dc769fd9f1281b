"""Country and ASN of an address from MaxMind-format databases.

Two record layouts are in use and both are read here, straight through the
``maxminddb`` C extension (3-4 times faster than ``geoip2``'s typed models,
which also refuse the flat files; ``benchmarks/bench_geoip2.py``, docs/data.md):

* GeoLite2/GeoIP2 (and DB-IP's own ``DBIP-*`` files): ``country.iso_code``,
  ``registered_country.iso_code``, ``traits.is_anycast``; ASN files carry
  ``autonomous_system_number`` and ``autonomous_system_organization``.
* the flat ip-location-db files, like the bundled DB-IP Lite country file:
  ``{"country_code": "FR"}``.

The layout is decided once, when a database is opened, from its first
records; a database in neither layout is refused then, not at look-up time.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import maxminddb

from hostlocate import _resources
from hostlocate._closing import Closing
from hostlocate.errors import DataError
from hostlocate.models import GeoFacts, SourceInfo

try:  # the pure-Python reader works too, 15-25x slower
    import maxminddb.extension

    _MODE = maxminddb.MODE_MMAP_EXT
    ACCELERATED = True
except ImportError:  # pragma: no cover - depends on the installed wheel
    _MODE = maxminddb.MODE_MMAP
    ACCELERATED = False

COUNTRY_FILE = "geo/dbip-country.mmdb"
ASN_FILE = "geo/asn.mmdb"

_SAMPLE = 16
"""How many leading records decide a database's layout."""


_NOTHING = GeoFacts()

_Record = Mapping[str, Any]
_CountryReader = Callable[[_Record], tuple[str | None, str | None, bool]]


def _flat_country(record: _Record) -> tuple[str | None, str | None, bool]:
    code = record.get("country_code")
    return (code.upper() if isinstance(code, str) and code else None), None, False


def _iso(record: _Record, key: str) -> str | None:
    part = record.get(key)
    if isinstance(part, dict):
        code = part.get("iso_code")
        if isinstance(code, str) and code:
            return code.upper()
    return None


def _geoip2_country(record: _Record) -> tuple[str | None, str | None, bool]:
    traits = record.get("traits")
    anycast = bool(traits.get("is_anycast", False)) if isinstance(traits, dict) else False
    return _iso(record, "country"), _iso(record, "registered_country"), anycast


_GEOIP2_KEYS = ("country", "registered_country", "represented_country", "continent")


class _Database:
    """One open MaxMind DB file with the facts needed about it."""

    def __init__(self, path: Path, label: str) -> None:
        self.path = path
        self.label = label
        if not path.is_file():
            raise DataError(f"{label} database not found: {path}", path=str(path))
        try:
            self.reader = maxminddb.open_database(str(path), _MODE)
            meta = self.reader.metadata()
            self.ip_version: int = int(meta.ip_version)
            self.database_type: str = str(meta.database_type)
            self.build_epoch: int = int(meta.build_epoch)
            self.sample = self._sample()
        except (maxminddb.InvalidDatabaseError, ValueError, OSError, RuntimeError) as exc:
            self.close()
            raise DataError(f"{label} database unreadable: {path}: {exc}", path=str(path)) from exc

    def _sample(self) -> list[_Record]:
        records: list[_Record] = []
        for _network, record in self.reader:
            if isinstance(record, dict):
                records.append(record)
            if len(records) >= _SAMPLE:
                break
        if not records:
            raise DataError(
                f"{self.label} database has no records: {self.path}", path=str(self.path)
            )
        return records

    def getter(self) -> Callable[[str], Any]:
        """The fastest look-up for this file: the C reader's own ``get`` where it can be."""
        get = self.reader.get
        if self.ip_version == 6:
            return get

        def get_v4(ip: str) -> Any:
            return None if ":" in ip else get(ip)

        return get_v4

    def corrupt(self, exc: Exception) -> DataError:
        return DataError(f"{self.label} database corrupt: {self.path}: {exc}", path=str(self.path))

    def built(self) -> str | None:
        """The build date; None for an epoch no calendar holds (a hostile 2**64-1)."""
        try:
            when = datetime.fromtimestamp(self.build_epoch, UTC)
        except (OverflowError, OSError, ValueError):
            return None
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")

    def close(self) -> None:
        reader = getattr(self, "reader", None)
        if reader is not None:
            reader.close()


def _open(
    given: str | os.PathLike[str] | None,
    bundled_file: str,
    label: str,
    source: SourceInfo | None,
) -> tuple[_Database, SourceInfo]:
    if given is None:
        db = _Database(_resources.data_path(bundled_file), label)
        return db, _resources.source_info(bundled_file)
    db = _Database(Path(os.fspath(given)), label)
    if source is not None:
        return db, source
    info = SourceInfo(
        name=f"{db.database_type} ({db.path.name})",
        build_date=db.built(),
        origin="path",
    )
    return db, info


class GeoDatabase(Closing):
    """Located country, registered country, anycast flag, ASN and AS organisation of an address.

    ``country_path`` and ``asn_path`` replace the bundled DB-IP Lite country and
    ip-location-db ASN databases with any GeoLite2/GeoIP2/DB-IP file (either
    layout). A missing, truncated or foreign file raises
    :class:`~hostlocate.errors.DataError` naming it, here rather than mid-run.
    ``country_source``/``asn_source`` give the provenance of a file passed by
    path when a manifest describes it (a user or pinned data folder); without
    them it is described from the file's own metadata.
    """

    def __init__(
        self,
        country_path: str | os.PathLike[str] | None = None,
        asn_path: str | os.PathLike[str] | None = None,
        *,
        country_source: SourceInfo | None = None,
        asn_source: SourceInfo | None = None,
    ) -> None:
        self._country, country_info = _open(country_path, COUNTRY_FILE, "country", country_source)
        try:
            self._read_country = self._country_layout(self._country)
            self._asn, asn_info = _open(asn_path, ASN_FILE, "ASN", asn_source)
        except BaseException:
            self._country.close()
            raise
        try:
            self._check_asn_layout(self._asn)
        except BaseException:
            self.close()
            raise
        self._sources = {"geoip_country": country_info, "geoip_asn": asn_info}
        self._flat = self._read_country is _flat_country
        self._country_get = self._country.getter()
        self._asn_get = self._asn.getter()

    @staticmethod
    def _country_layout(db: _Database) -> _CountryReader:
        if any("country_code" in record for record in db.sample):
            return _flat_country
        if any(key in record for record in db.sample for key in _GEOIP2_KEYS):
            return _geoip2_country
        raise DataError(
            f"{db.path} ({db.database_type}) is neither a GeoIP2-layout nor a flat "
            "country_code country database",
            path=str(db.path),
        )

    @staticmethod
    def _check_asn_layout(db: _Database) -> None:
        if not any("autonomous_system_number" in record for record in db.sample):
            raise DataError(
                f"{db.path} ({db.database_type}) has no autonomous_system_number records",
                path=str(db.path),
            )

    @property
    def accelerated(self) -> bool:
        """True when the ``maxminddb`` C extension does the look-ups."""
        return ACCELERATED

    def lookup(self, ip: str) -> GeoFacts:
        """What both databases say about ``ip`` (a valid address string; no DNS names)."""
        # A record damaged past the ones checked at opening shows only when read:
        # any decoding failure of the reader is the file's fault, not the caller's.
        try:
            record = self._country_get(ip)
        except ValueError as exc:  # InvalidDatabaseError, UnicodeDecodeError
            if not isinstance(exc, maxminddb.InvalidDatabaseError) and _is_address_error(exc, ip):
                raise
            raise self._country.corrupt(exc) from exc
        try:
            as_record = self._asn_get(ip)
        except ValueError as exc:
            if not isinstance(exc, maxminddb.InvalidDatabaseError) and _is_address_error(exc, ip):
                raise
            raise self._asn.corrupt(exc) from exc
        if record is None:
            country = registered = None
            anycast = False
        elif self._flat:
            country, registered, anycast = record.get("country_code"), None, False
        else:
            country, registered, anycast = _geoip2_country(record)
        if as_record is None:
            return GeoFacts(country, registered, anycast) if record is not None else _NOTHING
        return GeoFacts(
            country,
            registered,
            anycast,
            as_record.get("autonomous_system_number"),
            as_record.get("autonomous_system_organization"),
        )

    def sources(self) -> dict[str, SourceInfo]:
        """Provenance of both databases: ``geoip_country`` and ``geoip_asn``."""
        return dict(self._sources)

    def close(self) -> None:
        """Release both memory maps."""
        self._country.close()
        asn = getattr(self, "_asn", None)
        if asn is not None:
            asn.close()


def _is_address_error(exc: ValueError, ip: str) -> bool:
    """True when the reader refused ``ip`` itself (not an address), not its data."""
    if isinstance(exc, UnicodeError):
        return False
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return True
    return False
