"""DNS: the CNAME chain and the addresses of a host, asked of recursive resolvers.

This module is the only one that sends DNS queries. It speaks to the resolvers
itself rather than through ``dns.resolver`` so that every outcome (NXDOMAIN,
NODATA, SERVFAIL, REFUSED, timeout, a closed port) keeps its own error code and
the whole look-up stays inside one deadline. UDP goes through the bulk
transport of ``_dns_transport`` (long-lived sockets, retransmits, a window per
resolver); answers that come back truncated are asked again over TCP.
See docs/dns.md.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from hostlocate.errors import ConfigError, ErrorCode
from hostlocate.models import DnsPart
from hostlocate.sources._dns_transport import (
    ExchangeRefused,
    ExchangeTimeout,
    ExchangeTruncated,
    Resolvers,
)
from hostlocate.sources._dns_wire import Answer, rcode_text
from hostlocate.sources._nameservers import Nameserver, configured_nameservers
from hostlocate.sources._nameservers import parse_nameserver as parse_nameserver
from hostlocate.sources._nameservers import system_nameservers as system_nameservers

DEFAULT_MAX_CNAMES = 8
"""Longest CNAME chain followed; real sites rarely need more than 4."""
DEFAULT_QUERY_TIMEOUT = 2.0


_RDTYPES = {"A": 1, "AAAA": 28}
_RCODES = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}


def _rdtype(text: str) -> int:
    return int(dns.rdatatype.RdataType.make(text))


@dataclass(slots=True)
class _Outcome:
    """One query type's result."""

    rcode: str | None = None
    error: str | None = None
    chain: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    min_ttl: int | None = None
    queries: int = 0


class DnsClient:
    """Resolves names through the configured recursive resolvers."""

    def __init__(
        self,
        nameservers: Sequence[str | Nameserver] | None = None,
        *,
        query_timeout: float = DEFAULT_QUERY_TIMEOUT,
        max_cnames: int = DEFAULT_MAX_CNAMES,
    ) -> None:
        self.nameservers = configured_nameservers(nameservers)
        if query_timeout <= 0:
            raise ConfigError("query_timeout must be positive")
        self.query_timeout = query_timeout
        self._names: tuple[str, ...] | None = None
        self.max_cnames = max_cnames
        self.transport = Resolvers()
        """The UDP transport: its sockets live only while queries are in flight."""

    @property
    def resolver_names(self) -> tuple[str, ...]:
        """The resolvers, as ``host:port`` (named in every verdict's provenance)."""
        names = self._names
        if names is None or len(names) != len(self.nameservers):
            names = self._names = tuple(str(ns) for ns in self.nameservers)
        return names

    async def resolve_part(self, host: str, rdtype: str, *, deadline: float) -> DnsPart:
        """One record type (``A`` or ``AAAA``) for ``host`` (ASCII), with its CNAME chain.

        ``deadline`` is a ``time.monotonic()`` value. Never raises for DNS faults.
        """
        if not self.nameservers:
            return DnsPart(rdtype=rdtype, chain=(host,), error=ErrorCode.DNS_ERROR.value)
        o = await self._resolve_type(host, _RDTYPES.get(rdtype) or _rdtype(rdtype), deadline)
        return DnsPart(
            rdtype=rdtype,
            rcode=o.rcode,
            error=o.error,
            chain=tuple(o.chain),
            addresses=tuple(o.addresses),
            min_ttl=o.min_ttl,
            queries=o.queries,
        )

    async def _resolve_type(self, host: str, rdtype: int, deadline: float) -> _Outcome:
        outcome = _Outcome(chain=[host])
        qname = host
        seen = {host.lower()}
        # Restarts happen only when a resolver hands back a chain it did not finish.
        for _ in range(self.max_cnames + 1):
            response, error, sent = await self._ask(qname, rdtype, deadline)
            outcome.queries += sent
            if response is None:
                outcome.error = error
                return outcome
            rcode = _RCODES.get(response.rcode) or rcode_text(response.rcode)
            outcome.rcode = rcode
            target, stop = _walk(response, qname, rdtype, outcome, seen, self.max_cnames)
            if stop is not None:
                outcome.error = stop
                return outcome
            if rcode == "NXDOMAIN":
                _negative_ttl(response, outcome)
                outcome.error = ErrorCode.NXDOMAIN.value
                return outcome
            if rcode == "SERVFAIL":
                outcome.error = ErrorCode.SERVFAIL.value
                return outcome
            if rcode == "REFUSED":
                outcome.error = ErrorCode.REFUSED.value
                return outcome
            if rcode != "NOERROR":
                outcome.error = ErrorCode.DNS_ERROR.value
                return outcome
            if not outcome.addresses:
                _negative_ttl(response, outcome)
            if outcome.addresses or target is None or response.soa is not None:
                return outcome
            qname = target
        outcome.error = ErrorCode.CNAME_TOO_LONG.value
        return outcome

    async def _exchange(self, qname: str, rdtype: int, ns: Nameserver, deadline: float) -> Answer:
        """UDP, then TCP when the answer is truncated: both legs inside one deadline.

        (``udp_with_fallback`` would give the TCP leg a whole new timeout.)
        """
        try:
            return await self.transport.exchange(
                qname, rdtype, ns.host, ns.port, timeout=self.query_timeout, deadline=deadline
            )
        except ExchangeTruncated:
            remaining = deadline - time.monotonic()
            query = dns.message.make_query(qname, dns.rdatatype.RdataType(rdtype))
            query.flags |= dns.flags.RD
            # No time left makes the TCP leg time out at once.
            response = await dns.asyncquery.tcp(
                query, ns.host, timeout=max(0.0, min(self.query_timeout, remaining)), port=ns.port
            )
            return Answer.from_message(response)

    async def _ask(
        self, qname: str, rdtype: int, deadline: float
    ) -> tuple[Answer | None, str, int]:
        """Ask each resolver in turn; a SERVFAIL, timeout or closed port moves on to the next."""
        error = ErrorCode.DNS_TIMEOUT.value
        last: Answer | None = None
        sent = 0
        for ns in self.nameservers:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            sent += 1
            try:
                response = await self._exchange(qname, rdtype, ns, deadline)
            except (ExchangeTimeout, dns.exception.Timeout):
                error = ErrorCode.DNS_TIMEOUT.value
                continue
            except (ExchangeRefused, ConnectionRefusedError):
                # Nothing listens there (ICMP port unreachable): said at once, not
                # after the timeout, and apart from a resolver that is silent.
                error = ErrorCode.DNS_REFUSED.value
                continue
            except (OSError, dns.exception.DNSException, EOFError, ValueError):
                error = ErrorCode.DNS_ERROR.value
                continue
            if response.rcode == dns.rcode.SERVFAIL:
                last, error = response, ErrorCode.SERVFAIL.value
                continue
            return response, "", sent
        if last is not None:
            return last, "", sent
        return None, error, sent


def _walk(
    response: Answer | dns.message.Message,
    qname: str,
    rdtype: int,
    outcome: _Outcome,
    seen: set[str],
    max_cnames: int,
) -> tuple[str | None, str | None]:
    """Follow the CNAMEs in one answer from ``qname``; collect the final addresses.

    Returns the last name reached when its data is missing (to ask again), and an
    error code that ends the look-up (loop, chain too long). A message parsed by
    dnspython is read as the transport would read its bytes.
    """
    if isinstance(response, dns.message.Message):
        response = Answer.from_message(response)
    cnames = response.cnames
    records = response.addresses
    name = qname.lower()
    while True:
        found = records.get((name, rdtype))
        if found is not None:
            addrs, ttl = found
            outcome.addresses.extend(addrs)
            _ttl(outcome, ttl)
            return None, None
        if name not in cnames:
            return (name if name != qname.lower() else None), None
        target, ttl = cnames[name]
        _ttl(outcome, ttl)
        if target in seen:
            outcome.chain.append(target)
            return None, ErrorCode.CNAME_LOOP.value
        seen.add(target)
        outcome.chain.append(target)
        if len(outcome.chain) - 1 > max_cnames:
            return None, ErrorCode.CNAME_TOO_LONG.value
        name = target


def _negative_ttl(response: Answer, outcome: _Outcome) -> None:
    """RFC 2308: a negative answer lives for the smaller of the SOA's TTL and minimum."""
    if response.soa is not None:
        ttl, minimum = response.soa
        _ttl(outcome, min(ttl, minimum))


def _ttl(outcome: _Outcome, ttl: int) -> None:
    if outcome.min_ttl is None or ttl < outcome.min_ttl:
        outcome.min_ttl = ttl
