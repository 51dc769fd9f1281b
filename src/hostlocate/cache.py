"""Caches behind one small interface, with hit rates.

Each entry lives for its own time to live: DNS answers for their TTL (negative
answers per RFC 2308, capped), RDAP registrars and remembered 404s for the
lifetimes the RDAP client is given. The clock is injected so that tests and
the pure core need no real time.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

K = TypeVar("K")
V = TypeVar("V")
K_contra = TypeVar("K_contra", contravariant=True)


@dataclass(slots=True)
class CacheStats:
    """Hits and misses since the cache was made."""

    hits: int = 0
    misses: int = 0

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def as_dict(self) -> dict[str, float]:
        return {"hits": self.hits, "misses": self.misses, "hit_rate": round(self.hit_rate, 4)}


class Cache(Protocol[K_contra, V]):
    """What the locator needs of a cache."""

    stats: CacheStats

    def get(self, key: K_contra) -> V | None: ...

    def get_with_expiry(self, key: K_contra) -> tuple[V, float] | None:
        """The value and the ``time.monotonic()`` moment it expires, or None."""
        ...

    def put(self, key: K_contra, value: V, ttl: float) -> None: ...

    def clear(self) -> None: ...


class Backing(Protocol[V]):
    """A persistent cache behind an in-memory one (SQLite, Redis): keys are text."""

    def get_with_ttl(self, key: str) -> tuple[V, float] | None:
        """The value and the seconds it has left, or None."""
        ...

    def put(self, key: str, value: V, ttl: float) -> None: ...

    def clear(self) -> None: ...


class TTLCache(Generic[K, V]):
    """A bounded LRU whose entries expire after their own time to live."""

    def __init__(self, maxsize: int = 65_536, clock: Callable[[], float] = time.monotonic) -> None:
        if maxsize <= 0:
            raise ValueError("maxsize must be positive")
        self.maxsize = maxsize
        self._clock = clock
        self._data: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self.stats = CacheStats()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: K) -> V | None:
        found = self.get_with_expiry(key)
        return None if found is None else found[0]

    def get_with_expiry(self, key: K) -> tuple[V, float] | None:
        """The value and the clock time it expires at, or None."""
        item = self._data.get(key)
        if item is None:
            self.stats.misses += 1
            return None
        expires, value = item
        if expires <= self._clock():
            del self._data[key]
            self.stats.misses += 1
            return None
        self._data.move_to_end(key)
        self.stats.hits += 1
        return value, expires

    def put(self, key: K, value: V, ttl: float) -> None:
        if ttl <= 0:
            return
        self._data[key] = (self._clock() + ttl, value)
        self._data.move_to_end(key)
        while len(self._data) > self.maxsize:
            self._data.popitem(last=False)

    def clear(self) -> None:
        self._data.clear()
