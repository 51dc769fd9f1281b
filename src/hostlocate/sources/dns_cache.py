"""DNS answers kept for their own TTL, and asked once however many records want them.

:class:`CachedDns` is the DNS source the locator uses: it wraps a resolving
client (``resolve_part``) with a cache of one entry per name and record type
(a 60-second NODATA for AAAA must not cut short a 300-second A record), the
negative-caching policy of RFC 2308, and the sharing of queries under way
(:mod:`hostlocate._inflight`, as RDAP look-ups share theirs).
"""

from __future__ import annotations

from typing import Any, Protocol

import msgspec

from hostlocate._inflight import InFlight
from hostlocate.cache import Cache
from hostlocate.errors import ErrorCode
from hostlocate.models import DnsPart

__all__ = ["CachedDns", "cache_ttl"]

NEGATIVE_TTL_CAP = 300.0
"""RFC 2308 lets negative answers be cached; this caps how long."""
SERVFAIL_TTL = 5.0
"""A failing zone is asked again soon, but not once per record of a burst."""
MAX_TTL = 86_400.0

_SHORT_LIVED = frozenset(
    {
        ErrorCode.SERVFAIL.value,
        ErrorCode.REFUSED.value,
        ErrorCode.CNAME_LOOP.value,
        ErrorCode.CNAME_TOO_LONG.value,
    }
)


class Resolving(Protocol):
    """What :class:`CachedDns` needs of a resolving client."""

    @property
    def resolver_names(self) -> tuple[str, ...]: ...

    async def resolve_part(self, host: str, rdtype: str, *, deadline: float) -> DnsPart: ...


class CachedDns:
    """A :class:`~hostlocate.sources.base.DnsSource` over a resolving client and a cache."""

    def __init__(self, client: Resolving, cache: Cache[str, DnsPart]) -> None:
        self._client = client
        self._cache = cache
        self._inflight: InFlight[str, DnsPart] = InFlight()

    @property
    def resolver_names(self) -> tuple[str, ...]:
        return self._client.resolver_names

    def cached(self, host: str, rdtype: str) -> tuple[DnsPart, float] | None:
        return self._cache.get_with_expiry(f"{host}|{rdtype}")

    async def resolve(self, host: str, rdtype: str, *, deadline: float) -> DnsPart:
        key = f"{host}|{rdtype}"
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        try:
            if key in self._inflight:
                shared = await self._inflight.join(key, deadline)
                if shared is not None:
                    return msgspec.structs.replace(shared, queries=0)  # asked by another record
                cached = self._cache.get(key)
                if cached is not None:
                    return cached
            # The query runs on past this record's deadline: a late answer is kept
            # for the records that come next.
            return await self._inflight.lead(key, self._ask(key, host, rdtype, deadline), deadline)
        except TimeoutError:
            return DnsPart(rdtype=rdtype, error=ErrorCode.DNS_TIMEOUT.value, chain=(host,))

    async def _ask(self, key: str, host: str, rdtype: str, deadline: float) -> DnsPart:
        part = await self._client.resolve_part(host, rdtype, deadline=deadline)
        # Cached copies made no query of their own.
        self._cache.put(key, msgspec.structs.replace(part, queries=0), cache_ttl(part))
        return part

    def stats(self) -> dict[str, Any]:
        return {"dns_cache": self._cache.stats.as_dict()}

    async def aclose(self) -> None:
        """Stop queries under way (the transport's sockets close when none is left)."""
        await self._inflight.cancel_all()


def cache_ttl(part: DnsPart) -> float:
    """How long one record type's answer is kept: its own TTL, RFC 2308 for negatives."""
    ttl = float(part.min_ttl) if part.min_ttl is not None else 0.0
    if part.addresses:
        return min(ttl, MAX_TTL)
    if part.error is None or part.error in (ErrorCode.NXDOMAIN.value, ErrorCode.NO_ADDRESS.value):
        # NXDOMAIN, or NODATA (no error, no address): the negative answer's TTL, capped.
        return min(ttl or NEGATIVE_TTL_CAP, NEGATIVE_TTL_CAP)
    if part.error in _SHORT_LIVED:
        return SERVFAIL_TTL
    return 0.0
