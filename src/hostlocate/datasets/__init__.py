"""``hostlocate data``: which data a verdict rests on, where it came from, and refreshing it.

A data set is read from one of three folders, each described by a
``MANIFEST.json`` of the same format (see :mod:`hostlocate._resources`):

* ``bundled``: the package's own folder, never written at run time;
* ``user``: the user data folder, written only by ``hostlocate data update``;
* ``path``: a folder given as ``--data-dir`` / ``data_dir=``. It pins every
  data set and nothing else is consulted, so the same inputs and the same DNS
  and RDAP answers give the same verdict.

The names in ``__all__`` are the package's surface. Each lives in the submodule
that owns it and is loaded on first use: a locator needs only :func:`resolve`,
and loading downloads, archives and the command line would slow every start-up.
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
        DEFAULT_TIMEOUT,
        DOWNLOAD_BUDGET,
        LIMITS,
        MAX_REDIRECTS,
        PUBLISHERS,
        SOURCES,
        VENDORS,
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
        DATASETS,
        LICENCE_KEY_ENV,
        MAX_AGE_DAYS,
        PROVENANCE_KEYS,
        RDAP_KINDS,
        REQUIRED,
        UPDATABLE,
        USER_DIR_ENV,
        is_newer,
        iso,
        parse_date,
        user_data_dir,
    )
    from hostlocate.datasets.updating import UpdateResult, update

_HOME: dict[str, str] = {
    **dict.fromkeys(
        (
            "DATASETS",
            "LICENCE_KEY_ENV",
            "MAX_AGE_DAYS",
            "PROVENANCE_KEYS",
            "RDAP_KINDS",
            "REQUIRED",
            "UPDATABLE",
            "USER_DIR_ENV",
            "is_newer",
            "iso",
            "parse_date",
            "user_data_dir",
        ),
        "sets",
    ),
    **dict.fromkeys(
        ("DataSet", "DataStatus", "ResolvedData", "resolve", "stale_warnings", "status"),
        "resolution",
    ),
    **dict.fromkeys(
        (
            "DEFAULT_TIMEOUT",
            "DOWNLOAD_BUDGET",
            "LIMITS",
            "MAX_REDIRECTS",
            "PUBLISHERS",
            "SOURCES",
            "VENDORS",
            "Limits",
            "_Fetcher",
            "_Refused",
            "gunzip_limited",
            "untar_member",
        ),
        "download",
    ),
    **dict.fromkeys(
        (
            "KNOWN_ASNS",
            "KNOWN_COUNTRIES",
            "KNOWN_SUFFIXES",
            "MmdbFacts",
            "check_bootstrap",
            "check_mmdb",
            "check_psl",
            "parse_cidr_list",
            "parse_cloudfront",
        ),
        "checks",
    ),
    **dict.fromkeys(("UpdateResult", "update"), "updating"),
    **dict.fromkeys(("EXPORT_NAMES", "export"), "exporting"),
    **dict.fromkeys(("add_arguments", "run"), "command"),
}
"""The submodule that owns each name of ``__all__``."""


def __getattr__(name: str) -> Any:
    # Loaded on first use, then kept as a plain attribute of the package.
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
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
