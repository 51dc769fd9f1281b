"""Special-purpose addresses and reserved names: hosts that are nobody's hosting.

A verdict must not place a loopback, private or documentation address in a
country, nor send DNS queries for ``.onion`` names. This module says which
addresses and names are special, and how.

:func:`classify_ip` runs once per address DNS returns, so it avoids
``ipaddress`` (``is_global`` costs 11-15 µs): the IANA special-purpose
registries are flattened at import into sorted integer ranges, looked up with
``bisect`` on the packed address, and answers are memoised.

Address classes (``None`` means globally routable):

============== ================================================================
class          ranges
============== ================================================================
unspecified    ``0.0.0.0/32``, ``::/128``
loopback       ``127.0.0.0/8``, ``::1/128``
private        ``10/8``, ``172.16/12``, ``192.168/16``, ``fc00::/7`` (ULA)
cgnat          ``100.64.0.0/10`` (shared address space, RFC 6598)
link_local     ``169.254.0.0/16``, ``fe80::/10``
documentation  ``192.0.2/24``, ``198.51.100/24``, ``203.0.113/24``,
               ``2001:db8::/32``, ``3fff::/20``
benchmarking   ``198.18.0.0/15``, ``2001:2::/48``
multicast      ``224.0.0.0/4``, ``ff00::/8``
broadcast      ``255.255.255.255/32``
ipv4_mapped    ``::ffff:0:0/96`` (an IPv4 address written as IPv6)
reserved       everything else IANA marks not globally reachable: ``0/8``,
               ``192.0.0/24`` (but its two global anycast /32s), ``192.88.99/24``,
               ``240/4``, ``::/96``, ``::ffff:0:0:0/96``, ``64:ff9b:1::/48``,
               ``100::/64``, ``2001::/23`` (Teredo, ORCHID; not its global
               carve-outs), ``5f00::/16``, ``fec0::/10``, and all IPv6 outside
               ``2000::/3``
============== ================================================================

Name classes for :func:`classify_host`: ``onion`` (RFC 7686), ``i2p``,
``localhost`` (``localhost`` and ``*.localhost``, RFC 6761) and
``reserved_name`` (``.invalid``, ``.local``, ``.alt``, ``.internal``,
``home.arpa``). Names under ``.test`` and ``.example`` (and ``example.com``,
``.net``, ``.org``) are ordinary: RFC 6761 sections 6.2 and 6.5 say resolution
libraries should not treat them as special but send their queries to the
configured resolvers, which may well answer them (a test network, IANA's
example sites).
"""

from __future__ import annotations

import ipaddress
import socket
from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache

UNSPECIFIED = "unspecified"
LOOPBACK = "loopback"
PRIVATE = "private"
CGNAT = "cgnat"
LINK_LOCAL = "link_local"
DOCUMENTATION = "documentation"
BENCHMARKING = "benchmarking"
MULTICAST = "multicast"
BROADCAST = "broadcast"
IPV4_MAPPED = "ipv4_mapped"
RESERVED = "reserved"

ONION = "onion"
I2P = "i2p"
LOCALHOST = "localhost"
RESERVED_NAME = "reserved_name"

ADDRESS_CLASSES = frozenset(
    {
        UNSPECIFIED,
        LOOPBACK,
        PRIVATE,
        CGNAT,
        LINK_LOCAL,
        DOCUMENTATION,
        BENCHMARKING,
        MULTICAST,
        BROADCAST,
        IPV4_MAPPED,
        RESERVED,
    }
)
"""Every value :func:`classify_ip` can return besides None."""

NAME_CLASSES = frozenset({ONION, I2P, LOCALHOST, RESERVED_NAME})
"""Every value :func:`classify_host` can return besides None."""

# (network, class); None marks a globally routable carve-out. The most
# specific network containing an address decides, so carve-outs can sit
# inside wider special ranges.
_V4_RANGES: tuple[tuple[str, str | None], ...] = (
    ("0.0.0.0/8", RESERVED),
    ("0.0.0.0/32", UNSPECIFIED),
    ("10.0.0.0/8", PRIVATE),
    ("100.64.0.0/10", CGNAT),
    ("127.0.0.0/8", LOOPBACK),
    ("169.254.0.0/16", LINK_LOCAL),
    ("172.16.0.0/12", PRIVATE),
    ("192.0.0.0/24", RESERVED),
    ("192.0.0.9/32", None),  # Port Control Protocol anycast
    ("192.0.0.10/32", None),  # Traversal Using Relays around NAT anycast
    ("192.0.2.0/24", DOCUMENTATION),
    ("192.88.99.0/24", RESERVED),  # deprecated 6to4 relay anycast
    ("192.168.0.0/16", PRIVATE),
    ("198.18.0.0/15", BENCHMARKING),
    ("198.51.100.0/24", DOCUMENTATION),
    ("203.0.113.0/24", DOCUMENTATION),
    ("224.0.0.0/4", MULTICAST),
    ("240.0.0.0/4", RESERVED),
    ("255.255.255.255/32", BROADCAST),
)

_V6_RANGES: tuple[tuple[str, str | None], ...] = (
    ("::/0", RESERVED),  # outside 2000::/3 nothing is allocated for global unicast
    ("2000::/3", None),
    ("::/128", UNSPECIFIED),
    ("::1/128", LOOPBACK),
    ("::ffff:0:0/96", IPV4_MAPPED),
    ("64:ff9b::/96", None),  # NAT64 well-known prefix: IANA marks it global
    ("2001::/23", RESERVED),
    ("2001:1::1/128", None),
    ("2001:1::2/128", None),
    ("2001:1::3/128", None),
    ("2001:2::/48", BENCHMARKING),
    ("2001:3::/32", None),  # AMT
    ("2001:4:112::/48", None),  # AS112-v6
    ("2001:20::/28", None),  # ORCHIDv2
    ("2001:30::/28", None),  # Drone Remote ID
    ("2001:db8::/32", DOCUMENTATION),
    ("3fff::/20", DOCUMENTATION),
    ("5f00::/16", RESERVED),  # SRv6 SIDs
    ("fc00::/7", PRIVATE),
    ("fe80::/10", LINK_LOCAL),
    ("fec0::/10", RESERVED),  # deprecated site-local
    ("ff00::/8", MULTICAST),
)


def _flatten(
    ranges: Sequence[tuple[str, str | None]], bits: int
) -> tuple[list[int], list[str | None]]:
    """Disjoint sorted (start, class) runs where the most specific network wins."""
    nets = [(ipaddress.ip_network(cidr), cls) for cidr, cls in ranges]
    bounds = {0}
    for net, _ in nets:
        bounds.add(int(net.network_address))
        bounds.add(int(net.broadcast_address) + 1)
    starts: list[int] = []
    classes: list[str | None] = []
    for point in sorted(b for b in bounds if b < 1 << bits):
        best: str | None = None
        best_len = -1
        for net, cls in nets:
            if (
                int(net.network_address) <= point <= int(net.broadcast_address)
                and net.prefixlen > best_len
            ):
                best, best_len = cls, net.prefixlen
        if classes and classes[-1] == best:
            continue
        starts.append(point)
        classes.append(best)
    return starts, classes


_V4_STARTS, _V4_CLASSES = _flatten(_V4_RANGES, 32)
_V6_STARTS, _V6_CLASSES = _flatten(_V6_RANGES, 128)


@lru_cache(maxsize=65536)
def classify_ip(ip: str) -> str | None:
    """The special-purpose class of an address, or None when it is globally routable.

    Accepts dotted-quad IPv4 and any textual IPv6 (brackets and a ``%zone``
    suffix are tolerated). Raises ``ValueError`` for anything else.
    """
    text = ip
    if ":" in text:
        if text[:1] == "[" and text[-1:] == "]":
            text = text[1:-1]
        text = text.partition("%")[0]
        family, starts, classes = socket.AF_INET6, _V6_STARTS, _V6_CLASSES
    else:
        family, starts, classes = socket.AF_INET, _V4_STARTS, _V4_CLASSES
    try:
        packed = socket.inet_pton(family, text)
    except (OSError, ValueError):
        raise ValueError(f"not an IP address: {ip!r}") from None
    return classes[bisect_right(starts, int.from_bytes(packed, "big")) - 1]


_RESERVED_TLDS = frozenset({"invalid", "local", "alt", "internal"})
_RESERVED_DOMAINS = ("home.arpa",)


@lru_cache(maxsize=65536)
def classify_host(ascii_host: str) -> str | None:
    """The special class of a host name, or None for an ordinary DNS name.

    Expects the ASCII (A-label) form; case and one trailing dot are ignored.
    """
    name = ascii_host.lower()
    if name.endswith("."):
        name = name[:-1]
    tld = name.rpartition(".")[2]
    if tld == "onion":
        return ONION
    if tld == "i2p":
        return I2P
    if tld == "localhost":
        return LOCALHOST
    if tld in _RESERVED_TLDS:
        return RESERVED_NAME
    for domain in _RESERVED_DOMAINS:
        if name == domain or name.endswith("." + domain):
            return RESERVED_NAME
    return None
