"""Reading DNS answers: chains, loops, limits, TTLs, resolver addresses.

Responses are real ``dns.message`` objects built from text; no query is sent.
"""

from __future__ import annotations

import dns.message
import dns.rdatatype
import pytest

from hostlocate.errors import ConfigError
from hostlocate.plan import combine_dns
from hostlocate.sources._dns_wire import Answer, parse
from hostlocate.sources.dns import (
    Nameserver,
    _negative_ttl,
    _Outcome,
    _walk,
    parse_nameserver,
)


def response(answer: str, *, rcode: str = "NOERROR", authority: str = "") -> dns.message.Message:
    text = f"id 1\nopcode QUERY\nrcode {rcode}\nflags QR RD RA\n"
    if answer:
        text += f";ANSWER\n{answer}\n"
    if authority:
        text += f";AUTHORITY\n{authority}\n"
    return dns.message.from_text(text)


def read(msg: dns.message.Message) -> Answer:
    """The answer as the hot-path reader sees it, checked against dnspython's reading."""
    wire = msg.to_wire()  # (dnspython shuffles the records of a set as it writes them)
    assert parse(wire) == Answer.from_message(dns.message.from_wire(wire))
    return Answer.from_message(msg)


def walk(
    msg: dns.message.Message, qname: str, max_cnames: int = 8
) -> tuple[_Outcome, str | None, str | None]:
    outcome = _Outcome(chain=[qname])
    target, stop = _walk(read(msg), qname, dns.rdatatype.A, outcome, {qname}, max_cnames)
    return outcome, target, stop


def test_chain_across_zones_keeps_every_name_and_smallest_ttl() -> None:
    msg = response(
        "www.brand.com. 300 IN CNAME shop.edge.net.\n"
        "shop.edge.net. 60 IN CNAME origin.host.de.\n"
        "origin.host.de. 120 IN A 88.198.1.1\n"
        "origin.host.de. 120 IN A 88.198.1.2"
    )
    outcome, target, stop = walk(msg, "www.brand.com")
    assert outcome.chain == ["www.brand.com", "shop.edge.net", "origin.host.de"]
    assert outcome.addresses == ["88.198.1.1", "88.198.1.2"]
    assert outcome.min_ttl == 60
    assert target is None and stop is None


def test_records_of_other_names_are_not_taken() -> None:
    msg = response("www.a.com. 300 IN CNAME b.net.\nother.net. 300 IN A 192.0.2.1")
    outcome, target, stop = walk(msg, "www.a.com")
    assert outcome.addresses == []
    assert target == "b.net"  # an unfinished chain: ask again for the target
    assert stop is None


def test_loop_is_detected() -> None:
    msg = response("a.com. 300 IN CNAME b.com.\nb.com. 300 IN CNAME a.com.")
    outcome, _, stop = walk(msg, "a.com")
    assert stop == "cname_loop"
    assert outcome.chain == ["a.com", "b.com", "a.com"]


def test_chain_longer_than_limit() -> None:
    lines = [f"c{i}.com. 300 IN CNAME c{i + 1}.com." for i in range(5)] + [
        "c5.com. 300 IN A 192.0.2.1"
    ]
    _, _, stop = walk(response("\n".join(lines)), "c0.com", max_cnames=3)
    assert stop == "cname_too_long"
    outcome, _, stop = walk(response("\n".join(lines)), "c0.com", max_cnames=5)
    assert stop is None and outcome.addresses == ["192.0.2.1"]


def test_case_of_names_does_not_matter() -> None:
    outcome, _, _ = walk(response("WWW.A.COM. 300 IN A 192.0.2.7"), "www.a.com")
    assert outcome.addresses == ["192.0.2.7"]


def test_negative_ttl_is_the_smaller_of_soa_ttl_and_minimum() -> None:
    msg = response(
        "", rcode="NXDOMAIN", authority="a.com. 900 IN SOA ns.a.com. h.a.com. 1 2 3 4 60"
    )
    outcome = _Outcome()
    _negative_ttl(read(msg), outcome)
    assert outcome.min_ttl == 60


def test_combine_merges_a_and_aaaa_and_dedupes() -> None:
    v4 = _Outcome(
        rcode="NOERROR",
        chain=["h.com"],
        addresses=["192.0.2.1", "192.0.2.1"],
        min_ttl=300,
        queries=1,
    )
    v6 = _Outcome(
        rcode="NOERROR", chain=["h.com"], addresses=["2001:db8::1"], min_ttl=30, queries=1
    )
    r = combine_dns("h.com", v4, v6, 32)
    assert r.addresses == ("192.0.2.1", "2001:db8::1")
    assert r.min_ttl == 30 and r.rcode == "NOERROR" and r.error is None and r.queries == 2


def test_combine_aaaa_only_host_is_resolved() -> None:
    v4 = _Outcome(rcode="NOERROR", chain=["h.com"])
    v6 = _Outcome(rcode="NOERROR", chain=["h.com"], addresses=["2001:db8::1"])
    r = combine_dns("h.com", v4, v6, 32)
    assert r.addresses == ("2001:db8::1",) and r.error is None


@pytest.mark.parametrize(
    ("e4", "e6", "expected"),
    [
        (None, None, "no_address"),
        ("nxdomain", "nxdomain", "nxdomain"),
        ("servfail", "dns_timeout", "servfail"),
        ("dns_timeout", "dns_timeout", "dns_timeout"),
        ("cname_loop", "cname_loop", "cname_loop"),
    ],
)
def test_combine_picks_the_most_telling_error(
    e4: str | None, e6: str | None, expected: str
) -> None:
    r = combine_dns(
        "h.com", _Outcome(error=e4, chain=["h.com"]), _Outcome(error=e6, chain=["h.com"]), 32
    )
    assert r.addresses == () and r.error == expected


def test_address_cap() -> None:
    v4 = _Outcome(addresses=[f"192.0.2.{i}" for i in range(50)], chain=["h.com"])
    assert len(combine_dns("h.com", v4, _Outcome(chain=["h.com"]), 32).addresses) == 32


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("127.0.0.1", "127.0.0.1", 53),
        ("127.0.0.1:5353", "127.0.0.1", 5353),
        ("::1", "::1", 53),
        ("[::1]", "::1", 53),
        ("[2001:db8::1]:5300", "2001:db8::1", 5300),
    ],
)
def test_parse_nameserver(text: str, host: str, port: int) -> None:
    assert parse_nameserver(text) == Nameserver(host, port)


@pytest.mark.parametrize(
    "text", ["dns.example:53", "127.0.0.1:0", "127.0.0.1:99999", "[::1", "[::1]x"]
)
def test_parse_nameserver_rejects(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_nameserver(text)
