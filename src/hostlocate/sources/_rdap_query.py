"""The look-ups of the RDAP client, one class per kind (address, domain, AS).

:class:`~hostlocate.sources.rdap.RdapClient` runs every kind through one path
(join the look-up under way or lead one, fetch, fail, keep); each class here
says only what differs: its keys, the request, how the answer is built, read
back and kept.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import time
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import quote

import msgspec

from hostlocate._inflight import InFlight
from hostlocate.errors import ErrorCode
from hostlocate.models import AutnumInfo, IpOwnership, RegistrarInfo
from hostlocate.sources._rdap_fetch import Fetched, Fetcher, Tally
from hostlocate.sources._rdap_parse import (
    NetworkFacts,
    ParseError,
    abuse_emails,
    parse_network,
    parse_registrar,
)
from hostlocate.sources.base import RdapEntryKind
from hostlocate.sources.bootstrap import Bootstrap

if TYPE_CHECKING:
    from hostlocate.sources.rdap import RdapClient

__all__ = [
    "IP_DECODER",
    "AutnumQuery",
    "DomainQuery",
    "IpQuery",
    "Query",
    "decoded",
    "domain_key",
]

log = logging.getLogger("hostlocate.rdap")

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_T = TypeVar("_T", IpOwnership, RegistrarInfo, AutnumInfo)
_V = TypeVar("_V")
IP_DECODER = msgspec.msgpack.Decoder(IpOwnership)
_DOMAIN_DECODER = msgspec.msgpack.Decoder(RegistrarInfo)
_AUTNUM_DECODER = msgspec.msgpack.Decoder(AutnumInfo)


class Query(Generic[_T]):
    """One look-up of one kind: its keys, its request, and how its answer is read and kept."""

    counter = ""
    """Prefix of its ``*_hits``/``*_misses`` counters."""
    entry: RdapEntryKind = "negative"
    """Where its 404 (and, for exact keys, its answer) is kept."""
    exact = True
    """Keyed by exactly what was asked: a waiter may take any answer of the one it joined."""

    def __init__(
        self,
        client: RdapClient,
        key: str,
        path: str,
        flight: Hashable,
        flights: InFlight[Any, _T],
        decoder: msgspec.msgpack.Decoder[_T],
        make: Callable[..., _T],
    ) -> None:
        self.client = client
        self.key = key
        self.path = path
        self.flight = flight
        self.flights: InFlight[Any, _T] = flights
        self.decoder: msgspec.msgpack.Decoder[_T] = decoder
        self._make: Callable[..., _T] = make

    def __str__(self) -> str:
        return self.key

    def record(self, **fields: Any) -> _T:
        """This look-up's answer (or failure) with ``fields``: its key is filled in."""
        return self._make(**fields)

    def fail(self, code: ErrorCode, detail: str, requests: int) -> _T:
        self.client._failed(code)
        return self.record(error=code.value, detail=detail, requests=requests)

    def cached(self) -> tuple[_T, float] | None:
        """The live cached answer and the ``time.monotonic()`` moment it expires."""
        hit = self.client._read(self.entry, self.key, self.decoder)
        if hit is not None:
            self.client._counts[f"{self.counter}_hits"] += 1
        return hit

    def refused(self) -> str | None:
        """Why no registry is asked at all, or None."""
        return None

    def services(self, bootstrap: Bootstrap) -> Sequence[str]:
        raise NotImplementedError

    async def build(self, fetcher: Fetcher, fetched: Fetched, deadline: float, tally: Tally) -> _T:
        """The answer from the registry's JSON; raises ``ParseError``."""
        raise NotImplementedError

    def keep(self, result: _T) -> None:
        self.client._keep(self.entry, self.key, result, self.client._cache_ttl)


class IpQuery(Query[IpOwnership]):
    counter = "cache"
    exact = False  # a block is asked for, and one network may not cover all of it

    def __init__(self, client: RdapClient, address: _Address, text: str | None = None) -> None:
        key = str(address)
        flights = client._ip_flights
        super().__init__(
            client, key, f"ip/{key}", block_key(address), flights, IP_DECODER, IpOwnership
        )
        self.address = address
        self.text = text or key
        self._facts: NetworkFacts | None = None
        self._registry = ""

    def cached(self) -> tuple[IpOwnership, float] | None:
        client = self.client
        service = client._service_key(self.address)
        network = None if service is None else client._cache.find_network(service, self.address)
        found = None if network is None else decoded(IP_DECODER, network)
        if found is not None:
            client._remember(self.text, found)
        else:
            found = client._read("negative", self.key, IP_DECODER)
        if found is not None:
            client._counts["cache_hits"] += 1
        return found

    def refused(self) -> str | None:
        return None if self.address.is_global else "not a public address"

    def services(self, bootstrap: Bootstrap) -> Sequence[str]:
        return bootstrap.service_for_ip(self.address)

    async def build(
        self, fetcher: Fetcher, fetched: Fetched, deadline: float, tally: Tally
    ) -> IpOwnership:
        facts = parse_network(
            fetched.body,
            registry=fetched.registry,
            source_url=fetched.url,
            address=str(self.address),
        )
        self._facts, self._registry = facts, fetched.registry
        linked: tuple[str, ...] = ()
        if not facts.abuse_emails:
            linked = await self.client._follow_entities(
                fetcher, facts.abuse_refs, fetched.url, "ip", deadline, tally
            )
        return IpOwnership(
            network=facts.network,
            abuse_emails=facts.notice_emails(linked),
            holder=facts.holder,
            requests=tally.requests,
        )

    def keep(self, result: IpOwnership) -> None:
        facts, client = self._facts, self.client
        service = client._service_key(self.address)
        if facts is None or service is None:
            return
        span = client.cacheable_span(self.address, facts.version, facts.start, facts.end)
        if span is None:
            log.info("RDAP: %s answered a range that does not hold the address", self._registry)
            return
        if span[1:] != (facts.start, facts.end):
            log.info("RDAP: %s answered a range wider than its bootstrap entry", service)
        kept = msgspec.structs.replace(result, from_cache=True, requests=0)
        client._cache.put_network(service, *span, client._encode(kept), client._cache_ttl)


class DomainQuery(Query[RegistrarInfo]):
    counter = "domain_cache"
    entry = "registrar"

    def __init__(self, client: RdapClient, name: str) -> None:
        path = f"domain/{quote(name, safe='.')}"
        make = functools.partial(RegistrarInfo, domain=name)
        super().__init__(client, name, path, name, client._domain_flights, _DOMAIN_DECODER, make)

    def services(self, bootstrap: Bootstrap) -> Sequence[str]:
        return bootstrap.service_for_domain(self.key)

    async def build(
        self, fetcher: Fetcher, fetched: Fetched, deadline: float, tally: Tally
    ) -> RegistrarInfo:
        facts = parse_registrar(fetched.body)
        contact = {"abuse_email": facts.abuse_email, "abuse_phone": facts.abuse_phone}
        named = {"name": facts.registrar, "iana_id": facts.iana_id}
        return self.record(source_url=fetched.url, requests=tally.requests, **named, **contact)


class AutnumQuery(Query[AutnumInfo]):
    counter = "autnum_cache"
    entry = "autnum"

    def __init__(self, client: RdapClient, asn: int) -> None:
        flights, make = client._autnum_flights, functools.partial(AutnumInfo, asn=asn)
        super().__init__(client, str(asn), f"autnum/{asn}", asn, flights, _AUTNUM_DECODER, make)
        self.asn = asn

    def services(self, bootstrap: Bootstrap) -> Sequence[str]:
        return bootstrap.service_for_asn(self.asn)

    async def build(
        self, fetcher: Fetcher, fetched: Fetched, deadline: float, tally: Tally
    ) -> AutnumInfo:
        body = fetched.body
        if body.get("objectClassName", "autnum") != "autnum":
            raise ParseError(f"expected an autnum object, got {body['objectClassName']!r}")
        emails, refs = abuse_emails(body)
        if not emails:
            emails = await self.client._follow_entities(
                fetcher, refs, fetched.url, "autnum", deadline, tally
            )
        name = body.get("name")
        return self.record(
            name=name if isinstance(name, str) else None,
            abuse_emails=emails,
            source_url=fetched.url,
            requests=tally.requests,
        )


def block_key(address: _Address) -> tuple[int, int]:
    if address.version == 4:
        return 4, int(address) >> 8
    return 6, int(address) >> 80


def domain_key(domain: str) -> str:
    return domain.strip().rstrip(".").lower()


def decoded(
    decoder: msgspec.msgpack.Decoder[_V], found: tuple[bytes, float]
) -> tuple[_V, float] | None:
    """A cached value and the ``time.monotonic()`` moment it expires; None when
    the bytes no longer decode (a record changed between versions)."""
    try:
        return decoder.decode(found[0]), time.monotonic() + found[1]
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
