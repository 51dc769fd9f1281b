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

from hostlocate.cache import TTLCache
from hostlocate.sources.base import RdapCache, RdapEntryKind

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address

__all__ = ["MemoryRdapCache", "RangeCache", "TieredRdapCache", "range_blocks"]

V = TypeVar("V")

_MAX_BLOCKS = 64
"""Ranges splitting into more CIDR blocks than this are not cached (never seen in RDAP)."""


def range_blocks(version: int, start: int, end: int) -> list[tuple[int, int]] | None:
    """The CIDR blocks of a range as (prefix length, address >> host bits), or None
    for a range that is unusable or splits into too many blocks."""
    if version not in (4, 6) or start > end:
        return None
    bits = 32 if version == 4 else 128
    try:
        first = ipaddress.IPv4Address(start) if version == 4 else ipaddress.IPv6Address(start)
        last = ipaddress.IPv4Address(end) if version == 4 else ipaddress.IPv6Address(end)
        nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = list(
            ipaddress.summarize_address_range(first, last)
        )
    except (ValueError, TypeError):
        return None
    if len(nets) > _MAX_BLOCKS:
        return None
    return [(net.prefixlen, int(net.network_address) >> (bits - net.prefixlen)) for net in nets]


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

    def put(self, version: int, start: int, end: int, value: V, ttl: float | None = None) -> bool:
        """Store ``value`` for the range [start, end] for ``ttl`` seconds (default:
        the cache's); False if the range is unusable."""
        blocks = range_blocks(version, start, end)
        if blocks is None:
            return False
        span = (version, start, end)
        old = self._entries.get(span)
        if old is not None:
            self._remove(old)
        entry = _Entry(span, blocks, self._clock() + (self.ttl if ttl is None else ttl), value)
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


class MemoryRdapCache:
    """The default :class:`~hostlocate.sources.base.RdapCache`: bounded, in this
    process only, one :class:`RangeCache` per service."""

    def __init__(
        self,
        *,
        max_entries: int = 65_536,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self._clock = clock
        self._ranges: dict[str, RangeCache[bytes]] = {}
        self._entries: dict[str, TTLCache[str, bytes]] = {}

    def __len__(self) -> int:
        """Ranges held, every service together."""
        return sum(len(ranges) for ranges in self._ranges.values())

    def find_network(
        self, service: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address
    ) -> tuple[bytes, float] | None:
        ranges = self._ranges.get(service)
        found = None if ranges is None else ranges.get_with_expiry(address)
        return None if found is None else (found[0], found[1] - self._clock())

    def put_network(
        self, service: str, version: int, start: int, end: int, value: bytes, ttl: float
    ) -> None:
        ranges = self._ranges.get(service)
        if ranges is None:
            ranges = RangeCache(max_entries=self.max_entries, clock=self._clock)
            self._ranges[service] = ranges
        ranges.put(version, start, end, value, ttl)

    def get_entry(self, kind: RdapEntryKind, key: str) -> tuple[bytes, float] | None:
        entries = self._entries.get(kind)
        found = None if entries is None else entries.get_with_expiry(key)
        return None if found is None else (found[0], found[1] - self._clock())

    def put_entry(self, kind: RdapEntryKind, key: str, value: bytes, ttl: float) -> None:
        entries = self._entries.get(kind)
        if entries is None:
            entries = TTLCache(min(self.max_entries, 65_536), clock=self._clock)
            self._entries[kind] = entries
        entries.put(key, value, ttl)


class TieredRdapCache:
    """A shared cache (the SQLite store, Redis) behind a bounded in-memory front.

    An answer read from the shared cache is kept in memory for the time it has
    left, so a warm batch asks the shared cache once per range, domain or AS
    rather than once per record (a range probe in SQLite costs tens of
    microseconds, in memory one or two). Writes go to both. ``span`` says which
    range a network value read back covers (the client knows its records and
    its bootstrap): (version, first, last), or None to keep it out of the front.
    """

    def __init__(
        self,
        back: RdapCache,
        span: Callable[[str, _Address, bytes], tuple[int, int, int] | None],
        *,
        max_entries: int = 65_536,
    ) -> None:
        self.back = back
        self.front = MemoryRdapCache(max_entries=max_entries)
        self._span = span

    def __len__(self) -> int:
        """Ranges held in memory, every service together."""
        return len(self.front)

    def find_network(self, service: str, address: _Address) -> tuple[bytes, float] | None:
        found = self.front.find_network(service, address)
        if found is not None:
            return found
        found = self.back.find_network(service, address)
        if found is not None:
            span = self._span(service, address, found[0])
            if span is not None:
                self.front.put_network(service, *span, found[0], found[1])
        return found

    def put_network(
        self, service: str, version: int, start: int, end: int, value: bytes, ttl: float
    ) -> None:
        self.front.put_network(service, version, start, end, value, ttl)
        self.back.put_network(service, version, start, end, value, ttl)

    def get_entry(self, kind: RdapEntryKind, key: str) -> tuple[bytes, float] | None:
        found = self.front.get_entry(kind, key)
        if found is None:
            found = self.back.get_entry(kind, key)
            if found is not None:
                self.front.put_entry(kind, key, found[0], found[1])
        return found

    def put_entry(self, kind: RdapEntryKind, key: str, value: bytes, ttl: float) -> None:
        self.front.put_entry(kind, key, value, ttl)
        self.back.put_entry(kind, key, value, ttl)
