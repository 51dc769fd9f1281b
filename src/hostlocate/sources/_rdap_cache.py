"""The in-memory cache of RDAP network answers, by address range.

RDAP answers name the whole registered range, so the range is the cache key:
any later address inside it is answered without a request. A range that is
not CIDR-aligned (ARIN's 108.0.0.0 - 108.57.255.255) is stored under each CIDR
block it splits into; a lookup probes, for each prefix length present, the
masked address in a dict, most specific first, so nested ranges (a
reassignment inside an allocation) resolve to the smallest one. That is a few
dict probes a lookup, whatever the number of ranges.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["RangeCache"]

V = TypeVar("V")

_MAX_BLOCKS = 64
"""Ranges splitting into more CIDR blocks than this are not cached (never seen in RDAP)."""


class _Entry(Generic[V]):
    __slots__ = ("blocks", "expires", "span", "value")

    def __init__(
        self,
        span: tuple[int, int, int],
        blocks: list[tuple[int, int]],
        expires: float,
        value: V,
    ) -> None:
        self.span = span
        self.blocks = blocks
        self.expires = expires
        self.value = value


class RangeCache(Generic[V]):
    """Values keyed by address range; a lookup finds the smallest live range holding it.

    Bounded (least recently used ranges go first) and each entry expires
    ``ttl`` seconds after it was stored. ``clock`` is injectable for tests.
    """

    def __init__(
        self,
        *,
        max_entries: int = 65_536,
        ttl: float = 86_400.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[tuple[int, int, int], _Entry[V]] = OrderedDict()
        self._tables: dict[int, dict[int, dict[int, _Entry[V]]]] = {4: {}, 6: {}}
        self._lengths: dict[int, list[int]] = {4: [], 6: []}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> V | None:
        """The value of the smallest unexpired range holding ``address``, or None."""
        found = self.get_with_expiry(address)
        return None if found is None else found[0]

    def get_with_expiry(
        self, address: ipaddress.IPv4Address | ipaddress.IPv6Address
    ) -> tuple[V, float] | None:
        """Like :meth:`get`, with the clock value at which the answer expires."""
        version = address.version
        bits = 32 if version == 4 else 128
        number = int(address)
        table = self._tables[version]
        now = self._clock()
        for length in self._lengths[version]:
            bucket = table.get(length)
            entry = None if bucket is None else bucket.get(number >> (bits - length))
            if entry is None:
                continue
            if entry.expires <= now:
                self._remove(entry)
                continue
            self._entries.move_to_end(entry.span)
            self.hits += 1
            return entry.value, entry.expires
        self.misses += 1
        return None

    def put(self, version: int, start: int, end: int, value: V) -> bool:
        """Store ``value`` for the range [start, end]; False if the range is unusable."""
        if version not in (4, 6) or start > end:
            return False
        bits = 32 if version == 4 else 128
        try:
            first = ipaddress.ip_address(start) if version == 4 else ipaddress.IPv6Address(start)
            last = ipaddress.ip_address(end) if version == 4 else ipaddress.IPv6Address(end)
            nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = list(
                ipaddress.summarize_address_range(first, last)
            )
        except ValueError:
            return False
        if len(nets) > _MAX_BLOCKS:
            return False
        span = (version, start, end)
        old = self._entries.get(span)
        if old is not None:
            self._remove(old)
        blocks = [
            (net.prefixlen, int(net.network_address) >> (bits - net.prefixlen)) for net in nets
        ]
        entry = _Entry(span, blocks, self._clock() + self.ttl, value)
        table = self._tables[version]
        for length, key in blocks:
            if length not in table:
                table[length] = {}
                self._lengths[version] = sorted(table, reverse=True)
            table[length][key] = entry
        self._entries[span] = entry
        while len(self._entries) > self.max_entries:
            _, oldest = next(iter(self._entries.items()))
            self._remove(oldest)
        return True

    def _remove(self, entry: _Entry[V]) -> None:
        version = entry.span[0]
        table = self._tables[version]
        for length, key in entry.blocks:
            bucket = table.get(length)
            if bucket is not None and bucket.get(key) is entry:
                del bucket[key]
                if not bucket:
                    del table[length]
                    self._lengths[version] = sorted(table, reverse=True)
        if self._entries.get(entry.span) is entry:
            del self._entries[entry.span]

    def clear(self) -> None:
        """Forget every range (statistics are kept)."""
        self._entries.clear()
        self._tables = {4: {}, 6: {}}
        self._lengths = {4: [], 6: []}
