"""Open the persistent cache a ``--cache`` option or a ``cache=`` argument names.

One spec, two backends: a path is a SQLite file shared by the processes of one
machine (:class:`~hostlocate.store.SqliteStore`); a ``redis://`` or
``rediss://`` URL is a Redis shared by workers on any number of machines
(:class:`~hostlocate.redis_store.RedisStore`). A URL is never taken for a
file name: ``--cache redis://...`` creates no file, whatever happens.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hostlocate.errors import ConfigError

if TYPE_CHECKING:
    from hostlocate.redis_store import RedisStore
    from hostlocate.store import SqliteStore

__all__ = ["is_redis_url", "open_cache", "shared_rdap_options"]

_REDIS_SCHEMES = ("redis://", "rediss://")


def is_redis_url(spec: str | os.PathLike[str] | None) -> bool:
    """Whether ``spec`` names a Redis server rather than a file."""
    return isinstance(spec, str) and spec.strip().lower().startswith(_REDIS_SCHEMES)


def open_cache(
    spec: str | os.PathLike[str] | None = None,
    *,
    notice: Callable[[str], object] | None = None,
) -> SqliteStore | RedisStore:
    """The cache ``spec`` names: a Redis URL, a SQLite file path, or None (the default file).

    ``notice`` receives a line when a shared cache is lost or back (the command
    passes its stderr). Raises :class:`~hostlocate.errors.ConfigError` for a
    URL of another scheme or a Redis that cannot be reached (the message
    names the URL with its password masked), and
    :class:`~hostlocate.errors.DataError` for a file that is not a usable cache.
    """
    if is_redis_url(spec):
        from hostlocate.redis_store import RedisStore

        return RedisStore(str(spec).strip(), notice=notice)
    if isinstance(spec, str) and "://" in spec:
        from hostlocate.redis_store import mask_url

        raise ConfigError(f"unknown cache URL {mask_url(spec)}: give a path or a redis:// URL")
    from hostlocate.store import SqliteStore

    return SqliteStore(Path(spec) if spec is not None else None)


def shared_rdap_options(
    store: object, rate_limits: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """The ``rdap_options`` that make a locator's RDAP client draw on the budget every
    worker of a Redis store shares (the same limits: the defaults merged with
    ``rate_limits``, as ``--rdap-rate`` gives them); nothing for any other store."""
    from hostlocate.redis_store import RedisStore

    if not isinstance(store, RedisStore):
        return {}
    from hostlocate.sources._rdap_ratelimit import limits_from

    return {"rdap_options": {"budget": store.budget(limits_from(rate_limits))}}
