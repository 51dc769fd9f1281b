"""The look-up plan: what a reported URL needs asked, and the decision once it is known.

Pure, in the manner of dnspython's ``_Resolution``: :meth:`Plan.steps` is a
generator that yields the questions it needs answered next, as a tuple (the
live driver asks them concurrently), receives the answers in the same order,
and returns the host's DNS facts and :class:`~hostlocate.decide.Decision`. It does no I/O
and imports no source, so the cache-only driver and the live driver in
``locator.py`` run the very same code: a cached answer and a fresh one are
decided alike.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Callable, Generator
from typing import NamedTuple, cast

import msgspec

from hostlocate import decide
from hostlocate.errors import ErrorCode
from hostlocate.models import (
    AddressFacts,
    AutnumInfo,
    DnsPart,
    DNSResult,
    Hotline,
    IpOwnership,
    Platform,
    Provider,
    RegistrarInfo,
    ReportedURL,
)

__all__ = [
    "Answer",
    "AutnumOf",
    "Need",
    "Outcome",
    "OwnerOf",
    "Plan",
    "RegistrarOf",
    "ResolveName",
    "Steps",
    "combine_dns",
]

DEFAULT_MAX_ADDRESSES = 32
"""Addresses kept per host; a huge answer is cut, not refused."""


class ResolveName(NamedTuple):
    """The answer of one record type (``A`` or ``AAAA``) for a name."""

    host: str
    rdtype: str


class OwnerOf(NamedTuple):
    """Who holds an address (RDAP ``ip``)."""

    ip: str


class RegistrarOf(NamedTuple):
    """Who registered a domain (RDAP ``domain``)."""

    domain: str


class AutnumOf(NamedTuple):
    """The abuse desk of an autonomous system (RDAP ``autnum``)."""

    asn: int


Need = ResolveName | OwnerOf | RegistrarOf | AutnumOf
Answer = DnsPart | IpOwnership | RegistrarInfo | AutnumInfo


class Outcome(NamedTuple):
    """What a plan ends with: the host's DNS facts (None for an IP literal) and decision."""

    dns: DNSResult | None
    decision: decide.Decision


Steps = Generator[tuple[Need, ...], tuple[Answer, ...], Outcome]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The steps of a look-up under one locator's settings and data.

    ``address_facts`` gives an address's local facts (class, GeoIP, ASN,
    provider): local data, read by the caller's code. The other callables are
    the loaded tables (providers by CNAME, hotlines by country, platforms and
    redirectors by URL). ``registrar``: ask who registered the domain (only
    with ``rdap``).
    """

    address_facts: Callable[[str], AddressFacts]
    provider_for_name: Callable[[str], Provider | None]
    hotlines_for: Callable[[str], tuple[Hotline, ...]]
    platform_for: Callable[[ReportedURL, tuple[str, ...]], decide.PlatformHit | None]
    redirector_for: Callable[[ReportedURL], Platform | None]
    rdap: bool
    registrar: bool
    max_addresses: int = DEFAULT_MAX_ADDRESSES

    def steps(self, url: ReportedURL, origin: tuple[str, ...] = ()) -> Steps:
        """Questions out, answers in, the host's decision at the end.

        ``url`` is an ordinary host (special names are decided without a plan);
        ``origin``: addresses an intermediary disclosed, looked up like the host's.
        """
        dns_result: DNSResult | None = None
        if url.is_ip:
            # An IPv4 address carried in an IPv6 literal (mapped, NAT64) is the one to place.
            ips: tuple[str, ...] = (url.embedded_ipv4 or url.host,)
        else:
            v4, v6 = yield (ResolveName(url.host, "A"), ResolveName(url.host, "AAAA"))
            dns_result = combine_dns(
                url.host, cast(DnsPart, v4), cast(DnsPart, v6), self.max_addresses
            )
            ips = dns_result.addresses
        local = [self.address_facts(ip) for ip in ips]
        disclosed = [self.address_facts(ip) for ip in origin]
        owned = (
            list(dict.fromkeys(f.ip for f in (*local, *disclosed) if f.public)) if self.rdap else []
        )
        needs: list[Need] = [OwnerOf(ip) for ip in owned]
        domain = url.icann_registered_domain
        if self.registrar and self.rdap and ips and not url.is_ip and domain is not None:
            needs.append(RegistrarOf(domain))
        answers: tuple[Answer, ...] = (yield tuple(needs)) if needs else ()
        # The drivers answer each need with its own kind of record, in order.
        owners = dict(zip(owned, cast(tuple[IpOwnership, ...], answers[: len(owned)]), strict=True))
        registrar = cast(RegistrarInfo, answers[-1]) if len(needs) > len(owned) else None
        # A network whose record names no abuse desk: its origin AS's may.
        silent = sorted(
            {
                f.asn
                for f in (*local, *disclosed)
                if f.asn is not None and decide.needs_as_contact(owners.get(f.ip))
            }
        )
        as_contacts: dict[int, tuple[str, ...]] = {}
        if silent:
            found = yield tuple(AutnumOf(asn) for asn in silent)
            for asn, info in zip(silent, cast(tuple[AutnumInfo, ...], found), strict=True):
                if info.error is None and info.abuse_emails:
                    as_contacts[asn] = info.abuse_emails
        chain = dns_result.cname_chain if dns_result is not None else ()

        def with_owners(facts: list[AddressFacts]) -> tuple[AddressFacts, ...]:
            return tuple(
                decide.with_owner(f, owners[f.ip], as_contacts.get(f.asn or -1, ()))
                if f.ip in owners
                else f
                for f in facts
            )

        evidence = decide.Evidence(
            dns=dns_result,
            addresses=with_owners(local),
            cname_providers=self._chain_providers(chain),
            origin=with_owners(disclosed),
            platform=self.platform_for(url, chain),
            redirector=self.redirector_for(url),
            registrar=registrar,
            rdap_enabled=self.rdap,
            embedded=(url.host, url.ip_embedding) if url.embedded_ipv4 else None,
        )
        decision = decide.decide_host(evidence, self.hotlines_for)
        return Outcome(dns_result, decision)

    def _chain_providers(self, chain: tuple[str, ...]) -> tuple[Provider, ...]:
        found: list[Provider] = []
        for name in chain:
            provider = self.provider_for_name(name)
            if provider is not None:
                found.append(msgspec.structs.replace(provider, matched_name=name))
        return tuple(found)


_ERROR_RANK = {
    ErrorCode.CNAME_LOOP.value: 0,
    ErrorCode.CNAME_TOO_LONG.value: 1,
    ErrorCode.NXDOMAIN.value: 2,
    ErrorCode.SERVFAIL.value: 3,
    ErrorCode.REFUSED.value: 4,
    ErrorCode.DNS_REFUSED.value: 5,
    ErrorCode.DNS_ERROR.value: 6,
    ErrorCode.DNS_TIMEOUT.value: 7,
}
_CHAIN_ERRORS = (ErrorCode.CNAME_LOOP.value, ErrorCode.CNAME_TOO_LONG.value)


def _address_order(address: str) -> tuple[bool, bytes]:
    """IPv4 before IPv6, each by numeric value (``inet_pton``: a tenth of ``ipaddress``'s cost)."""
    v6 = ":" in address
    return v6, socket.inet_pton(socket.AF_INET6 if v6 else socket.AF_INET, address)


def combine_dns(host: str, v4: DnsPart, v6: DnsPart, max_addresses: int) -> DNSResult:
    """The verdict's DNS facts from a host's A and AAAA answers."""
    chain = v4.chain if len(v4.chain) >= len(v6.chain) else v6.chain
    # Sorted, IPv4 first: resolvers rotate round-robin answers, and the same
    # answers must give the same verdict.
    addresses = sorted(set(v4.addresses) | set(v6.addresses), key=_address_order)
    del addresses[max_addresses:]
    ttls = [t for t in (v4.min_ttl, v6.min_ttl) if t is not None]
    error: str | None
    rcode: str | None
    if addresses:
        rcode = "NOERROR"
        error = None
        # A loop or an over-long chain taints the whole answer even if one type resolved.
        for part in (v4, v6):
            if part.error in _CHAIN_ERRORS:
                error = part.error
    else:
        errors = [e for e in (v4.error, v6.error) if e]
        error = (
            min(errors, key=lambda e: _ERROR_RANK.get(e, 9))
            if errors
            else ErrorCode.NO_ADDRESS.value
        )
        rcode = v4.rcode or v6.rcode
        if error == ErrorCode.NXDOMAIN.value:
            rcode = "NXDOMAIN"
    if error in _CHAIN_ERRORS:
        addresses = []
    return DNSResult(
        cname_chain=tuple(chain) if chain else (host,),
        addresses=tuple(addresses),
        rcode=rcode,
        min_ttl=min(ttls) if ttls else None,
        error=error,
        queries=v4.queries + v6.queries,
    )
