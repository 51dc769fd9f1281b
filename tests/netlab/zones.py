"""The zones of the loopback test internet, as data, and their zone-file text.

Pure: no sockets, no files. `lab.py` writes what `render_zones()` returns and
points NSD at it. Addresses are real public addresses of real providers, so the
bundled geolocation and ASN databases give real answers for them.

The tree is a real delegation tree: the root delegates the TLDs, each TLD its
second-level zones, every cut with NS records in the parent and glue where the
name server is below the cut. Every name server is 127.0.0.1 (port 53 never
answers in the lab; unbound reaches NSD's port through one stub-zone per zone).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

__all__ = [
    "BROKEN_DELEGATIONS",
    "BULK_COUNT",
    "BULK_NETWORK_COUNT",
    "BULK_ZONE",
    "CHAIN_LENGTH",
    "CYMRU_ZONE",
    "HOSTED_ZONES",
    "SCENARIOS",
    "Scenario",
    "bulk_address",
    "bulk_asn",
    "bulk_name",
    "bulk_network",
    "name_servers",
    "render_zones",
    "zone_file_name",
]

TTL = 300
NEGATIVE_TTL = 60
NS_ADDRESS = "127.0.0.1"

CHAIN_LENGTH = 12
"""CNAMEs in the chain0.corp-site.com -> ... -> chain12.corp-site.com chain."""

BIG_COUNT = 80
"""A records at big.corp-site.com: more than a 1232-byte UDP answer holds."""

BULK_ZONE = "bench-lab.com"
BULK_COUNT = 5000
"""Names h0..h4999.bulk.bench-lab.com, each with its own A record."""
BULK_NETWORK_COUNT = 300
"""Distinct /24 networks the bulk names are spread over."""

# Three /8s that IANA allocated to the RIPE NCC (IANA IPv4 address space
# registry: 62/8, 193/8, 194/8), none holding special-purpose space.
_BULK_FIRST_OCTETS = (193, 194, 62)


def bulk_network(k: int) -> str:
    """The k-th bulk /24 (0 <= k < BULK_NETWORK_COUNT), as "a.b.c.0/24".

    First octet cycles through 193, 194, 62 (all RIPE NCC space); the second
    octet is 10 + 2*(k // 3), so every network sits in its own /16; the third
    octet is (37*k) % 256. An RDAP lab can thus answer any bulk address with
    one RIPE-shaped /24 network object per k.
    """
    if not 0 <= k < BULK_NETWORK_COUNT:
        raise ValueError(f"bulk network index out of range: {k}")
    first = _BULK_FIRST_OCTETS[k % 3]
    second = 10 + 2 * (k // 3)
    third = (37 * k) % 256
    return f"{first}.{second}.{third}.0/24"


def bulk_address(i: int) -> str:
    """Address of hI.bulk.bench-lab.com: host 1 + i // 300 in network i % 300."""
    if not 0 <= i < BULK_COUNT:
        raise ValueError(f"bulk name index out of range: {i}")
    prefix = bulk_network(i % BULK_NETWORK_COUNT).rsplit(".", 1)[0]
    return f"{prefix}.{1 + i // BULK_NETWORK_COUNT}"


def bulk_name(i: int) -> str:
    """The i-th bulk benchmark name (not fully qualified)."""
    return f"h{i}.bulk.{BULK_ZONE}"


CYMRU_ZONE = "cymru.com"
"""Team Cymru's IP-to-ASN DNS service, answered for the bulk networks only.

A naive pipeline (ipwhois with ``asn_methods=["dns"]``) asks
``<reversed address>.origin.asn.cymru.com TXT`` and then ``AS<n>.asn.cymru.com
TXT``; the lab answers both, so the benchmark baseline never leaves loopback.
"""
_BULK_ASN_FIRST = 64496
"""RFC 5398 documentation ASNs 64496-64511."""
_BULK_DATE = "2024-01-15"


def bulk_asn(k: int) -> int:
    """The (documentation) ASN the lab's Cymru zone gives bulk network k."""
    if not 0 <= k < BULK_NETWORK_COUNT:
        raise ValueError(f"bulk network index out of range: {k}")
    return _BULK_ASN_FIRST + k % 16


@dataclasses.dataclass(frozen=True, kw_only=True)
class Scenario:
    """One name the lab serves and what a recursive resolver answers for it.

    `rcode` is the resolver's answer for an A query; `addresses` are the final
    A and AAAA data (sorted), `cnames` the chain targets in order.
    """

    name: str
    purpose: str
    addresses: tuple[str, ...] = ()
    cnames: tuple[str, ...] = ()
    rcode: str = "NOERROR"


SCENARIOS: Mapping[str, Scenario] = {
    "fr": Scenario(name="www.ovh-site.fr", addresses=("164.132.1.1",), purpose="OVH, FR"),
    "v6only": Scenario(
        name="v6only.ovh-site.fr",
        addresses=("2001:41d0:2:193d::5",),
        purpose="AAAA only (OVH FR)",
    ),
    "cname_chain": Scenario(
        name="www.brand-shop.com",
        cnames=("shop.edge-host.net", "origin.hetzner-host.de"),
        addresses=("88.198.1.1",),
        purpose="CNAME chain across three zones, ends at Hetzner DE",
    ),
    "round_robin": Scenario(
        name="rr.multi-host.com",
        addresses=("193.0.6.139", "62.239.237.1"),
        purpose="round robin, two countries (GB, NL)",
    ),
    "same_net_a": Scenario(
        name="a.multi-host.com", addresses=("193.0.6.139",), purpose="RIPE NCC network"
    ),
    "same_net_b": Scenario(
        name="b.multi-host.com",
        addresses=("193.0.6.140",),
        purpose="same network as a.multi-host.com",
    ),
    "cdn": Scenario(
        name="cdn.cf-site.com",
        cnames=("cf-site.com.cdn.cloudflare.net",),
        addresses=("104.16.132.229", "2606:4700::6810:84e5"),
        purpose="CDN via CNAME (Cloudflare)",
    ),
    "partial_cdn": Scenario(
        name="mixed.cf-site.com",
        addresses=("104.16.132.229", "62.239.237.1"),
        purpose="one CDN address, one plain hosting address",
    ),
    "anycast": Scenario(
        name="anycast.dns-site.net", addresses=("1.1.1.1",), purpose="anycast (APNIC)"
    ),
    "cn": Scenario(name="www.cn-site.com", addresses=("61.181.2.38",), purpose="CN"),
    "kr": Scenario(name="www.kr-site.com", addresses=("210.107.73.73",), purpose="KR"),
    "br": Scenario(name="www.br-site.com", addresses=("187.36.192.120",), purpose="BR"),
    "mx": Scenario(name="www.mx-site.com", addresses=("200.57.141.161",), purpose="MX"),
    "za": Scenario(name="www.za-site.com", addresses=("196.216.2.20",), purpose="AFRINIC"),
    "google": Scenario(
        name="www.google-site.com",
        addresses=("74.125.225.229",),
        purpose="ARIN, zero-padded addresses",
    ),
    "us": Scenario(
        name="www.us-site.com",
        addresses=("108.45.128.208",),
        purpose="ARIN, abuse only in a nested entity",
    ),
    "ru": Scenario(name="www.ru-site.com", addresses=("194.85.61.205",), purpose="RIPE"),
    "ch": Scenario(name="www.ch-site.com", addresses=("130.59.31.80",), purpose="SWITCH"),
    "uk": Scenario(
        name="www.uk-site.co.uk",
        addresses=("2a00:2381:ffff::1",),
        purpose="RIPE 2015 shape, under co.uk",
    ),
    "aws": Scenario(name="www.aws-site.com", addresses=("3.3.3.3",), purpose="Amazon"),
    # RFC 6761 6.2 and 6.5: resolved like any other name (OVH FR, Hetzner DE)
    "test_tld": Scenario(name="www.hotline-lab.test", addresses=("164.132.1.2",), purpose=".test"),
    "example_tld": Scenario(name="www.shop.example", addresses=("88.198.1.2",), purpose=".example"),
    "mismatch": Scenario(
        name="www.mismatch-site.com",
        addresses=("86.54.11.1",),
        purpose="located GB, registered DE (RIPE): geo_registry_mismatch",
    ),
    "private": Scenario(
        name="intranet.corp-site.com", addresses=("10.1.2.3",), purpose="private only"
    ),
    "loopback": Scenario(
        name="lo.corp-site.com", addresses=("127.0.0.1",), purpose="loopback only"
    ),
    "mixed_private": Scenario(
        name="half.corp-site.com",
        addresses=("10.1.2.3", "193.0.6.139"),
        purpose="public and private",
    ),
    "nxdomain": Scenario(name="nope.corp-site.com", rcode="NXDOMAIN", purpose="absent name"),
    "not_delegated": Scenario(
        name="ghost-domain.com", rcode="NXDOMAIN", purpose="not delegated in com"
    ),
    "nodata": Scenario(name="nodata.corp-site.com", purpose="TXT only: NOERROR, no address"),
    "servfail": Scenario(
        name="www.broken-site.com",
        rcode="SERVFAIL",
        purpose="delegated to name servers in a domain that does not exist",
    ),
    "refused": Scenario(
        name="www.refused-site.com", rcode="REFUSED", purpose="unbound local-zone refuse"
    ),
    "cname_loop": Scenario(
        name="loop1.corp-site.com",
        rcode="SERVFAIL",
        purpose="loop1 and loop2 CNAME each other",
    ),
    "long_chain": Scenario(
        name="chain0.corp-site.com",
        cnames=tuple(f"chain{i}.corp-site.com" for i in range(1, CHAIN_LENGTH + 1)),
        addresses=("193.0.6.139",),
        purpose=f"{CHAIN_LENGTH} CNAMEs, longer than the library's limit (8)",
    ),
    "big": Scenario(
        name="big.corp-site.com",
        addresses=tuple(sorted(f"193.0.0.{i}" for i in range(1, BIG_COUNT + 1))),
        purpose=f"{BIG_COUNT} A records: truncated over UDP, complete over TCP",
    ),
    "wildcard": Scenario(
        name="anything.wild.corp-site.com",
        addresses=("193.0.6.139",),
        purpose="*.wild.corp-site.com",
    ),
    "platform": Scenario(
        name="someuser.github.io",
        addresses=("185.199.108.153", "185.199.109.153"),
        purpose="GitHub Pages, under the PSL private suffix github.io (front-ends)",
    ),
    "platform_on_cdn": Scenario(
        name="my-gallery.pages.dev",
        addresses=("172.66.44.59",),
        purpose="Cloudflare Pages: Cloudflare hosts the content, not only fronts it",
    ),
    "redirector": Scenario(
        name="bit.ly", addresses=("67.199.248.10", "67.199.248.11"), purpose="Bitly (shortener)"
    ),
    "afrinic_remarks": Scenario(
        name="www.ng-site.com",
        addresses=("102.88.34.10",),
        purpose="AFRINIC network whose abuse address is only in its remarks",
    ),
    "jpnic": Scenario(
        name="www.jp-site.com",
        addresses=("133.242.10.20",),
        purpose="APNIC address whose record sits at JPNIC",
    ),
    "bulk": Scenario(
        name=bulk_name(0),
        addresses=(bulk_address(0),),
        purpose="benchmark names h0..h4999.bulk.bench-lab.com",
    ),
}
"""Every scenario of the lab by key; `DnsLab.names` maps the same keys to names."""

_Record = tuple[str, str, str]  # owner relative to the zone ("@" = apex), type, rdata


def _hosts(zone: str) -> list[_Record]:
    return [
        (owner, rtype, rdata)
        for s in SCENARIOS.values()
        if s.name.endswith("." + zone) and not s.cnames
        for owner in [s.name.removesuffix("." + zone)]
        for rdata in s.addresses
        for rtype in ["AAAA" if ":" in rdata else "A"]
    ]


def _corp_records() -> list[_Record]:
    records: list[_Record] = [
        ("intranet", "A", "10.1.2.3"),
        ("lo", "A", "127.0.0.1"),
        ("half", "A", "10.1.2.3"),
        ("half", "A", "193.0.6.139"),
        ("nodata", "TXT", '"no address here"'),
        ("loop1", "CNAME", "loop2.corp-site.com."),
        ("loop2", "CNAME", "loop1.corp-site.com."),
        ("*.wild", "A", "193.0.6.139"),
        (f"chain{CHAIN_LENGTH}", "A", "193.0.6.139"),
    ]
    records += [(f"chain{i}", "CNAME", f"chain{i + 1}.corp-site.com.") for i in range(CHAIN_LENGTH)]
    records += [("big", "A", f"193.0.0.{i}") for i in range(1, BIG_COUNT + 1)]
    return records


def _bulk_records() -> list[_Record]:
    records = [(f"h{i}.bulk", "A", bulk_address(i)) for i in range(BULK_COUNT)]
    # Names past the numbered set still resolve (to the first bulk address).
    records.append(("*.bulk", "A", bulk_address(0)))
    return records


def _cymru_records() -> list[_Record]:
    records: list[_Record] = []
    for k in range(BULK_NETWORK_COUNT):
        network = bulk_network(k)
        a, b, c, _ = network.split("/")[0].split(".")
        # One wildcard per /24 answers every address in it, as Cymru does.
        txt = f'"{bulk_asn(k)} | {network} | NL | ripencc | {_BULK_DATE}"'
        records.append((f"*.{c}.{b}.{a}.origin.asn", "TXT", txt))
    for asn in sorted({bulk_asn(k) for k in range(BULK_NETWORK_COUNT)}):
        txt = f'"{asn} | NL | ripencc | {_BULK_DATE} | BENCH-LAB-AS{asn}, NL"'
        records.append((f"AS{asn}.asn", "TXT", txt))
    return records


HOSTED_ZONES: Mapping[str, list[_Record]] = {
    ".": [],
    "com": [],
    "net": [],
    "fr": [],
    "de": [],
    "uk": [],
    "co.uk": [],
    "root-servers.net": [("a", "A", NS_ADDRESS), ("b", "A", NS_ADDRESS)],
    "ovh-site.fr": _hosts("ovh-site.fr"),
    "brand-shop.com": [("www", "CNAME", "shop.edge-host.net.")],
    "edge-host.net": [("shop", "CNAME", "origin.hetzner-host.de.")],
    "hetzner-host.de": [("origin", "A", "88.198.1.1")],
    "multi-host.com": _hosts("multi-host.com"),
    "cf-site.com": [
        ("cdn", "CNAME", "cf-site.com.cdn.cloudflare.net."),
        ("mixed", "A", "104.16.132.229"),
        ("mixed", "A", "62.239.237.1"),
    ],
    "cloudflare.net": [
        ("cf-site.com.cdn", "A", "104.16.132.229"),
        ("cf-site.com.cdn", "AAAA", "2606:4700::6810:84e5"),
    ],
    "dns-site.net": _hosts("dns-site.net"),
    "cn-site.com": _hosts("cn-site.com"),
    "kr-site.com": _hosts("kr-site.com"),
    "br-site.com": _hosts("br-site.com"),
    "mx-site.com": _hosts("mx-site.com"),
    "za-site.com": _hosts("za-site.com"),
    "google-site.com": _hosts("google-site.com"),
    "us-site.com": _hosts("us-site.com"),
    "ru-site.com": _hosts("ru-site.com"),
    "ch-site.com": _hosts("ch-site.com"),
    "uk-site.co.uk": _hosts("uk-site.co.uk"),
    "aws-site.com": _hosts("aws-site.com"),
    "mismatch-site.com": _hosts("mismatch-site.com"),
    "io": [],
    "github.io": _hosts("github.io"),
    "dev": [],
    "pages.dev": _hosts("pages.dev"),
    "ly": [],
    "bit.ly": [("@", "A", "67.199.248.10"), ("@", "A", "67.199.248.11")],
    "ng-site.com": _hosts("ng-site.com"),
    "jp-site.com": _hosts("jp-site.com"),
    "test": [],
    "hotline-lab.test": _hosts("hotline-lab.test"),
    "example": [],
    "shop.example": _hosts("shop.example"),
    "corp-site.com": _corp_records(),
    BULK_ZONE: _bulk_records(),
    CYMRU_ZONE: _cymru_records(),
}
"""Zones NSD serves, with their records beyond SOA, NS and glue."""

BROKEN_DELEGATIONS: Mapping[str, tuple[str, ...]] = {
    # Its name servers are in a domain com does not delegate: unbound finds no
    # address for them and answers SERVFAIL at once, sending nothing anywhere.
    "broken-site.com": ("ns1.nowhere-lab.com", "ns2.nowhere-lab.com"),
}
"""Delegations to zones nobody serves: parent zone NS records, no glue."""


def _fq(name: str) -> str:
    return "." if name == "." else name.rstrip(".") + "."


def _is_under(name: str, zone: str) -> bool:
    return zone == "." or name == zone or name.endswith("." + zone)


def name_servers(zone: str) -> tuple[str, ...]:
    """The NS names of a hosted zone."""
    if zone == ".":
        return ("a.root-servers.net", "b.root-servers.net")
    if "." not in zone or zone == "co.uk":
        return (f"a.nic.{zone}", f"b.nic.{zone}")
    return (f"ns1.{zone}", f"ns2.{zone}")


def _parent(zone: str, zones: Iterable[str]) -> str:
    candidates = [z for z in zones if z != zone and _is_under(zone, z)]
    return max(candidates, key=lambda z: 0 if z == "." else z.count(".") + 1)


def zone_file_name(zone: str) -> str:
    """File name of a zone in NSD's zonesdir."""
    return "root.zone" if zone == "." else f"{zone}.zone"


def render_zones(serial: int = 1) -> dict[str, str]:
    """Zone-file text for every hosted zone, keyed by zone name."""
    zones = list(HOSTED_ZONES)
    children: dict[str, dict[str, tuple[str, ...]]] = {z: {} for z in zones}
    for zone in zones:
        if zone != ".":
            children[_parent(zone, zones)][zone] = name_servers(zone)
    for zone, servers in BROKEN_DELEGATIONS.items():
        children[_parent(zone, zones)][zone] = servers

    texts: dict[str, str] = {}
    for zone in zones:
        own_ns = name_servers(zone)
        lines = [
            f"$ORIGIN {_fq(zone)}",
            f"$TTL {TTL}",
            f"@ IN SOA {_fq(own_ns[0])} hostmaster.{_fq(zone) if zone != '.' else ''} "
            f"{serial} 3600 600 86400 {NEGATIVE_TTL}",
        ]
        lines += [f"@ IN NS {_fq(ns)}" for ns in own_ns]
        glue_needed: set[str] = set(own_ns)
        for child, servers in sorted(children[zone].items()):
            lines += [f"{_fq(child)} IN NS {_fq(ns)}" for ns in servers]
            if child not in BROKEN_DELEGATIONS:
                glue_needed.update(servers)
        own_data = {
            _fq(f"{owner}.{zone}") for owner, rtype, _ in HOSTED_ZONES[zone] if rtype == "A"
        }
        for ns in sorted(glue_needed):
            if _is_under(ns, zone) and _fq(ns) not in own_data:
                lines.append(f"{_fq(ns)} IN A {NS_ADDRESS}")
        for owner, rtype, rdata in HOSTED_ZONES[zone]:
            lines.append(f"{owner} IN {rtype} {rdata}")
        texts[zone] = "\n".join(lines) + "\n"
    return texts
