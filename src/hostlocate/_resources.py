"""Where the bundled data lives, and proof that it is what the manifest says.

Installed wheels carry ``data/`` as ``hostlocate/_data``; a source checkout
reads the repository's ``data/`` folder directly. Every file there is listed
in ``MANIFEST.json`` with its origin, date, licence and sha256. A verdict is
only as good as the data behind it, so a file is hashed the first time it is
asked for and refused (:class:`~hostlocate.errors.DataError`) if it differs:
a half-written refresh or a hand edit must not silently change answers.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Mapping
from functools import cache
from pathlib import Path, PurePosixPath

import msgspec

from hostlocate.errors import DataError
from hostlocate.models import SourceInfo

MANIFEST_NAME = "MANIFEST.json"
MANIFEST_SCHEMA = "hostlocate.data-manifest/1"


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
    url: str | None = None
    """Where a downloaded copy was fetched from (licence keys redacted)."""
    fetched_at: str | None = None
    """When a downloaded copy was fetched, UTC, ISO 8601."""
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
        self._members: dict[str, tuple[str, ...]] = {}
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
            for rel in parsed.files:
                _check_relative(rel, manifest)
            by_name: dict[str, list[str]] = {}
            for rel in sorted(parsed.files):
                by_name.setdefault(parsed.files[rel].name, []).append(rel)
            self._members = {name: tuple(rels) for name, rels in by_name.items()}
            self._by_name = {name: rels[0] for name, rels in self._members.items()}
            self._entries = dict(parsed.files)
        return self._entries

    def members(self, name: str) -> tuple[str, ...]:
        """Relative paths of every file of a data set (several for the RDAP bootstrap)."""
        self.entries()
        return self._members.get(name, ())

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
        if hash_file(path)[1] != entry.sha256:
            raise DataError(
                f"data file {rel} does not match its sha256 in the manifest", path=str(path)
            )
        return path

    def source_info(self, key: str) -> SourceInfo:
        """Provenance for a data set, by name (``geoip_country``) or relative path."""
        _, entry = self.entry(key)
        return make_source_info(entry, self.origin)


def make_source_info(entry: ManifestEntry, origin: str) -> SourceInfo:
    """The verdict's provenance record for one manifest entry."""
    fields: dict[str, str | None] = {
        "name": entry.title,
        "build_date": entry.build_date,
        "licence": entry.licence,
        "attribution": entry.attribution,
        "origin": origin,
    }
    # Verdicts carry the data version once the record has a field for it.
    if "version" in SourceInfo.__struct_fields__:
        fields["version"] = entry.version
    return SourceInfo(**fields)  # type: ignore[arg-type]


def _check_relative(relative: str, manifest: Path) -> None:
    """A manifest names files inside its folder only: no absolute paths, no ``..``."""
    pure = PurePosixPath(relative)
    if pure.is_absolute() or ".." in pure.parts or "\\" in relative or not pure.parts:
        raise DataError(
            f"data manifest {manifest} lists a path outside its folder: {relative!r}",
            path=str(manifest),
        )


def hash_file(path: Path) -> tuple[int, str]:
    """(size, sha256 hex) of a file.

    Every start hashes the bundled databases (about 19 MB): ``file_digest``
    reads into one reused buffer, cheaper than a new block for each read.
    """
    with path.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256")
        size = fh.tell()
    return size, digest.hexdigest()


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- private folders -------------------------------------------------------------------
# The cache holds the host names of reports and the user data folder what was
# downloaded for them: readable by their owner only, whatever the umask.

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(path: Path, *, tighten: bool) -> None:
    """Create ``path`` and its missing parents 0700; an existing one is set 0700 if ``tighten``.

    A folder that existed before and is not hostlocate's own (``--cache /tmp/x``)
    is left as it is: only ``tighten`` says it is ours.
    """
    if path.is_dir():
        if tighten:
            with contextlib.suppress(PermissionError):
                os.chmod(path, PRIVATE_DIR_MODE)
        return
    missing = [path, *(p for p in path.parents if not p.exists())]
    for folder in sorted(set(missing), key=lambda p: len(p.parts)):
        # Every folder made here is 0700 (mkdir's mode alone passes through the umask).
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=PRIVATE_DIR_MODE)
            os.chmod(folder, PRIVATE_DIR_MODE)


def private_file(path: Path, *, create: bool = False) -> None:
    """Set an existing file 0600 (``create``: make an empty one 0600 where there is none)."""
    if create:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE))
    if not path.is_symlink():
        # Another user's file (a shared cache) cannot be changed, only used.
        with contextlib.suppress(FileNotFoundError, PermissionError):
            os.chmod(path, PRIVATE_FILE_MODE)


def private_tree(root: Path) -> None:
    """Set ``root`` and every folder under it 0700 and every file 0600 (symlinks untouched)."""
    private_dir(root, tighten=True)
    for folder, dirs, names in os.walk(root):
        for name in dirs:
            sub = Path(folder, name)
            if not sub.is_symlink():  # os.walk does not enter linked folders either
                with contextlib.suppress(FileNotFoundError):
                    os.chmod(sub, PRIVATE_DIR_MODE)
        for name in names:
            private_file(Path(folder, name))


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` through a synced temporary file in the same folder and one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # only the writers need it, not every start

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_manifest(root: Path, files: Mapping[str, ManifestEntry]) -> None:
    """Replace ``root/MANIFEST.json`` atomically: the one commit point of a data folder."""
    manifest = _Manifest(MANIFEST_SCHEMA, dict(sorted(files.items())))
    text = msgspec.json.format(msgspec.json.encode(manifest), indent=2) + b"\n"
    write_atomic(root / MANIFEST_NAME, text)


_folders: dict[tuple[str, str], tuple[tuple[int, int, int], DataFolder]] = {}
_folders_lock = threading.Lock()


def folder(root: str | Path, *, origin: str) -> DataFolder:
    """A shared :class:`DataFolder` for ``root``, renewed when its manifest changes.

    Files are hashed once per manifest version, not once per caller: a data
    update rewrites the manifest, so a changed folder is checked again.
    """
    path = Path(root)
    key = (str(path.resolve()), origin)
    try:
        st = (path / MANIFEST_NAME).stat()
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    except OSError:
        return DataFolder(path, origin=origin)
    with _folders_lock:
        found = _folders.get(key)
        if found is None or found[0] != stamp:
            found = (stamp, DataFolder(path, origin=origin))
            _folders[key] = found
        return found[1]


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


def table_file(
    bundled_file: str, path: str | os.PathLike[str] | None, source: SourceInfo | None, title: str
) -> tuple[Path, SourceInfo]:
    """A table's file and provenance: the bundled one, or the file at ``path`` described by
    ``source`` (from its manifest) or else by ``title`` and its name."""
    if path is None:
        return data_path(bundled_file), source_info(bundled_file)
    file = Path(os.fspath(path))
    return file, source or SourceInfo(name=f"{title} ({file.name})", origin="path")
