"""What the locator asks of its sources: one small protocol per kind of source.

The locator receives its sources (or builds the defaults), so a test can hand
it fakes and a new source (a shared cache, another registry client) plugs in
without touching it. Each source keeps its own cache and says when an answer
expires, so the cache-only path and the live path read the same answers.
Remote faults are answers too (an ``error`` code), never exceptions.
"""

from __future__ import annotations

from typing import Any, Protocol

from hostlocate.models import DnsPart, GeoFacts, IpOwnership, RegistrarInfo, SourceInfo

__all__ = ["DnsSource", "GeoSource", "OwnerSource"]


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
    """Who holds an address and who registered a domain (RDAP)."""

    def cached_ip(self, ip: str) -> tuple[IpOwnership, float] | None:
        """The cached holder of ``ip`` and when that answer expires, or None."""
        ...

    def cached_domain(self, domain: str) -> tuple[RegistrarInfo, float] | None:
        """The cached registrar of ``domain`` and when that answer expires, or None."""
        ...

    async def lookup_ip(self, ip: str, *, deadline: float | None = None) -> IpOwnership:
        """The holder of ``ip``; faults come back in ``error``."""
        ...

    async def lookup_domain(self, domain: str, *, deadline: float | None = None) -> RegistrarInfo:
        """The registrar of ``domain``; faults come back in ``error``."""
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
