"""The hot-path DNS reader and writer against dnspython, the reference.

Queries must be byte for byte what ``make_query`` + ``to_wire`` give; answers
must read as dnspython reads them, or be refused (``WireError``) so that
dnspython reads them instead. Mutated answers never make the reader raise
anything else, loop or disagree with dnspython.
"""

from __future__ import annotations

import random

import dns.flags
import dns.message
import dns.rdatatype
import pytest

from hostlocate.sources._dns_wire import Answer, WireError, parse, query_wire, read


@pytest.mark.parametrize(
    "name",
    ["www.example.com", "WWW.Example.COM.", "a", "_srv._tcp.x-y.example", "*.wild.example",
     "a" * 63 + ".example", ".".join(["a" * 60] * 4)],
    ids=["plain", "case-dot", "one-label", "underscore", "star", "label-63", "name-244"],
)  # fmt: skip
@pytest.mark.parametrize("rdtype", ["A", "AAAA", "TXT"])
def test_a_query_is_what_dnspython_writes(name: str, rdtype: str) -> None:
    reference = dns.message.make_query(name, rdtype)
    reference.flags |= dns.flags.RD
    reference.id = 0xBEEF
    assert query_wire(name, dns.rdatatype.from_text(rdtype), 0xBEEF) == reference.to_wire()


@pytest.mark.parametrize(
    "name", ["bücher.example", "a\\.b.example", "a b.example"], ids=["unicode", "escape", "space"]
)
def test_an_odd_name_is_written_by_dnspython(name: str) -> None:
    reference = dns.message.make_query(name, "A")
    reference.flags |= dns.flags.RD
    reference.id = 7
    assert query_wire(name, 1, 7) == reference.to_wire()


def _message(text: str) -> dns.message.Message:
    return dns.message.from_text(text)


ANSWERS = {
    "chain": """id 4660
opcode QUERY
rcode NOERROR
flags QR RD RA
;QUESTION
www.Brand.com. IN A
;ANSWER
www.brand.com. 300 IN CNAME shop.edge.net.
shop.edge.net. 60 IN CNAME origin.host.de.
origin.host.de. 120 IN A 88.198.1.1
origin.host.de. 90 IN A 88.198.1.2
origin.host.de. 120 IN A 88.198.1.1
""",
    "nxdomain": """id 1
opcode QUERY
rcode NXDOMAIN
flags QR RD RA
;QUESTION
nope.corp.com. IN AAAA
;AUTHORITY
corp.com. 3600 IN SOA ns1.corp.com. hostmaster.corp.com. 7 3600 600 86400 60
""",
    "aaaa": """id 2
opcode QUERY
rcode NOERROR
flags QR RD RA
;QUESTION
v6.example. IN AAAA
;ANSWER
v6.example. 300 IN AAAA 2001:db8::5
v6.example. 300 IN AAAA 2001:db8::1:0:0:1
;ADDITIONAL
ns.example. 300 IN A 192.0.2.53
""",
    "other-types": """id 3
opcode QUERY
rcode NOERROR
flags QR RD RA
;QUESTION
x.example. IN A
;ANSWER
x.example. 300 IN TXT "not an address"
x.example. 300 IN A 192.0.2.9
y.example. 300 IN A 192.0.2.10
""",
    "servfail-no-question": """id 4
opcode QUERY
rcode SERVFAIL
flags QR RD RA
""",
}


@pytest.mark.parametrize("key", sorted(ANSWERS))
def test_an_answer_reads_as_dnspython_reads_it(key: str) -> None:
    wire = _message(ANSWERS[key]).to_wire()
    assert parse(wire) == Answer.from_message(dns.message.from_wire(wire))


def test_an_edns_answer_keeps_its_extended_rcode() -> None:
    message = _message(ANSWERS["chain"])
    message.use_edns(0)
    message.set_rcode(16)  # BADVERS: 4 bits in the header, the rest in the OPT record
    assert parse(message.to_wire()).rcode == 16 == message.rcode()


def test_the_matching_rule_is_dnspythons() -> None:
    answer = parse(_message(ANSWERS["chain"]).to_wire())
    assert answer.answers("www.brand.com", 1)  # names compare without case
    assert not answer.answers("www.brand.com", 28)
    assert not answer.answers("www.brand.org", 1)
    assert parse(_message(ANSWERS["servfail-no-question"]).to_wire()).answers("any.example", 1)
    query = dns.message.make_query("www.brand.com", "A")
    assert not parse(query.to_wire()).answers("www.brand.com", 1)  # QR not set: a query


@pytest.mark.parametrize(
    "wire",
    [
        b"\x00\x01\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01",  # self-pointer
        b"\x00\x01\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x20\x00\x01\x00\x01",  # forward
        b"\x00\x01\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\x05ab",  # cut label
        b"\x00\x01\x81\x80\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01\x00\x01\x00\x00\x00\x05\x00\x04",
        b"\x00\x01\x81",  # short header
    ],
    ids=["pointer-loop", "pointer-forward", "cut-label", "cut-rdata", "short"],
)
def test_a_broken_message_is_refused(wire: bytes) -> None:
    with pytest.raises(WireError):
        parse(wire)


def test_a_truncated_answer_is_read_to_its_question() -> None:
    message = _message(ANSWERS["chain"])
    message.flags |= dns.flags.TC
    wire = message.to_wire()[:60]  # cut in the middle of the answer section
    answer = read(wire)
    assert answer.truncated and answer.answers("www.brand.com", 1)


def test_mutated_answers_are_refused_or_read_as_dnspython_reads_them() -> None:
    """20,000 answers with bytes flipped, cut or repeated: nothing else escapes, nothing hangs."""
    rng = random.Random(12)
    seeds = [_message(text).to_wire() for text in ANSWERS.values()]
    agreed = refused = 0
    for _ in range(20_000):
        wire = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            op = rng.random()
            at = rng.randrange(len(wire))
            if op < 0.6:
                wire[at] = rng.randrange(256)
            elif op < 0.8:
                del wire[at:]
                if len(wire) < 2:
                    wire += b"\x00\x00"
            else:
                wire[at:at] = wire[at : at + rng.randint(1, 8)]
        try:
            ours = parse(bytes(wire))
        except WireError:
            refused += 1
            continue
        try:
            theirs = dns.message.from_wire(bytes(wire))
        except Exception:
            continue  # a record we skip (TXT, glue) is one dnspython checks more closely
        if not ours.truncated:
            assert ours == Answer.from_message(theirs), bytes(wire)
            agreed += 1
    assert agreed > 1000 and refused > 1000
