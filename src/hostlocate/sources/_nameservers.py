"""The resolvers a locator asks, known without dnspython, and a DNS client built when needed.

A locator names its resolvers in every verdict's provenance from the start,
but many runs never resolve a name (an IP literal, answers all cached): the
DNS client, dnspython and the UDP transport are loaded only at the first
name to resolve (:class:`DeferredClient`). See docs/benchmarks.md, Start-up.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hostlocate.errors import ConfigError

if TYPE_CHECKING:
    from hostlocate.models import DnsPart
    from hostlocate.sources.dns import DnsClient

__all__ = [
    "RESOLV_CONF",
    "DeferredClient",
    "Nameserver",
    "configured_nameservers",
    "parse_nameserver",
    "system_nameservers",
]

RESOLV_CONF = "/etc/resolv.conf"
"""Where a POSIX system names its resolvers."""


@dataclass(frozen=True, slots=True)
class Nameserver:
    """A recursive resolver to ask."""

    host: str
    port: int = 53

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_nameserver(text: str) -> Nameserver:
    """Read ``host``, ``host:port``, ``[v6]`` or ``[v6]:port``."""
    text = text.strip()
    host, port = text, 53
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ConfigError(f"bad nameserver {text!r}: missing ']'")
        host = text[1:end]
        rest = text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ConfigError(f"bad nameserver {text!r}")
            port = _port(rest[1:], text)
    elif text.count(":") == 1:
        host, _, p = text.partition(":")
        port = _port(p, text)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError(f"bad nameserver {text!r}: an IP address is needed") from None
    return Nameserver(host, port)


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ConfigError(f"bad nameserver {whole!r}: bad port")
    return int(text)


def system_nameservers(resolv_conf: str = RESOLV_CONF) -> list[Nameserver]:
    """The machine's resolvers, as ``/etc/resolv.conf`` (or the platform) names them.

    On POSIX the file is read here, as dnspython reads it (``nameserver``
    lines; ``#`` and ``;`` start a comment line), so that naming the resolvers
    costs no dnspython import; entries that are not IP addresses are skipped.
    Elsewhere (the Windows registry) dnspython's reader is used.
    """
    if sys.platform == "win32":  # pragma: no cover - the registry reader
        return _dnspython_nameservers()
    try:
        with open(resolv_conf, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        if line[:1] in ("#", ";"):
            continue
        tokens = line.split()
        if len(tokens) < 2 or tokens[0] != "nameserver":
            continue
        try:
            ipaddress.ip_address(tokens[1])
        except ValueError:
            continue
        out.append(Nameserver(tokens[1]))
    return out


def configured_nameservers(nameservers: Sequence[str | Nameserver] | None) -> list[Nameserver]:
    """The resolvers given (``host[:port]`` text or :class:`Nameserver`), else the system's."""
    if nameservers:
        return [ns if isinstance(ns, Nameserver) else parse_nameserver(ns) for ns in nameservers]
    return system_nameservers()


def _dnspython_nameservers() -> list[Nameserver]:  # pragma: no cover - Windows
    import dns.exception
    import dns.resolver

    try:
        resolver = dns.resolver.Resolver(configure=True)
    except dns.exception.DNSException:
        return []
    out = []
    for ns in resolver.nameservers:
        address = str(ns)
        try:
            ipaddress.ip_address(address)
        except ValueError:
            continue
        out.append(Nameserver(address, int(resolver.port)))
    return out


class DeferredClient:
    """A :class:`~hostlocate.sources.dns.DnsClient` made at the first name to resolve.

    The resolvers are read and the options checked at once (a bad one is the
    caller's error now, not at the first query); dnspython and the transport
    are imported only when a query is to be sent.
    """

    def __init__(
        self, nameservers: Sequence[str | Nameserver] | None = None, *, query_timeout: float
    ) -> None:
        self.nameservers = configured_nameservers(nameservers)
        if query_timeout <= 0:
            raise ConfigError("query_timeout must be positive")
        self.query_timeout = query_timeout
        self.resolver_names = tuple(str(ns) for ns in self.nameservers)
        """The resolvers, as ``host:port`` (named in every verdict's provenance)."""
        self._client: DnsClient | None = None

    @property
    def client(self) -> DnsClient:
        """The client itself, made (and dnspython imported) on first use."""
        if self._client is None:
            from hostlocate.sources.dns import DnsClient

            self._client = DnsClient(self.nameservers, query_timeout=self.query_timeout)
        return self._client

    async def resolve_part(self, host: str, rdtype: str, *, deadline: float) -> DnsPart:
        """See :meth:`hostlocate.sources.dns.DnsClient.resolve_part`."""
        return await self.client.resolve_part(host, rdtype, deadline=deadline)
