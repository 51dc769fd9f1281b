"""``hostlocate data``: which data a verdict rests on, where it came from, and refreshing it.

A data set is read from one of three folders, each described by a
``MANIFEST.json`` of the same format (see :mod:`hostlocate._resources`):

* ``bundled``: the package's own folder, never written at run time;
* ``user``: the user data folder, written only by ``hostlocate data update``;
* ``path``: a folder given as ``--data-dir`` / ``data_dir=``. It pins every
  data set and nothing else is consulted, so the same inputs and the same DNS
  and RDAP answers give the same verdict.

The names in ``__all__`` are the package's surface; each lives in the
submodule that owns it and is imported from there on first use, so that a
locator, which needs only :mod:`hostlocate.datasets.resolution`, never loads
the download, update, export or command code (nor httpx).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hostlocate.datasets.checks import (
        KNOWN_ASNS,
        KNOWN_COUNTRIES,
        KNOWN_SUFFIXES,
        MmdbFacts,
        check_bootstrap,
        check_mmdb,
        check_psl,
        parse_cidr_list,
        parse_cloudfront,
    )
    from hostlocate.datasets.command import add_arguments, run
    from hostlocate.datasets.download import (
        DOWNLOAD_BUDGET,
        LIMITS,
        MAX_REDIRECTS,
        PUBLISHERS,
        Limits,
        _Fetcher,
        _Refused,
        gunzip_limited,
        untar_member,
    )
    from hostlocate.datasets.exporting import EXPORT_NAMES, export
    from hostlocate.datasets.resolution import (
        DataSet,
        DataStatus,
        ResolvedData,
        resolve,
        stale_warnings,
        status,
    )
    from hostlocate.datasets.sets import (
        CLOCK_SKEW,
        DATASETS,
        DEFAULT_TIMEOUT,
        LICENCE_KEY_ENV,
        MAX_AGE_DAYS,
        PROVENANCE_KEYS,
        RDAP_KINDS,
        REQUIRED,
        SOURCES,
        UPDATABLE,
        USER_DIR_ENV,
        VENDORS,
        is_newer,
        iso,
        parse_date,
        user_data_dir,
    )
    from hostlocate.datasets.updating import UpdateResult, update

_OWNERS: dict[str, str] = {
    "CLOCK_SKEW": "sets",
    "KNOWN_ASNS": "checks",
    "KNOWN_COUNTRIES": "checks",
    "KNOWN_SUFFIXES": "checks",
    "MmdbFacts": "checks",
    "check_bootstrap": "checks",
    "check_mmdb": "checks",
    "check_psl": "checks",
    "parse_cidr_list": "checks",
    "parse_cloudfront": "checks",
    "add_arguments": "command",
    "run": "command",
    "DEFAULT_TIMEOUT": "sets",
    "DOWNLOAD_BUDGET": "download",
    "LIMITS": "download",
    "Limits": "download",
    "MAX_REDIRECTS": "download",
    "PUBLISHERS": "download",
    "SOURCES": "sets",
    "VENDORS": "sets",
    "_Fetcher": "download",
    "_Refused": "download",
    "gunzip_limited": "download",
    "untar_member": "download",
    "EXPORT_NAMES": "exporting",
    "export": "exporting",
    "DataSet": "resolution",
    "DataStatus": "resolution",
    "ResolvedData": "resolution",
    "resolve": "resolution",
    "stale_warnings": "resolution",
    "status": "resolution",
    "DATASETS": "sets",
    "LICENCE_KEY_ENV": "sets",
    "MAX_AGE_DAYS": "sets",
    "PROVENANCE_KEYS": "sets",
    "RDAP_KINDS": "sets",
    "REQUIRED": "sets",
    "UPDATABLE": "sets",
    "USER_DIR_ENV": "sets",
    "is_newer": "sets",
    "iso": "sets",
    "parse_date": "sets",
    "user_data_dir": "sets",
    "UpdateResult": "updating",
    "update": "updating",
}
"""The submodule that owns each public name."""

__all__ = [
    "CLOCK_SKEW",
    "DATASETS",
    "DEFAULT_TIMEOUT",
    "DOWNLOAD_BUDGET",
    "EXPORT_NAMES",
    "KNOWN_ASNS",
    "KNOWN_COUNTRIES",
    "KNOWN_SUFFIXES",
    "LICENCE_KEY_ENV",
    "LIMITS",
    "MAX_AGE_DAYS",
    "MAX_REDIRECTS",
    "PROVENANCE_KEYS",
    "PUBLISHERS",
    "RDAP_KINDS",
    "REQUIRED",
    "SOURCES",
    "UPDATABLE",
    "USER_DIR_ENV",
    "VENDORS",
    "DataSet",
    "DataStatus",
    "Limits",
    "MmdbFacts",
    "ResolvedData",
    "UpdateResult",
    "_Fetcher",
    "_Refused",
    "add_arguments",
    "check_bootstrap",
    "check_mmdb",
    "check_psl",
    "export",
    "gunzip_limited",
    "is_newer",
    "iso",
    "parse_cidr_list",
    "parse_cloudfront",
    "parse_date",
    "resolve",
    "run",
    "stale_warnings",
    "status",
    "untar_member",
    "update",
    "user_data_dir",
]


def __getattr__(name: str) -> Any:
    """Import a public name's submodule when the name is first read (PEP 562)."""
    owner = _OWNERS.get(name)
    if owner is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{owner}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_OWNERS})
