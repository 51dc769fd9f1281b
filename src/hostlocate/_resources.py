"""Where the bundled data lives.

Installed wheels carry ``data/`` as ``hostlocate/_data``; a source checkout
reads the repository's ``data/`` folder directly.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from hostlocate.errors import DataError


@cache
def data_dir() -> Path:
    """The folder holding the bundled data files."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data", here.parent.parent / "data"):
        if candidate.is_dir():
            return candidate
    raise DataError("bundled data folder not found (neither hostlocate/_data nor data/)")


def data_path(relative: str) -> Path:
    """A bundled file by its path relative to the data folder."""
    path = data_dir() / relative
    if not path.is_file():
        raise DataError(f"bundled data file missing: {relative}", path=str(path))
    return path
