"""``hostlocate data export``: copying the data in use into a folder that pins it.

It writes a new folder rather than the user folder, so it shares none of the
update machinery; it only needs to know what :func:`resolve` chose.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from hostlocate import _resources
from hostlocate._resources import ManifestEntry
from hostlocate.datasets.resolution import ResolvedData, resolve
from hostlocate.errors import ConfigError, DataError

EXPORT_NAMES: Mapping[str, str] = {
    "geoip_country": "geo/country.mmdb",
    "geoip_asn": "geo/asn.mmdb",
    "psl": "psl/public_suffix_list.dat",
    "providers": "providers.json",
    "hotlines": "hotlines.csv",
    "platforms": "platforms.json",
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
