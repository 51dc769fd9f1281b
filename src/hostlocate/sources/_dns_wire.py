"""DNS messages on the hot path: the query's bytes and only the parts of an answer we read.

dnspython builds and parses whole messages: here ``make_query`` + ``to_wire``
cost 70-180 µs and ``from_wire`` 110-200 µs a message, most of a cold
query's CPU. A look-up needs far less: the header, the question (to match the
answer to its query), the A, AAAA and CNAME records of the answer section and
the SOA of the authority section (negative TTL). :func:`query_wire` and
:func:`parse` do just that (about a tenth of the cost, see docs/dns.md), and
refuse (:class:`WireError`) whatever they do not handle plainly: escapes,
unusual label bytes, trailing bytes, bad lengths. The caller then hands the
same bytes to dnspython, which stays the reference: a test checks that both
read every answer of the lab alike.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

__all__ = ["AAAA", "CNAME", "SOA", "A", "Answer", "WireError", "parse", "query_wire"]

A = 1
CNAME = 5
SOA = 6
AAAA = 28
_OPT = 41
_IN = 1
_TC = 0x0200
_QR = 0x8000
_RD = 0x0100
_NO_QUESTION_RCODES = frozenset({1, 2, 4, 5})  # FORMERR, SERVFAIL, NOTIMP, REFUSED
_LABEL_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_*")


class WireError(ValueError):
    """Not a message this reader handles plainly: let dnspython read it."""


@dataclass(slots=True)
class Answer:
    """What a look-up reads from one response; names are lower case, without the final dot."""

    id: int
    flags: int
    rcode: int
    question: tuple[str, int, int] | None
    cnames: dict[str, tuple[str, int]] = field(default_factory=dict)
    """owner -> (first target, smallest TTL of the owner's CNAMEs)."""
    addresses: dict[tuple[str, int], tuple[list[str], int]] = field(default_factory=dict)
    """(owner, A or AAAA) -> (addresses in order without repeats, smallest TTL)."""
    soa: tuple[int, int] | None = None
    """(TTL, minimum) of the first SOA in the authority section."""

    @property
    def truncated(self) -> bool:
        return bool(self.flags & _TC)

    def answers(self, qname: str, rdtype: int) -> bool:
        """Is this the answer to ``qname`` (lower case) ``rdtype`` IN? (ID checked by the caller).

        As ``dns.message.Message.is_response``: a response to a standard query,
        with the same question, or none at all on FORMERR, SERVFAIL, NOTIMP and
        REFUSED.
        """
        if not self.flags & _QR or (self.flags >> 11) & 0xF:
            return False
        if self.question is None:
            return self.rcode in _NO_QUESTION_RCODES
        return self.question == (qname, rdtype, _IN)

    @classmethod
    def from_message(cls, message: dns.message.Message) -> Answer:
        """The same reading of a message dnspython parsed (its fall-back, TCP, tests)."""
        question = None
        if message.question:
            q = message.question[0]
            question = (_text(q.name), int(q.rdtype), int(q.rdclass))
        out = cls(id=message.id, flags=message.flags, rcode=int(message.rcode()), question=question)
        for rrset in message.answer:
            owner = _text(rrset.name)
            if rrset.rdtype == dns.rdatatype.CNAME:
                for rd in rrset:
                    _cname(out, owner, _text(rd.target), rrset.ttl)
            elif rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                for rd in rrset:
                    _address(out, owner, int(rrset.rdtype), rd.address, rrset.ttl)
        for rrset in message.authority:
            if rrset.rdtype == dns.rdatatype.SOA:
                for rd in rrset:
                    out.soa = (rrset.ttl, rd.minimum)
                    break
                break
        return out


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


def _cname(out: Answer, owner: str, target: str, ttl: int) -> None:
    have = out.cnames.get(owner)
    out.cnames[owner] = (target, ttl) if have is None else (have[0], min(have[1], ttl))


def _address(out: Answer, owner: str, rdtype: int, address: str, ttl: int) -> None:
    key = (owner, rdtype)
    have = out.addresses.get(key)
    if have is None:
        out.addresses[key] = ([address], ttl)
        return
    if address not in have[0]:
        have[0].append(address)
    out.addresses[key] = (have[0], min(have[1], ttl))


def query_wire(qname: str, rdtype: int, qid: int) -> bytes:
    """A standard query, RD set, no EDNS: the bytes ``make_query`` + ``to_wire`` give."""
    try:
        labels = qname.rstrip(".").encode("ascii").split(b".") if qname not in ("", ".") else []
        out = bytearray(qid.to_bytes(2, "big") + b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00")
        for label in labels:
            if not 0 < len(label) < 64 or not _LABEL_BYTES.issuperset(label):
                raise WireError(qname)
            out.append(len(label))
            out += label
        out += b"\x00" + rdtype.to_bytes(2, "big") + b"\x00\x01"
        if len(out) - 16 > 255:
            raise WireError(qname)
        return bytes(out)
    except (WireError, UnicodeEncodeError):
        query = dns.message.make_query(qname, dns.rdatatype.RdataType(rdtype))
        query.flags |= dns.flags.RD
        query.id = qid
        return query.to_wire()


def _name(wire: bytes, at: int) -> tuple[str, int]:
    """The name at ``at`` (lower case, no final dot) and the offset just after it.

    Compression pointers must point backwards, which also rules out loops.
    """
    labels: list[str] = []
    end = -1
    start = at
    total = 0
    while True:
        if at >= len(wire):
            raise WireError("name runs past the end")
        length = wire[at]
        if length == 0:
            at += 1
            break
        if length >= 0xC0:
            if at + 1 >= len(wire):
                raise WireError("cut pointer")
            target = ((length & 0x3F) << 8) | wire[at + 1]
            if target >= start:
                raise WireError("pointer not backwards")
            if end < 0:
                end = at + 2
            at = start = target
            continue
        if length > 63:
            raise WireError("bad label type")
        label = wire[at + 1 : at + 1 + length]
        if len(label) != length or not _LABEL_BYTES.issuperset(label):
            raise WireError("label bytes")
        total += length + 1
        if total > 255:
            raise WireError("name too long")
        labels.append(label.decode("ascii").lower())
        at += 1 + length
    # The root reads "." (as dnspython writes it without its final dot).
    return ".".join(labels) if labels else ".", (end if end >= 0 else at)


def parse(wire: bytes) -> Answer:
    """Read a response; raise :class:`WireError` for anything not plainly a response.

    A truncated response (TC) is read up to its question only.
    """
    if len(wire) < 12:
        raise WireError("short header")
    qid = int.from_bytes(wire[0:2], "big")
    flags = int.from_bytes(wire[2:4], "big")
    qdcount = int.from_bytes(wire[4:6], "big")
    ancount = int.from_bytes(wire[6:8], "big")
    nscount = int.from_bytes(wire[8:10], "big")
    arcount = int.from_bytes(wire[10:12], "big")
    if qdcount > 1:
        raise WireError("several questions")
    at = 12
    question = None
    if qdcount:
        qname, at = _name(wire, at)
        if at + 4 > len(wire):
            raise WireError("cut question")
        question = (
            qname,
            int.from_bytes(wire[at : at + 2], "big"),
            int.from_bytes(wire[at + 2 : at + 4], "big"),
        )
        at += 4
    out = Answer(id=qid, flags=flags, rcode=flags & 0xF, question=question)
    if flags & _TC:
        return out
    for section, count in ((0, ancount), (1, nscount), (2, arcount)):
        for _ in range(count):
            owner, at = _name(wire, at)
            if at + 10 > len(wire):
                raise WireError("cut record")
            rdtype = int.from_bytes(wire[at : at + 2], "big")
            rdclass = int.from_bytes(wire[at + 2 : at + 4], "big")
            ttl = int.from_bytes(wire[at + 4 : at + 8], "big")
            if ttl > 0x7FFFFFFF:
                ttl = 0  # RFC 2181 section 8, as dnspython reads it
            rdlength = int.from_bytes(wire[at + 8 : at + 10], "big")
            at += 10
            rdata_end = at + rdlength
            if rdata_end > len(wire):
                raise WireError("cut rdata")
            if section == 2:
                if rdtype == _OPT:
                    out.rcode |= (ttl >> 24) << 4  # the extended RCODE's upper bits
            elif rdclass != _IN:
                raise WireError("class other than IN")
            elif section == 0 and rdtype == A:
                if rdlength != 4:
                    raise WireError("A length")
                _address(out, owner, A, socket.inet_ntop(socket.AF_INET, wire[at:rdata_end]), ttl)
            elif section == 0 and rdtype == AAAA:
                if rdlength != 16:
                    raise WireError("AAAA length")
                address = socket.inet_ntop(socket.AF_INET6, wire[at:rdata_end])
                _address(out, owner, AAAA, address, ttl)
            elif section == 0 and rdtype == CNAME:
                target, after = _name(wire, at)
                if after != rdata_end:
                    raise WireError("CNAME length")
                _cname(out, owner, target, ttl)
            elif section == 1 and rdtype == SOA and out.soa is None:
                _, after = _name(wire, at)
                _, after = _name(wire, after)
                if after + 20 != rdata_end:
                    raise WireError("SOA length")
                out.soa = (ttl, int.from_bytes(wire[after + 16 : after + 20], "big"))
            at = rdata_end
    if at != len(wire):
        raise WireError("trailing bytes")
    return out


def read(wire: bytes) -> Answer:
    """:func:`parse`, or dnspython where it refuses; raises what dnspython raises.

    A truncated message dnspython cannot read whole still counts by its header
    and question, as ``dns.query`` treats it.
    """
    try:
        return parse(wire)
    except WireError:
        pass
    try:
        return Answer.from_message(dns.message.from_wire(wire, raise_on_truncation=True))
    except dns.message.Truncated as exc:
        partial = exc.kwargs.get("message")
        if not isinstance(partial, dns.message.Message):
            raise
        return Answer.from_message(partial)


def rcode_text(rcode: int) -> str:
    """``NOERROR``, ``NXDOMAIN``... as dnspython names them."""
    return dns.rcode.to_text(dns.rcode.Rcode.make(rcode))
