"""In-memory sources that keep the protocols of ``hostlocate.sources.base``.

They answer from tables given by the test, keep answers for their TTL as the
real sources' caches do, and count what they were asked, so a locator can be
driven without any network and its drivers compared.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from hostlocate.errors import ErrorCode
from hostlocate.models import (
    AutnumInfo,
    DnsPart,
    GeoFacts,
    IpOwnership,
    RegistrarInfo,
    SourceInfo,
)


class FakeDns:
    """Answers per (host, type) from a table; unknown names are NXDOMAIN."""

    def __init__(
        self,
        table: dict[tuple[str, str], DnsPart],
        ttl: float = 300.0,
        ttls: dict[tuple[str, str], float] | None = None,
    ) -> None:
        self.table = table
        self.ttl = ttl
        self.ttls = ttls or {}
        self.asked: Counter[tuple[str, str]] = Counter()
        self._cache: dict[tuple[str, str], tuple[DnsPart, float]] = {}

    @property
    def resolver_names(self) -> tuple[str, ...]:
        return ("fake:53",)

    def cached(self, host: str, rdtype: str) -> tuple[DnsPart, float] | None:
        hit = self._cache.get((host, rdtype))
        if hit is None or hit[1] <= time.monotonic():
            return None
        return hit

    async def resolve(self, host: str, rdtype: str, *, deadline: float) -> DnsPart:
        hit = self.cached(host, rdtype)
        if hit is not None:
            return hit[0]
        self.asked[(host, rdtype)] += 1
        part = self.table.get((host, rdtype)) or DnsPart(
            rdtype=rdtype, rcode="NXDOMAIN", error=ErrorCode.NXDOMAIN.value, chain=(host,)
        )
        asked = DnsPart(
            rdtype=part.rdtype,
            rcode=part.rcode,
            error=part.error,
            chain=part.chain or (host,),
            addresses=part.addresses,
            min_ttl=part.min_ttl,
            queries=1,
        )
        kept = DnsPart(
            rdtype=asked.rdtype,
            rcode=asked.rcode,
            error=asked.error,
            chain=asked.chain,
            addresses=asked.addresses,
            min_ttl=asked.min_ttl,
        )
        ttl = self.ttls.get((host, rdtype), self.ttl)
        self._cache[(host, rdtype)] = (kept, time.monotonic() + ttl)
        return asked

    def stats(self) -> dict[str, Any]:
        return {"dns_cache": {"asked": sum(self.asked.values())}}

    async def aclose(self) -> None:
        self.closed = True


class FakeOwners:
    """RDAP answers from tables; an address not listed is ``rdap_not_found``."""

    def __init__(
        self,
        networks: dict[str, IpOwnership],
        registrars: dict[str, RegistrarInfo] | None = None,
        ttl: float = 600.0,
        autnums: dict[int, AutnumInfo] | None = None,
    ) -> None:
        self.networks = networks
        self.registrars = registrars or {}
        self.autnums = autnums or {}
        self._asns: dict[int, tuple[AutnumInfo, float]] = {}
        self.ttl = ttl
        self.asked: Counter[str] = Counter()
        self._ips: dict[str, tuple[IpOwnership, float]] = {}
        self._domains: dict[str, tuple[RegistrarInfo, float]] = {}

    def cached_ip(self, ip: str) -> tuple[IpOwnership, float] | None:
        hit = self._ips.get(ip)
        return hit if hit is not None and hit[1] > time.monotonic() else None

    def cached_domain(self, domain: str) -> tuple[RegistrarInfo, float] | None:
        hit = self._domains.get(domain)
        return hit if hit is not None and hit[1] > time.monotonic() else None

    async def lookup_ip(self, ip: str, *, deadline: float | None = None) -> IpOwnership:
        self.asked[ip] += 1
        found = self.networks.get(ip) or IpOwnership(error=ErrorCode.RDAP_NOT_FOUND.value)
        self._ips[ip] = (found, time.monotonic() + self.ttl)
        return found

    async def lookup_domain(self, domain: str, *, deadline: float | None = None) -> RegistrarInfo:
        self.asked[domain] += 1
        found = self.registrars.get(domain) or RegistrarInfo(
            domain=domain, error=ErrorCode.RDAP_NOT_FOUND.value
        )
        self._domains[domain] = (found, time.monotonic() + self.ttl)
        return found

    def cached_autnum(self, asn: int) -> tuple[AutnumInfo, float] | None:
        hit = self._asns.get(asn)
        return hit if hit is not None and hit[1] > time.monotonic() else None

    async def lookup_autnum(self, asn: int, *, deadline: float | None = None) -> AutnumInfo:
        self.asked[f"AS{asn}"] += 1
        found = self.autnums.get(asn) or AutnumInfo(asn=asn, error=ErrorCode.RDAP_NOT_FOUND.value)
        self._asns[asn] = (found, time.monotonic() + self.ttl)
        return found

    def stats(self) -> dict[str, Any]:
        return {"asked": sum(self.asked.values())}

    async def aclose(self) -> None:
        self.closed = True


class FakeGeo:
    """GeoIP facts from a table; unknown addresses have none."""

    def __init__(self, table: dict[str, GeoFacts]) -> None:
        self.table = table
        self.closed = False

    def lookup(self, ip: str) -> GeoFacts:
        return self.table.get(ip, GeoFacts())

    def sources(self) -> dict[str, SourceInfo]:
        return {"geoip_country": SourceInfo(name="fake geolocation table")}

    def close(self) -> None:
        self.closed = True
