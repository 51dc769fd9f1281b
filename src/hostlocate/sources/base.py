"""What the locator asks of its sources: one small protocol per kind of source.

The locator receives its sources (or builds the defaults), so a test can hand
it fakes and a new source (a shared cache, another registry client) plugs in
without touching it. Each source keeps its own cache and says when an answer
expires, so the cache-only path and the live path read the same answers.
Remote faults are answers too (an ``error`` code), never exceptions.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal, Protocol

from hostlocate.models import (
    AutnumInfo,
    DnsPart,
    GeoFacts,
    IpOwnership,
    RegistrarInfo,
    SourceInfo,
)

__all__ = ["DnsSource", "GeoSource", "OwnerSource", "RateBudget", "RdapCache", "RdapEntryKind"]

RdapEntryKind = Literal["registrar", "negative", "autnum"]
"""The keyed entries an :class:`RdapCache` holds beside network ranges:
registrars by domain, remembered 404s by address, autonomous systems by number."""


class DnsSource(Protocol):
    """Answers for one name and one record type (``A`` or ``AAAA``)."""

    @property
    def resolver_names(self) -> tuple[str, ...]:
        """The resolvers asked, as ``host:port``, for provenance."""
        ...

    def cached(self, host: str, rdtype: str) -> tuple[DnsPart, float] | None:
        """The cached answer and when it expires (``time.monotonic``), or None."""
        ...

    async def resolve(self, host: str, rdtype: str, *, deadline: float) -> DnsPart:
        """The answer, asked of the network where it is not cached; never raises
        for a remote fault."""
        ...

    def stats(self) -> dict[str, Any]:
        """Counters for ``Locator.stats()``."""
        ...

    async def aclose(self) -> None:
        """Release sockets and connections."""
        ...


class OwnerSource(Protocol):
    """Who holds an address, its AS and who registered a domain (RDAP)."""

    def cached_ip(self, ip: str) -> tuple[IpOwnership, float] | None:
        """The cached holder of ``ip`` and when that answer expires, or None."""
        ...

    def cached_domain(self, domain: str) -> tuple[RegistrarInfo, float] | None:
        """The cached registrar of ``domain`` and when that answer expires, or None."""
        ...

    def cached_autnum(self, asn: int) -> tuple[AutnumInfo, float] | None:
        """The cached answer for AS ``asn`` and when it expires, or None."""
        ...

    async def lookup_ip(self, ip: str, *, deadline: float | None = None) -> IpOwnership:
        """The holder of ``ip``; faults come back in ``error``."""
        ...

    async def lookup_domain(self, domain: str, *, deadline: float | None = None) -> RegistrarInfo:
        """The registrar of ``domain``; faults come back in ``error``."""
        ...

    async def lookup_autnum(self, asn: int, *, deadline: float | None = None) -> AutnumInfo:
        """The name and abuse contacts of AS ``asn``: the contact of last resort when
        the network names none; faults come back in ``error``."""
        ...

    def stats(self) -> dict[str, Any]:
        """Counters for ``Locator.stats()``."""
        ...

    async def aclose(self) -> None:
        """Stop look-ups under way and release the HTTP client."""
        ...


class GeoSource(Protocol):
    """Country and AS of an address from local databases (no network)."""

    def lookup(self, ip: str) -> GeoFacts:
        """What the databases say of ``ip`` (empty facts where they say nothing)."""
        ...

    def sources(self) -> dict[str, SourceInfo]:
        """The databases behind the facts, for provenance."""
        ...

    def close(self) -> None:
        """Release the memory maps."""
        ...


class RdapCache(Protocol):
    """Where the RDAP client keeps its answers: in memory (the default), in the
    SQLite store, or in a store shared by many workers.

    Values are opaque bytes the client encodes (msgpack of its records) and
    decodes again; a backend stores them as given and forgets them after their
    ``ttl`` (seconds, always positive and finite). Network ranges are kept per
    RDAP *service* (the base URL the bootstrap gives for the address), so an
    answer from one service never answers an address another service is
    authoritative for. A backend must never raise: a fault is a miss, or a
    write dropped.
    """

    def find_network(
        self, service: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address
    ) -> tuple[bytes, float] | None:
        """The smallest live range stored for ``service`` holding ``address``:
        its value and the seconds it has left, or None."""
        ...

    def put_network(
        self, service: str, version: int, start: int, end: int, value: bytes, ttl: float
    ) -> None:
        """Keep ``value`` for the addresses ``start``..``end`` (integers, both
        included) of IP ``version``, as an answer of ``service``."""
        ...

    def get_entry(self, kind: RdapEntryKind, key: str) -> tuple[bytes, float] | None:
        """The live value kept under ``key`` and the seconds it has left, or None."""
        ...

    def put_entry(self, kind: RdapEntryKind, key: str, value: bytes, ttl: float) -> None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds."""
        ...


class RateBudget(Protocol):
    """The request budget of each registry, shared by every look-up that uses it.

    Registries limit clients by address, not by process, so several workers
    behind one address may share one budget. Times are ``time.monotonic()``
    values of the caller's process.
    """

    async def acquire(self, registry: str, deadline: float) -> bool:
        """Wait for one request's token of ``registry``; False (nothing taken,
        no wait) when none can be had before ``deadline``."""
        ...

    async def pause(self, registry: str, seconds: float) -> None:
        """The registry said ``Retry-After``: nobody asks it for ``seconds``
        (finite, already bounded by the client's ``max_retry_wait``)."""
        ...

    def stats(self) -> dict[str, float]:
        """``waits``, ``wait_seconds`` and ``refusals`` so far, for ``stats()``."""
        ...
