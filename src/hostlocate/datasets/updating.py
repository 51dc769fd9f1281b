"""``hostlocate data update``: committing checked downloads to the user folder.

An update downloads into the user folder, checks the download (format, size
bounds, parse, a few known answers), moves it to a new content-addressed name
through a synced temporary file and one rename, and only then commits by
replacing the manifest atomically. The previous generation stays on disk, so a
process that opened it keeps reading whole files, and a refused download
leaves the old data in use.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import msgspec

from hostlocate import _resources
from hostlocate._resources import MANIFEST_NAME, DataFolder, ManifestEntry
from hostlocate.datasets.download import (
    DOWNLOAD_BUDGET,
    LIMITS,
    Limits,
    _Fetcher,
    _Refused,
    _Unavailable,
)
from hostlocate.datasets.prepare import _INCOMING, _PREPARE, _Context, _Prepared
from hostlocate.datasets.sets import (
    _REFRESH_HINT,
    DATASETS,
    DEFAULT_TIMEOUT,
    SOURCES,
    UPDATABLE,
    VENDORS,
    iso,
    parse_date,
    user_data_dir,
)
from hostlocate.errors import ConfigError, DataError

_LAYOUT: Mapping[str, tuple[str, str, str]] = {
    "geoip_country": ("geo", "country", ".mmdb"),
    "geoip_asn": ("geo", "asn", ".mmdb"),
    "psl": ("psl", "public_suffix_list", ".dat"),
    "providers": ("", "providers", ".json"),
}
"""Where each single-file data set lives in the user folder: ``dir/stem.<sha>suffix``."""


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
    """One update of a folder at a time (advisory lock where the platform has one).

    The folder is made private (0700, its files 0600) before anything is written
    and again after: it shows which data a hotline uses and when it fetched it.
    """
    _resources.private_dir(target, tighten=True)
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
            with contextlib.suppress(OSError):
                _resources.private_tree(target)
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
    budget: float = DOWNLOAD_BUDGET,
) -> list[UpdateResult]:
    """Download fresh copies of ``names`` (default: every updatable data set) into ``target``.

    ``target`` defaults to :func:`user_data_dir`; the bundled folder is refused.
    ``sources`` replaces publisher URLs by :data:`SOURCES` key; such URLs may be
    ``http://`` and may redirect anywhere. ``vendor`` picks the GeoIP publisher,
    ``dbip`` or ``maxmind`` (default: ``maxmind`` when a licence key is given).
    Each data set succeeds or fails alone; a failure never touches the data in use.
    ``timeout`` bounds each wait for the network, ``budget`` each download in all.
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
    fetcher = _Fetcher(client, overrides, licence_key, when, budget)
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
    except (ValueError, ArithmeticError, LookupError, TypeError) as exc:
        # A download odd enough to break a check is that data set's failure alone:
        # the others are still fetched.
        return UpdateResult(
            name=name,
            outcome="refused",
            message=f"unusable download ({type(exc).__name__}: {exc}); "
            "the previous data stays in use",
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
