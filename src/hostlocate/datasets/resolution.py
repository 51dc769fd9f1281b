"""Which copy of each data set is read, and how old each one is.

Without a pinned folder, a user copy is used when its data date is later than
the bundled copy's: a package upgrade that brings newer data wins over an old
download. Every file is hashed against its manifest before it is read.

This is all a locator needs at start, so it is kept apart from downloading.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from hostlocate import _resources
from hostlocate._resources import MANIFEST_NAME, DataFolder, ManifestEntry
from hostlocate.datasets.sets import (
    _ABSENT,
    _NO_DOMAINS,
    _REFRESH_HINT,
    CLOCK_SKEW,
    DATASETS,
    MAX_AGE_DAYS,
    PROVENANCE_KEYS,
    REQUIRED,
    is_newer,
    parse_date,
    user_data_dir,
)
from hostlocate.errors import DataError
from hostlocate.models import SourceInfo

if TYPE_CHECKING:
    from hostlocate.hotlines import HotlineDirectory
    from hostlocate.platforms import PlatformTable
    from hostlocate.providers import ProviderTable
    from hostlocate.psl import PublicSuffixes
    from hostlocate.sources.geo import GeoDatabase

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
        from hostlocate.sources.geo import GeoDatabase

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

    def platform_table(self) -> PlatformTable:
        from hostlocate.platforms import PlatformTable

        found = self._need("platforms")
        return PlatformTable.load(found.path, source=found.source)

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
            dated = parse_date(entry.build_date)
            if dated is not None and dated > datetime.now(UTC) + CLOCK_SKEW:
                # It would win over every later copy; `data update` now refuses such data.
                notes[name] = f"user copy not used: dated {entry.build_date}, in the future"
            elif is_newer(entry, shipped_entry):
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
        if note is None and name == "rdap_bootstrap" and not (found.path / "dns.json").is_file():
            note = _NO_DOMAINS
        age = None if when is None else max(0, int((now - when).total_seconds() // 86_400))
        row = DataStatus(
            name=name,
            origin=found.origin,
            age_days=age,
            max_age_days=limits[name],
            stale=age is not None and age > limits[name],
            path=str(found.path),
            note=note if note is not None else (None if when else "no data date"),
        )
        rows.append(msgspec.structs.replace(row, **{f: getattr(entry, f) for f in _FROM_ENTRY}))
    return rows


_FROM_ENTRY = tuple(
    f for f in DataStatus.__struct_fields__ if f != "name" and f in ManifestEntry.__struct_fields__
)
"""What a status line shows as the manifest records it (title, version, dates,
licence, attribution, URL): copied by name, so a field both declare is never
left out of ``hostlocate data status``."""


def stale_warnings(rows: Sequence[DataStatus]) -> list[str]:
    """One sentence per data set past its age limit, saying how to refresh it."""
    return [
        f"{row.name} data is {row.age_days} days old, past its {row.max_age_days}-day limit; "
        + _REFRESH_HINT.get(row.name, f"refresh it with `hostlocate data update {row.name}`")
        for row in rows
        if row.stale
    ]
