"""The DNS lab answers as the scenario table says, through real NSD and unbound."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import struct
import time
import uuid
from pathlib import Path

import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.zone
import pytest

from tests.netlab import (
    SCENARIOS,
    DnsLab,
    bulk_address,
    bulk_name,
    bulk_network,
    split_address,
    start_dns_lab,
)
from tests.netlab.zones import (
    BULK_NETWORK_COUNT,
    CHAIN_LENGTH,
    HOSTED_ZONES,
    bulk_asn,
    name_servers,
)

pytestmark = pytest.mark.integration


def _resolver(address: str, lifetime: float = 2.0) -> dns.resolver.Resolver:
    host, port = split_address(address)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = port
    resolver.timeout = lifetime
    resolver.lifetime = lifetime
    resolver.cache = None
    return resolver


def _ask(
    address: str, qname: str, rdtype: str = "A", *, timeout: float = 2.0, tcp: bool = False
) -> dns.message.Message:
    host, port = split_address(address)
    query = dns.message.make_query(qname, rdtype)
    if tcp:
        return dns.query.tcp(query, host, port=port, timeout=timeout)
    return dns.query.udp(query, host, port=port, timeout=timeout)


def _data(reply: dns.message.Message, rdtype: str) -> list[str]:
    wanted = dns.rdatatype.from_text(rdtype)
    return sorted(rd.to_text() for rrset in reply.answer if rrset.rdtype == wanted for rd in rrset)


def _axfr(lab: DnsLab, zone: str) -> dns.zone.Zone:
    host, port = split_address(lab.authoritative)
    messages = dns.query.xfr(host, zone, port=port, timeout=5, lifetime=10, relativize=False)
    return dns.zone.from_xfr(messages, relativize=False)


# --- every scenario with data resolves to exactly its data ------------------------------

_RESOLVING = [key for key, s in SCENARIOS.items() if s.rcode == "NOERROR" and s.addresses]


@pytest.mark.parametrize("key", _RESOLVING)
def test_scenario_resolves_to_its_addresses(dns_lab: DnsLab, key: str) -> None:
    scenario = SCENARIOS[key]
    v4 = _ask(dns_lab.resolver, scenario.name, "A", tcp=True)
    v6 = _ask(dns_lab.resolver, scenario.name, "AAAA", tcp=True)
    assert v4.rcode() == v6.rcode() == dns.rcode.NOERROR
    addresses = sorted(_data(v4, "A") + _data(v6, "AAAA"))
    assert addresses == sorted(scenario.addresses)
    targets = [t.rstrip(".") for t in _chain(v4)]
    assert tuple(targets) == scenario.cnames


def _chain(reply: dns.message.Message) -> list[str]:
    """CNAME targets in answer order, following owner -> target."""
    links = {
        rrset.name.to_text(): rrset[0].target.to_text()
        for rrset in reply.answer
        if rrset.rdtype == dns.rdatatype.CNAME
    }
    out: list[str] = []
    name = reply.question[0].name.to_text()
    while name in links and len(out) <= len(links):
        name = links[name]
        out.append(name)
    return out


# --- the delegation tree ------------------------------------------------------------------


def test_every_hosted_zone_is_delegated_by_its_parent_with_glue(dns_lab: DnsLab) -> None:
    transfers = {zone: _axfr(dns_lab, zone) for zone in HOSTED_ZONES}
    for zone in HOSTED_ZONES:
        if zone == ".":
            continue
        parent = max(
            (z for z in HOSTED_ZONES if z != zone and (z == "." or zone.endswith("." + z))),
            key=len,
        )
        cut = dns.name.from_text(zone)
        ns_at_parent = transfers[parent].get_rdataset(cut, "NS")
        assert ns_at_parent is not None, f"{parent} does not delegate {zone}"
        assert sorted(r.target.to_text() for r in ns_at_parent) == sorted(
            dns.name.from_text(ns).to_text() for ns in name_servers(zone)
        )
        for ns in ns_at_parent:
            glue = transfers[parent].get_rdataset(ns.target, "A")
            assert glue is not None and [g.address for g in glue] == ["127.0.0.1"]


def test_resolver_walks_from_the_root_to_the_zone_name_servers(dns_lab: DnsLab) -> None:
    root = _ask(dns_lab.resolver, ".", "NS")
    assert _data(root, "NS") == ["a.root-servers.net.", "b.root-servers.net."]
    tld = _ask(dns_lab.resolver, "co.uk", "NS")
    assert _data(tld, "NS") == ["a.nic.co.uk.", "b.nic.co.uk."]
    sld = _ask(dns_lab.resolver, "uk-site.co.uk", "NS")
    assert _data(sld, "NS") == ["ns1.uk-site.co.uk.", "ns2.uk-site.co.uk."]


def test_authoritative_refers_a_zone_it_does_not_serve(dns_lab: DnsLab) -> None:
    query = dns.message.make_query("www.broken-site.com", "A")
    query.flags &= ~dns.flags.RD
    host, port = split_address(dns_lab.authoritative)
    reply = dns.query.udp(query, host, port=port, timeout=2)
    assert reply.rcode() == dns.rcode.NOERROR
    assert not reply.flags & dns.flags.AA
    assert not reply.answer
    referral = [r for r in reply.authority if r.rdtype == dns.rdatatype.NS]
    assert referral and referral[0].name.to_text() == "broken-site.com."
    assert sorted(r.target.to_text() for r in referral[0]) == [
        "ns1.nowhere-lab.com.",
        "ns2.nowhere-lab.com.",
    ]


def test_authoritative_does_not_recurse(dns_lab: DnsLab) -> None:
    reply = _ask(dns_lab.authoritative, "www.ovh-site.fr")
    assert reply.flags & dns.flags.AA
    assert not reply.flags & dns.flags.RA


# --- answers through unbound ----------------------------------------------------------------


def test_cname_chain_across_three_zones_comes_back_in_one_answer(dns_lab: DnsLab) -> None:
    dns_lab.flush()
    reply = _ask(dns_lab.resolver, "www.brand-shop.com")
    assert [(r.name.to_text(), dns.rdatatype.to_text(r.rdtype)) for r in reply.answer] == [
        ("www.brand-shop.com.", "CNAME"),
        ("shop.edge-host.net.", "CNAME"),
        ("origin.hetzner-host.de.", "A"),
    ]
    assert _data(reply, "A") == ["88.198.1.1"]


def test_authoritative_alone_answers_the_chain_across_its_own_zones(dns_lab: DnsLab) -> None:
    # Why unbound gets one stub-zone per zone: NSD, hosting all three zones,
    # puts the whole chain in one reply; unbound scrubs what lies outside the
    # zone it asked and chases each target with its own query.
    reply = _ask(dns_lab.authoritative, "www.brand-shop.com")
    assert reply.flags & dns.flags.AA
    assert len(_chain(reply)) == 2
    assert _data(reply, "A") == ["88.198.1.1"]


def test_round_robin_returns_both_addresses_in_varying_order(dns_lab: DnsLab) -> None:
    orders = set()
    for _ in range(20):
        reply = _ask(dns_lab.resolver, "rr.multi-host.com")
        a = next(r for r in reply.answer if r.rdtype == dns.rdatatype.A)
        orders.add(tuple(rd.address for rd in a))
    assert {frozenset(order) for order in orders} == {frozenset({"62.239.237.1", "193.0.6.139"})}
    assert len(orders) == 2


def test_aaaa_only_host_has_no_a_record(dns_lab: DnsLab) -> None:
    resolver = _resolver(dns_lab.resolver)
    with pytest.raises(dns.resolver.NoAnswer):
        resolver.resolve("v6only.ovh-site.fr", "A")
    answer = resolver.resolve("v6only.ovh-site.fr", "AAAA")
    assert [rd.address for rd in answer] == ["2001:41d0:2:193d::5"]


def test_absent_name_is_nxdomain_with_the_zone_soa(dns_lab: DnsLab) -> None:
    reply = _ask(dns_lab.resolver, "nope.corp-site.com")
    assert reply.rcode() == dns.rcode.NXDOMAIN
    assert [r.name.to_text() for r in reply.authority] == ["corp-site.com."]
    with pytest.raises(dns.resolver.NXDOMAIN):
        _resolver(dns_lab.resolver).resolve("nope.corp-site.com", "A")


def test_undelegated_domain_is_nxdomain_from_the_tld(dns_lab: DnsLab) -> None:
    reply = _ask(dns_lab.resolver, "ghost-domain.com")
    assert reply.rcode() == dns.rcode.NXDOMAIN
    assert [r.name.to_text() for r in reply.authority] == ["com."]


def test_name_with_only_txt_is_nodata(dns_lab: DnsLab) -> None:
    reply = _ask(dns_lab.resolver, "nodata.corp-site.com")
    assert reply.rcode() == dns.rcode.NOERROR
    assert not reply.answer
    assert _data(_ask(dns_lab.resolver, "nodata.corp-site.com", "TXT"), "TXT") == [
        '"no address here"'
    ]


def test_broken_delegation_servfails_at_once_even_cold(dns_lab: DnsLab) -> None:
    dns_lab.flush()
    # A 2 s timeout is the bound: unbound must answer SERVFAIL, not retry for minutes.
    reply = _ask(dns_lab.resolver, "www.broken-site.com", timeout=2.0)
    assert reply.rcode() == dns.rcode.SERVFAIL
    again = _ask(dns_lab.resolver, "other.broken-site.com", "AAAA", timeout=2.0)
    assert again.rcode() == dns.rcode.SERVFAIL


def test_refused_site_is_refused(dns_lab: DnsLab) -> None:
    assert _ask(dns_lab.resolver, "www.refused-site.com").rcode() == dns.rcode.REFUSED
    assert _ask(dns_lab.resolver, "refused-site.com", "AAAA").rcode() == dns.rcode.REFUSED


def test_cname_loop_servfails_at_unbound(dns_lab: DnsLab) -> None:
    # What unbound 1.17 does with loop1 <-> loop2: SERVFAIL once its restart
    # limit is spent (log: "request has exceeded the maximum number restarts").
    reply = _ask(dns_lab.resolver, "loop1.corp-site.com", timeout=2.0)
    assert reply.rcode() == dns.rcode.SERVFAIL
    direct = _ask(dns_lab.authoritative, "loop1.corp-site.com")
    assert _data(direct, "CNAME") == ["loop1.corp-site.com.", "loop2.corp-site.com."]


def test_twelve_cname_chain_reaches_the_client_whole(dns_lab: DnsLab) -> None:
    reply = _ask(dns_lab.resolver, "chain0.corp-site.com")
    assert reply.rcode() == dns.rcode.NOERROR
    assert len(_chain(reply)) == CHAIN_LENGTH == 12
    assert _data(reply, "A") == ["193.0.6.139"]


def test_big_answer_is_truncated_over_udp_and_whole_over_tcp(dns_lab: DnsLab) -> None:
    host, port = split_address(dns_lab.resolver)
    plain = dns.message.make_query("big.corp-site.com", "A")
    edns = dns.message.make_query("big.corp-site.com", "A", use_edns=0, payload=1232)
    for query in (plain, edns):
        udp = dns.query.udp(query, host, port=port, timeout=2)
        assert udp.flags & dns.flags.TC
        assert len(_data(udp, "A")) < 80
    tcp = dns.query.tcp(plain, host, port=port, timeout=2)
    assert not tcp.flags & dns.flags.TC
    assert _data(tcp, "A") == sorted(f"193.0.0.{i}" for i in range(1, 81))
    # dnspython's resolver falls back to TCP by itself.
    assert len(_resolver(dns_lab.resolver).resolve("big.corp-site.com", "A")) == 80


def test_wildcard_answers_any_label_under_its_owner_name(dns_lab: DnsLab) -> None:
    for label in (uuid.uuid4().hex, "a.b.c"):
        name = f"{label}.wild.corp-site.com."
        reply = _ask(dns_lab.resolver, name)
        assert reply.answer[0].name.to_text() == name
        assert _data(reply, "A") == ["193.0.6.139"]
    assert _ask(dns_lab.resolver, "wild.corp-site.com").rcode() == dns.rcode.NOERROR


def test_bulk_names_spread_over_hundreds_of_public_networks() -> None:
    addresses = [bulk_address(i) for i in range(2000)]
    assert len(set(addresses)) == 2000
    networks = {ipaddress.ip_network(f"{a}/24", strict=False) for a in addresses}
    assert len(networks) == BULK_NETWORK_COUNT == 300
    assert all(ipaddress.ip_address(a).is_global for a in addresses)
    assert {str(n) for n in networks} == {bulk_network(k) for k in range(300)}
    assert {a.split(".")[0] for a in addresses} == {"62", "193", "194"}


def test_bulk_names_resolve_to_their_mapped_address(dns_lab: DnsLab) -> None:
    resolver = _resolver(dns_lab.resolver)
    for i in [*range(0, 2000, 7), 4999]:
        answer = resolver.resolve(bulk_name(i), "A")
        assert [rd.address for rd in answer] == [bulk_address(i)]
    past_the_set = resolver.resolve(f"x{uuid.uuid4().hex}.bulk.bench-lab.com", "A")
    assert [rd.address for rd in past_the_set] == [bulk_address(0)]


def test_cymru_zone_answers_origin_and_as_queries_for_bulk_networks(dns_lab: DnsLab) -> None:
    # What a naive pipeline (ipwhois with asn_methods=["dns"]) asks, kept on loopback.
    resolver = _resolver(dns_lab.resolver)
    for i in (0, 1, 299, 4999):
        a, b, c, d = bulk_address(i).split(".")
        k = i % BULK_NETWORK_COUNT
        (origin,) = resolver.resolve(f"{d}.{c}.{b}.{a}.origin.asn.cymru.com", "TXT")
        fields = [f.strip() for f in b"".join(origin.strings).decode().split("|")]
        assert fields[:4] == [str(bulk_asn(k)), bulk_network(k), "NL", "ripencc"]
        (asn,) = resolver.resolve(f"AS{bulk_asn(k)}.asn.cymru.com", "TXT")
        assert b"".join(asn.strings).decode().startswith(f"{bulk_asn(k)} | NL | ripencc")
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve("1.0.0.10.origin.asn.cymru.com", "TXT")


def test_authoritative_does_not_rate_limit_loopback_bursts(dns_lab: DnsLab) -> None:
    # Every query of the lab comes from 127.0.0.1. NSD's response-rate limiting
    # (on by default where built in: 200 answers/s per source block) would
    # drop or truncate most of this burst.
    host, port = split_address(dns_lab.authoritative)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect((host, port))
        for _ in range(1000):
            query = dns.message.make_query("www.ovh-site.fr", "A")
            reply = dns.query.udp(query, host, port=port, timeout=1.0, sock=sock)
            assert reply.rcode() == dns.rcode.NOERROR and not reply.flags & dns.flags.TC
            assert _data(reply, "A") == ["164.132.1.1"]


def test_two_thousand_cold_bulk_names_resolve_concurrently_without_failures(
    dns_lab: DnsLab,
) -> None:
    dns_lab.flush()
    host, port = split_address(dns_lab.resolver)
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = port
    resolver.lifetime = 10.0

    async def resolve_all() -> list[list[str]]:
        gate = asyncio.Semaphore(100)

        async def one(i: int) -> list[str]:
            async with gate:
                answer = await resolver.resolve(bulk_name(i), "A")
                return [rd.address for rd in answer]

        return await asyncio.gather(*(one(i) for i in range(2000)))

    results = asyncio.run(resolve_all())
    assert results == [[bulk_address(i)] for i in range(2000)]


# --- the blackhole, the forwarder and the lab itself ---------------------------------------


def test_blackhole_never_answers_udp(dns_lab: DnsLab) -> None:
    with pytest.raises(dns.exception.Timeout):
        _ask(dns_lab.blackhole, "www.ovh-site.fr", timeout=0.5)
    with pytest.raises(dns.resolver.LifetimeTimeout):
        _resolver(dns_lab.blackhole, lifetime=0.5).resolve("www.ovh-site.fr", "A")


def test_blackhole_never_answers_tcp(dns_lab: DnsLab) -> None:
    with pytest.raises(dns.exception.Timeout):
        _ask(dns_lab.blackhole, "www.ovh-site.fr", timeout=0.5, tcp=True)
    host, port = split_address(dns_lab.blackhole)
    with socket.create_connection((host, port), timeout=1) as conn:
        wire = dns.message.make_query("www.ovh-site.fr", "A").to_wire()
        conn.sendall(struct.pack("!H", len(wire)) + wire)
        conn.settimeout(0.5)
        with pytest.raises(TimeoutError):
            conn.recv(1)


def test_forwarder_delays_answers_by_its_latency(dns_lab: DnsLab) -> None:
    slow = dns_lab.start_forwarder(80)
    assert dns_lab.start_forwarder(80) == slow
    direct = _ask(dns_lab.resolver, "www.ovh-site.fr")
    for tcp in (False, True):
        started = time.perf_counter()
        reply = _ask(slow, "www.ovh-site.fr", timeout=5, tcp=tcp)
        elapsed = time.perf_counter() - started
        assert elapsed >= 0.08
        assert _data(reply, "A") == _data(direct, "A") == ["164.132.1.1"]
    assert len(_resolver(slow, lifetime=5).resolve("big.corp-site.com", "A")) == 80


def test_flush_makes_the_next_query_a_cache_miss(dns_lab: DnsLab) -> None:
    _ask(dns_lab.resolver, "www.ru-site.com")
    before = dns_lab.stats()
    _ask(dns_lab.resolver, "www.ru-site.com")
    warm = dns_lab.stats()
    assert warm["total.num.cachehits"] == before["total.num.cachehits"] + 1
    assert warm["total.num.cachemiss"] == before["total.num.cachemiss"]
    dns_lab.flush()
    _ask(dns_lab.resolver, "www.ru-site.com")
    cold = dns_lab.stats()
    assert cold["total.num.cachemiss"] == warm["total.num.cachemiss"] + 1


def test_stop_ends_every_process_and_frees_the_ports(tmp_path: Path) -> None:
    with start_dns_lab(tmp_path, latency_ms=10) as lab:
        assert lab.slow is not None
        addresses = [lab.resolver, lab.authoritative, lab.slow]
        assert _data(_ask(lab.resolver, "www.ovh-site.fr"), "A") == ["164.132.1.1"]
    assert "stopped" in repr(lab)
    for address in addresses:
        with pytest.raises((dns.exception.Timeout, ConnectionError)):
            _ask(address, "www.ovh-site.fr", timeout=0.3, tcp=True)
    lab.stop()  # idempotent
