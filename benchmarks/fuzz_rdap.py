"""Fuzz what the RDAP client does with a body: decode, parse, build the answer.

A registry service, or whatever sits in its place, may send any bytes. The
client promises that a body ends as an answer or as an RDAP error of that
address (``rdap_bad_response``): :func:`check` runs exactly the client's steps
on one body (``_rdap_fetch._decode`` with the declared charset, then
``parse_network``, ``parse_entity_abuse`` and ``parse_registrar``, catching
what ``rdap.py`` catches) and then encodes the ``IpOwnership`` the client
would build, as a verdict will. Anything else escaping is a bug.

Bodies are structure-aware: the real recorded responses (read in place from
``<repo>/../shared/data/rdap-responses/`` when present), the lab's own
written ones and small synthetic objects, mutated by :func:`mutate` (values
of the wrong type anywhere, deep nesting, huge arrays of entities, vCards,
remarks and links, huge numbers, lone surrogates, long strings, removed
keys), then written out by :func:`serialise` (duplicate keys, UTF-8 with or
without a BOM, UTF-16 and UTF-32 with BOMs, invalid UTF-8, truncation, bare
deep nesting) with a charset header that may or may not match.

Run: ``python benchmarks/fuzz_rdap.py [--bodies 100000] [--seed 1]``. It
prints the number of bodies, the outcome tallies and the slowest body, and
exits 1 on the first body whose handling raises anything else (after
printing it). ``tests/unit/test_fuzz_rdap.py`` runs a few hundred in CI.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RECORDED = ROOT.parent / "shared" / "data" / "rdap-responses"
WRITTEN = ROOT / "tests" / "rdaplab" / "responses"

if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

import msgspec  # noqa: E402

from hostlocate.models import IpOwnership, RegistrarInfo  # noqa: E402
from hostlocate.sources._rdap_fetch import Failure, _decode  # noqa: E402
from hostlocate.sources._rdap_parse import (  # noqa: E402
    MAX_CONTACTS,
    ParseError,
    parse_entity_abuse,
    parse_network,
    parse_registrar,
)

MAX_BODY_BYTES = 1_000_000
"""The client's default ``max_body_bytes``."""

CHARSETS: tuple[str | None, ...] = (
    None,
    None,
    "utf-8",
    "UTF8",
    "utf-16",
    "utf-32",
    "latin-1",
    "utf-7",
    "idna",
    "hex",
    "no-such-charset",
)


def _synthetic() -> list[Any]:
    card = [
        "vcard",
        [
            ["version", {}, "text", "4.0"],
            ["fn", {}, "text", "Lab Hosting"],
            ["kind", {}, "text", "org"],
            ["email", {}, "text", "abuse@host.test"],
            ["adr", {"cc": "NL"}, "text", ["", "", "", "", "", "", ""]],
        ],
    ]
    return [
        {
            "objectClassName": "ip network",
            "handle": "NET-1",
            "startAddress": "193.0.22.0",
            "endAddress": "193.0.22.255",
            "country": "NL",
            "name": "LAB",
            "remarks": [{"description": ["please send abuse reports to r@host.test"]}],
            "links": [{"rel": "self", "href": "http://127.0.0.1/ip/193.0.22.0"}],
            "entities": [{"roles": ["abuse", "registrant"], "vcardArray": card}],
        },
        {"objectClassName": "entity", "handle": "AB-1", "vcardArray": card},
        {
            "objectClassName": "domain",
            "ldhName": "host.test",
            "entities": [
                {
                    "roles": ["registrar"],
                    "vcardArray": card,
                    "publicIds": [{"type": "IANA Registrar ID", "identifier": "9"}],
                    "entities": [{"roles": ["abuse"], "vcardArray": card}],
                }
            ],
        },
    ]


def templates() -> list[Any]:
    """Real and written responses (when present) and the synthetic ones."""
    out = _synthetic()
    files = [*sorted(RECORDED.glob("*.json")), *sorted(RECORDED.glob("lab-extra/*.json"))]
    files += sorted(p for p in WRITTEN.glob("*.json") if p.name != "domains.json")
    for file in files:
        text = file.read_text(encoding="utf-8").replace("{base}", "http://127.0.0.1:1/lab/")
        out.append(json.loads(text))
    return out


# -- values ---------------------------------------------------------------------------------


def _nested(rng: random.Random, depth: int) -> Any:
    value: Any = rng.choice([[], {}, "x", 1])
    for _ in range(depth):
        value = [value] if rng.random() < 0.5 else {"a": value}
    return value


def odd_value(rng: random.Random) -> Any:
    """A value of any JSON type, often of the wrong one for where it lands."""
    pick = rng.randrange(16)
    if pick == 0:
        return None
    if pick == 1:
        return rng.choice([True, False])
    if pick == 2:
        return rng.choice([0, -1, 2**63, -(2**64), 10**300, 7])
    if pick == 3:
        return rng.choice([0.5, -0.0, 1e308, 1e-320])
    if pick == 4:
        return "".join(
            chr(rng.choice([0xD800, 0xDFFF, 0xDC80, 0x41, 0x0, 0x202E])) for _ in range(4)
        )
    if pick == 5:
        return "A" * rng.choice([1_000, 70_000])
    if pick == 6:
        return rng.choice(["", " ", "mailto:", "@", "a@b", "x@host.test", "ZA", "JP", "abuse"])
    if pick == 7:
        return _nested(rng, rng.choice([5, 50, 400]))
    if pick == 8:
        return [odd_value(rng) for _ in range(rng.randrange(4))]
    if pick == 9:
        return {rng.choice(["roles", "email", "href", "x"]): odd_value(rng)}
    if pick == 10:
        return rng.choice(["ip network", "entity", "domain", "autnum", "IP NETWORK"])
    if pick == 11:
        return rng.choice(["1.2.3.4", "::1", "001.002.003.004", "1.2.3.0/24", "999.1.1.1", "1.2.3"])
    if pick == 12:
        return ["vcard", [["email", {}, "text", odd_value(rng)], ["fn", odd_value(rng), "text"]]]
    if pick == 13:
        return [{"roles": ["abuse"], "handle": odd_value(rng)}]
    if pick == 14:
        return {"description": [odd_value(rng)], "title": odd_value(rng)}
    return "🙂 ünïcödé ℌ\u200b"


def _huge(rng: random.Random) -> tuple[str, Any]:
    """A huge array where an RDAP object has one: entities, vCard, remarks, links, roles."""
    n = rng.choice([1_000, 10_000])
    pick = rng.randrange(5)
    if pick == 0:
        # A vCard of its own each: a later change to a shared one would repeat n times.
        cards = (["vcard", [["email", {}, "text", f"a{i}@host.test"]]] for i in range(n))
        return "entities", [{"roles": ["abuse"], "vcardArray": card} for card in cards]
    if pick == 1:
        props = [["email", {}, "text", f"a{i}@host.test"] for i in range(n)]
        return "entities", [{"roles": ["abuse"], "vcardArray": ["vcard", props]}]
    if pick == 2:
        return "remarks", [{"description": [f"abuse a{i}@host.test" for i in range(n)]}]
    if pick == 3:
        return "links", [{"rel": "related", "href": f"http://127.0.0.1/{i}"} for i in range(n)]
    return "entities", [{"roles": ["abuse"] * n}]


# -- mutation -------------------------------------------------------------------------------


def _containers(value: Any, out: list[Any], limit: int = 400, steps: int = 4_000) -> None:
    """Up to ``limit`` of the dicts and lists in ``value``, looking at ``steps`` values at most."""
    stack = [value]
    while stack and len(out) < limit and steps > 0:
        steps -= 1
        node = stack.pop()
        if isinstance(node, dict | list):
            out.append(node)
            items = node.values() if isinstance(node, dict) else node
            stack.extend(list(items)[:100])


def mutate(rng: random.Random, template: bytes) -> Any:
    """A fresh copy of the encoded ``template`` with a few structural changes."""
    body = msgspec.json.decode(template)
    if isinstance(body, dict) and rng.random() < 0.04:
        name, value = _huge(rng)
        body[name] = value
    for _ in range(rng.randrange(1, 5)):
        nodes: list[Any] = []
        _containers(body, nodes)
        if not nodes:
            return odd_value(rng)
        node = rng.choice(nodes)
        if not node:
            continue
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        action = rng.randrange(10)
        if action < 5:
            node[key] = odd_value(rng)
        elif action < 7:
            del node[key]
        elif isinstance(node, dict):
            field = rng.choice(["entities", "remarks", "links", "roles", "vcardArray"])
            node[field] = odd_value(rng)
        else:
            node.append(odd_value(rng))
    return body


# -- serialisation --------------------------------------------------------------------------


def _duplicate_keys(text: str, rng: random.Random) -> str:
    """Repeat an object's first member with another value (JSON allows it; the last wins)."""
    at = text.find('{"')
    if at < 0:
        return text
    end = text.find('":', at)
    if end < 0:
        return text
    key = text[at + 1 : end + 1]
    other = json.dumps(odd_value(rng))
    return text[: at + 1] + f"{key}: {other}, " + text[at + 1 :]


def serialise(rng: random.Random, body: Any) -> tuple[bytes, str | None]:
    """Bytes on the wire and the declared charset."""
    try:
        text = json.dumps(body, ensure_ascii=rng.random() < 0.5)
    except (ValueError, RecursionError):
        text = "[]"
    if rng.random() < 0.1:
        text = _duplicate_keys(text, rng)
    pick = rng.randrange(20)
    charset = rng.choice(CHARSETS)
    if pick == 0:
        return "\ufeff".encode() + text.encode("utf-8", "surrogatepass"), charset
    if pick == 1:
        return text.encode("utf-16", "surrogatepass"), rng.choice(["utf-16", None, "utf-8"])
    if pick == 2:
        return text.encode("utf-32", "surrogatepass"), rng.choice(["utf-32", None])
    if pick == 3:
        raw = bytearray(text.encode("utf-8", "surrogatepass"))
        for _ in range(3):
            raw.insert(rng.randrange(len(raw) + 1), rng.choice([0xFF, 0xC0, 0xED, 0x80]))
        return bytes(raw), charset
    if pick == 4:
        raw = text.encode("utf-8", "surrogatepass")
        return raw[: rng.randrange(len(raw) + 1)], charset
    if pick == 5:
        depth = rng.choice([500, 1_000, 5_000, 100_000])
        opener, closer = rng.choice([(b"[", b"]"), (b'{"a":', b"}")])
        inner = b"[]" if opener == b"[" else b"1"
        return opener * depth + inner + closer * depth, charset
    if pick == 6:
        number = rng.choice([b"1e400", b"-1e400", b"9" * 5_000, b"1" + b"0" * 400, b"NaN"])
        return b'{"objectClassName": "ip network", "startAddress": ' + number + b"}", charset
    if pick == 7:
        escaped = text.replace('"name": "', '"name": "\\ud800', 1)
        return escaped.encode("utf-8", "surrogatepass"), charset
    return text.encode("utf-8", "surrogatepass"), charset


# -- the client's handling of a body --------------------------------------------------------


def check(raw: bytes, charset: str | None) -> str:
    """What the client makes of one body; raises only for a broken promise."""
    if len(raw) > MAX_BODY_BYTES:
        return "fetch:rdap_too_large"  # the client stops reading at its cap
    try:
        body = _decode(raw, charset)
    except Failure as exc:
        return f"decode:{exc.code.value}"
    outcomes = []
    try:
        facts = parse_network(body, registry="lab", source_url="http://127.0.0.1/ip/x")
    except ParseError:
        outcomes.append("network:bad_response")
    else:
        linked: tuple[str, ...] = ()
        with contextlib.suppress(ParseError):
            linked = parse_entity_abuse(body)
        owner = IpOwnership(
            network=facts.network, abuse_emails=facts.notice_emails(linked), holder=facts.holder
        )
        msgspec.json.encode(owner)
        assert len(owner.abuse_emails) <= MAX_CONTACTS, owner.abuse_emails
        assert len(facts.abuse_refs) <= MAX_CONTACTS
        outcomes.append("network:ok")
    try:
        parse_entity_abuse(body)
        outcomes.append("entity:ok")
    except ParseError:
        outcomes.append("entity:bad_response")
    try:
        registrar = parse_registrar(body)
    except ParseError:
        outcomes.append("registrar:bad_response")
    else:
        msgspec.json.encode(
            RegistrarInfo(
                domain="host.test",
                name=registrar.registrar,
                iana_id=registrar.iana_id,
                abuse_email=registrar.abuse_email,
                abuse_phone=registrar.abuse_phone,
            )
        )
        outcomes.append("registrar:ok")
    return " ".join(outcomes)


def _at_depth(frames: int, call: Callable[[], str]) -> str:
    """Run ``call`` under ``frames`` more stack frames, as the client's coroutines stand."""
    if frames <= 0:
        return call()
    return _at_depth(frames - 1, call)


def bodies(seed: int, count: int) -> Any:
    """``count`` (raw, charset) pairs, reproducible from ``seed``."""
    rng = random.Random(seed)
    pool = [msgspec.json.encode(t) for t in templates()]
    for _ in range(count):
        base = rng.choice(pool)
        body = msgspec.json.decode(base) if rng.random() < 0.05 else mutate(rng, base)
        yield serialise(rng, body)


def run(seed: int, count: int) -> tuple[Counter[str], tuple[float, bytes]]:
    """Check ``count`` bodies; the outcome tallies and the slowest body (seconds, head)."""
    tallies: Counter[str] = Counter()
    slowest = (0.0, b"")
    rng = random.Random(seed + 1)
    for raw, charset in bodies(seed, count):
        frames = rng.choice([0, 0, 60])
        started = time.perf_counter()
        try:
            outcome = _at_depth(frames, lambda raw=raw, charset=charset: check(raw, charset))
        except BaseException:
            print(f"BROKEN PROMISE on a body of {len(raw)} bytes, charset {charset!r}:")
            print(raw[:600])
            raise
        spent = time.perf_counter() - started
        if spent > slowest[0]:
            slowest = (spent, raw[:80])
        for part in outcome.split():
            tallies[part] += 1
    return tallies, slowest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--bodies", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        tallies, slowest = run(args.seed, args.bodies)
    except Exception as exc:  # a broken promise: say which, fail
        print(f"{type(exc).__name__}: {exc}")
        return 1
    elapsed = time.monotonic() - started
    print(f"bodies checked: {args.bodies} (seed {args.seed}) in {elapsed:.1f} s")
    for outcome, n in sorted(tallies.items()):
        print(f"  {outcome:28} {n:8}")
    print(f"slowest body: {slowest[0] * 1000:.1f} ms, starting {slowest[1][:60]!r}")
    print("no exception escaped but the client's own (Failure, ParseError)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
