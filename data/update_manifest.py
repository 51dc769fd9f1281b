"""Keep data/MANIFEST.json in step with the files beside it.

Usage (from the repository root)::

    python data/update_manifest.py            # re-hash every listed file
    python data/update_manifest.py --check    # exit 1 if a hash or size differs

The refresh scripts (``fetch_dbip_country.py``, ``build_asn_mmdb.py``) call
:func:`record` to write their entry; hand-written tables (``providers.json``,
``hotlines.csv``) are re-hashed with this script after an edit.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent
MANIFEST = DATA_DIR / "MANIFEST.json"
SCHEMA = "hostlocate.data-manifest/1"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load() -> dict[str, Any]:
    if not MANIFEST.exists():
        return {"schema": SCHEMA, "files": {}}
    data: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return data


def save(manifest: dict[str, Any]) -> None:
    manifest["files"] = dict(sorted(manifest["files"].items()))
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    tmp = MANIFEST.with_suffix(".json.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(MANIFEST)


def record(relative: str, **fields: Any) -> dict[str, Any]:
    """Write (or update) the entry for ``relative``, re-hashing the file."""
    manifest = load()
    entry = dict(manifest["files"].get(relative, {}))
    entry.update(fields)
    path = DATA_DIR / relative
    entry["size"] = path.stat().st_size
    entry["sha256"] = sha256_of(path)
    manifest["files"][relative] = entry
    save(manifest)
    return entry


def rehash(check: bool) -> int:
    manifest = load()
    bad = 0
    for relative, entry in manifest["files"].items():
        path = DATA_DIR / relative
        if not path.is_file():
            print(f"missing: {relative}", file=sys.stderr)
            bad += 1
            continue
        size, digest = path.stat().st_size, sha256_of(path)
        if (size, digest) != (entry.get("size"), entry.get("sha256")):
            print(f"{'differs' if check else 'updated'}: {relative}", file=sys.stderr)
            bad += 1
            entry["size"], entry["sha256"] = size, digest
    if not check:
        save(manifest)
        return 0
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify only; exit 1 on a mismatch")
    args = parser.parse_args(argv)
    return rehash(args.check)


if __name__ == "__main__":
    sys.exit(main())
