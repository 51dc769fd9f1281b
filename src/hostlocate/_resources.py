"""Where the bundled data lives, and proof that it is what the manifest says.

Installed wheels carry ``data/`` as ``hostlocate/_data``; a source checkout
reads the repository's ``data/`` folder directly. Every file there is listed
in ``MANIFEST.json`` with its origin, date, licence and sha256. A verdict is
only as good as the data behind it, so a file is hashed the first time it is
asked for and refused (:class:`~hostlocate.errors.DataError`) if it differs:
a half-written refresh or a hand edit must not silently change answers.
"""

from __future__ import annotations

import hashlib
import threading
from functools import cache
from pathlib import Path

import msgspec

from hostlocate.errors import DataError
from hostlocate.models import SourceInfo

MANIFEST_NAME = "MANIFEST.json"


class ManifestEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One bundled file as ``MANIFEST.json`` records it."""

    name: str
    """The data-set name used in verdict provenance (``geoip_country``...)."""
    title: str
    source: str
    upstream: str | None = None
    version: str | None = None
    build_date: str | None = None
    licence: str | None = None
    attribution: str | None = None
    refresh: str | None = None
    size: int
    sha256: str


class _Manifest(msgspec.Struct, frozen=True):
    schema: str
    files: dict[str, ManifestEntry]


class DataFolder:
    """A folder of data files described by its ``MANIFEST.json``.

    ``origin`` is what verdicts report as the data's origin: ``bundled`` for the
    package's own folder, ``user``/``path`` for a folder a caller pins.
    """

    def __init__(self, root: str | Path, *, origin: str = "bundled") -> None:
        self.root = Path(root)
        self.origin = origin
        self._lock = threading.Lock()
        self._entries: dict[str, ManifestEntry] | None = None
        self._by_name: dict[str, str] = {}
        self._verified: dict[str, Path] = {}

    def entries(self) -> dict[str, ManifestEntry]:
        """Every listed file, by its path relative to the folder."""
        if self._entries is None:
            manifest = self.root / MANIFEST_NAME
            try:
                parsed = msgspec.json.decode(manifest.read_bytes(), type=_Manifest)
            except FileNotFoundError:
                raise DataError(f"data manifest missing: {manifest}", path=str(manifest)) from None
            except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise DataError(
                    f"data manifest unreadable: {manifest}: {exc}", path=str(manifest)
                ) from exc
            self._by_name = {entry.name: rel for rel, entry in parsed.files.items()}
            self._entries = dict(parsed.files)
        return self._entries

    def entry(self, key: str) -> tuple[str, ManifestEntry]:
        """The (relative path, entry) for a relative path or a data-set name."""
        entries = self.entries()
        relative = key if key in entries else self._by_name.get(key)
        if relative is None:
            raise DataError(
                f"{key!r} is not listed in {self.root / MANIFEST_NAME}", path=str(self.root / key)
            )
        return relative, entries[relative]

    def path(self, relative: str) -> Path:
        """The file, after checking its size and sha256 against the manifest (once)."""
        found = self._verified.get(relative)
        if found is not None:
            return found
        with self._lock:
            found = self._verified.get(relative)
            if found is None:
                found = self._verify(relative)
                self._verified[relative] = found
        return found

    def _verify(self, relative: str) -> Path:
        rel, entry = self.entry(relative)
        path = self.root / rel
        try:
            size = path.stat().st_size
        except OSError:
            raise DataError(f"data file missing: {rel}", path=str(path)) from None
        if size != entry.size:
            raise DataError(
                f"data file {rel} is {size} bytes, the manifest says {entry.size}", path=str(path)
            )
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != entry.sha256:
            raise DataError(
                f"data file {rel} does not match its sha256 in the manifest", path=str(path)
            )
        return path

    def source_info(self, key: str) -> SourceInfo:
        """Provenance for a data set, by name (``geoip_country``) or relative path."""
        _, entry = self.entry(key)
        return SourceInfo(
            name=entry.title,
            build_date=entry.build_date,
            licence=entry.licence,
            attribution=entry.attribution,
            origin=self.origin,
        )


@cache
def data_dir() -> Path:
    """The folder holding the bundled data files."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data", here.parent.parent / "data"):
        if candidate.is_dir():
            return candidate
    raise DataError("bundled data folder not found (neither hostlocate/_data nor data/)")


@cache
def bundled() -> DataFolder:
    """The package's own data folder."""
    return DataFolder(data_dir(), origin="bundled")


def data_path(relative: str) -> Path:
    """A bundled file by its path relative to the data folder, checked against the manifest."""
    return bundled().path(relative)


def source_info(name: str) -> SourceInfo:
    """Provenance of a bundled data set, by name (``geoip_asn``) or relative path."""
    return bundled().source_info(name)
