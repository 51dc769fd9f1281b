"""The limits docs/security.md states, read from the code and tried at their edges.

Hostile input and hostile servers are bounded by a few numbers: how long a
report may be, how long a DNS name may be, how many CNAMEs are followed, how
many addresses of a host are looked at, how large an RDAP body may be, how
many redirects are followed, and the time budget of one URL. Each is checked
here at its boundary (pure code, no servers; the end-to-end cases are in
tests/integration/test_hostile_dns.py and test_hostile_rdap.py), and the
document is checked to state the values the code uses.
"""

from __future__ import annotations

import inspect
import itertools
import math
import re
from pathlib import Path

import dns.message
import dns.rdatatype
import pytest

from hostlocate import ConfigError, ErrorCode, InvalidURLError, Locator
from hostlocate.batch import MAX_LINE_CHARS
from hostlocate.locator import DEFAULT_TIMEOUT
from hostlocate.parse import MAX_INPUT_CHARS, exceeds_dns_limits, parse_reported_url
from hostlocate.plan import DEFAULT_MAX_ADDRESSES, combine_dns
from hostlocate.sources._rdap_fetch import parse_retry_after
from hostlocate.sources.dns import (
    DEFAULT_MAX_CNAMES,
    DnsClient,
    _Outcome,
    _walk,
)
from hostlocate.sources.rdap import RdapClient

SECURITY_DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
RDAP_DEFAULTS = {
    name: p.default for name, p in inspect.signature(RdapClient.__init__).parameters.items()
}


# -- the values, and the document that states them ------------------------------------------


def test_the_values_the_document_states() -> None:
    assert MAX_INPUT_CHARS == 8192
    assert MAX_LINE_CHARS == 65_536
    assert DEFAULT_MAX_CNAMES == 8
    assert DEFAULT_MAX_ADDRESSES == 32
    assert DEFAULT_TIMEOUT == 5.0
    assert RDAP_DEFAULTS["max_body_bytes"] == 1_000_000
    assert RDAP_DEFAULTS["max_redirects"] == 3
    assert RDAP_DEFAULTS["max_entity_requests"] == 2
    assert RDAP_DEFAULTS["max_retry_wait"] == 30.0


@pytest.mark.parametrize(
    "phrase",
    [
        f"{MAX_INPUT_CHARS:,} characters",
        f"{MAX_LINE_CHARS:,} characters",
        "63 octets",
        "253 octets",
        f"{DEFAULT_MAX_CNAMES} CNAMEs",
        f"{DEFAULT_MAX_ADDRESSES} addresses",
        f"{RDAP_DEFAULTS['max_body_bytes']:,} bytes",
        f"{RDAP_DEFAULTS['max_redirects']} redirects",
        f"{RDAP_DEFAULTS['max_entity_requests']} entity requests",
        f"{DEFAULT_TIMEOUT:g} seconds",
    ],
)
def test_the_document_states_the_limit(phrase: str) -> None:
    assert phrase in SECURITY_DOC.read_text(encoding="utf-8")


# -- input length -------------------------------------------------------------------------


def test_input_at_the_length_limit_is_parsed() -> None:
    text = "http://example.com/" + "a" * (MAX_INPUT_CHARS - len("http://example.com/"))
    assert len(text) == MAX_INPUT_CHARS
    assert parse_reported_url(text).host == "example.com"


def test_input_one_past_the_length_limit_is_refused() -> None:
    text = "http://example.com/" + "a" * (MAX_INPUT_CHARS + 1 - len("http://example.com/"))
    with pytest.raises(InvalidURLError) as info:
        parse_reported_url(text)
    assert info.value.code == ErrorCode.TOO_LONG


def test_too_long_input_is_an_invalid_verdict_without_any_query() -> None:
    # No resolver listens on the discard port: a query would show as a DNS error.
    with Locator(["127.0.0.1:9"], rdap=False, timeout=1.0) as loc:
        v = loc.locate("x" * (MAX_INPUT_CHARS + 1))
    assert (v.status, v.error and v.error.code, v.dns) == ("invalid", "too_long", None)


# -- DNS name length ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "too_long"),
    [
        ("a" * 63 + ".example", False),
        ("a" * 64 + ".example", True),
        (".".join(["a" * 63] * 3) + "." + "a" * 61, False),  # 253 octets
        (".".join(["a" * 63] * 3) + "." + "a" * 62, True),  # 254 octets
        (".".join(["a" * 63] * 3) + "." + "a" * 61 + ".", False),  # the root dot is free
    ],
)
def test_dns_name_limits(host: str, too_long: bool) -> None:
    assert exceeds_dns_limits(host) is too_long


def test_the_parser_accepts_long_labels_as_browsers_do() -> None:
    """The WHATWG parser does not check lengths: the locator must (see test_hostile_dns)."""
    assert parse_reported_url("http://" + "a" * 64 + ".com/").host == "a" * 64 + ".com"


# -- CNAME chain ----------------------------------------------------------------------------


def _chain(length: int) -> tuple[dns.message.Message, str]:
    names = [f"c{i}.example.net" for i in range(length + 1)]
    lines = [f"{a}. 300 IN CNAME {b}." for a, b in itertools.pairwise(names)]
    lines.append(f"{names[-1]}. 300 IN A 192.0.2.7")
    text = "id 1\nopcode QUERY\nrcode NOERROR\nflags QR RD RA\n;ANSWER\n" + "\n".join(lines)
    return dns.message.from_text(text), names[0]


def _follow(length: int) -> tuple[_Outcome, str | None]:
    message, first = _chain(length)
    outcome = _Outcome(chain=[first])
    limit = DnsClient(["127.0.0.1"]).max_cnames
    _, stop = _walk(message, first, dns.rdatatype.A, outcome, {first}, limit)
    return outcome, stop


def test_a_chain_at_the_cname_limit_is_followed() -> None:
    outcome, stop = _follow(DEFAULT_MAX_CNAMES)
    assert stop is None
    assert outcome.addresses == ["192.0.2.7"]
    assert len(outcome.chain) == DEFAULT_MAX_CNAMES + 1


def test_a_chain_one_past_the_cname_limit_is_refused() -> None:
    outcome, stop = _follow(DEFAULT_MAX_CNAMES + 1)
    assert stop == ErrorCode.CNAME_TOO_LONG
    assert outcome.addresses == []


# -- addresses per host ---------------------------------------------------------------------


def test_addresses_per_host_are_capped_ipv4_first_in_order() -> None:
    v4 = _Outcome(
        chain=["big.example"], addresses=[f"192.0.2.{i}" for i in range(80, 0, -1)], rcode="NOERROR"
    )
    v6 = _Outcome(chain=["big.example"], addresses=["2001:db8::1"], rcode="NOERROR")
    result = combine_dns("big.example", v4, v6, DEFAULT_MAX_ADDRESSES)
    assert len(result.addresses) == DEFAULT_MAX_ADDRESSES
    assert result.addresses == tuple(f"192.0.2.{i}" for i in range(1, DEFAULT_MAX_ADDRESSES + 1))


def test_addresses_under_the_cap_are_all_kept() -> None:
    v4 = _Outcome(
        chain=["h.example"], addresses=[f"192.0.2.{i}" for i in range(1, 32)], rcode="NOERROR"
    )
    v6 = _Outcome(chain=["h.example"], addresses=["2001:db8::1"], rcode="NOERROR")
    result = combine_dns("h.example", v4, v6, DEFAULT_MAX_ADDRESSES)
    assert len(result.addresses) == DEFAULT_MAX_ADDRESSES
    assert result.addresses[-1] == "2001:db8::1"


# -- the time budget ------------------------------------------------------------------------


@pytest.mark.parametrize("timeout", [0, -1.0])
def test_the_budget_must_be_positive(timeout: float) -> None:
    with pytest.raises(ConfigError):
        Locator(["127.0.0.1:9"], rdap=False, timeout=timeout)


@pytest.mark.parametrize("budget", [math.nan, math.inf, -1.0, 0.0])
def test_the_budget_must_be_a_number(budget: float) -> None:
    with pytest.raises(ConfigError):
        Locator(["127.0.0.1:9"], rdap=False, timeout=budget).close()


def _named_tests(text: str) -> list[tuple[str, str]]:
    """Each ``file::test`` the text names; a bare ``::test`` belongs to the file named before it."""
    named: list[tuple[str, str]] = []
    path = ""
    for match in re.finditer(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`", text):
        path = match.group(1) or path
        if match.group(2) and path:
            named.append((path, match.group(2)))
    return named


def _missing(named: list[tuple[str, str]]) -> list[str]:
    root = SECURITY_DOC.parents[1]
    return [
        f"{path}::{name}"
        for path, name in sorted(set(named))
        if not re.search(
            rf"^\s*(async\s+)?def {name}\(", (root / path).read_text(encoding="utf-8"), re.M
        )
    ]


def test_every_test_the_document_names_exists() -> None:
    """docs/security.md backs each promise with ``file::test``: each must be a test there."""
    named = _named_tests(SECURITY_DOC.read_text(encoding="utf-8"))
    assert len(set(named)) > 40
    assert _missing(named) == []


def test_a_bare_test_name_belongs_to_the_file_named_before_it() -> None:
    text = "`tests/unit/test_limits.py::test_the_values_the_document_states`, `::nosuch_test`"
    assert _missing(_named_tests(text)) == ["tests/unit/test_limits.py::nosuch_test"]


def test_each_item_of_the_second_hardening_round_names_its_tests() -> None:
    """Issue 12's nineteen items: each has a row in the document's index naming a test."""
    text = SECURITY_DOC.read_text(encoding="utf-8")
    index = text[text.index("## Hardening, round two: item by item") :]
    rows = {int(m.group(1)): m.group(2) for m in re.finditer(r"^\| (\d+) \|(.*)$", index, re.M)}
    assert sorted(rows) == list(range(1, 20))
    for item, row in rows.items():
        named = _named_tests(row)
        assert named, f"item {item} names no test"
        assert _missing(named) == [], f"item {item}"


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("1e400", math.inf),
        ("inf", math.inf),
        ("9" * 400, math.inf),
        ("nan", None),
        ("-5", 0.0),
        ("Fri, 31 Dec 9999 23:59:59 GMT", 253_402_300_799.0 - 40.0),
    ],
)
def test_a_retry_after_may_ask_for_forever_and_is_reported_as_asked(
    header: str, seconds: float | None
) -> None:
    """What the registry asked for; the client bounds the pause (max_retry_wait)."""
    assert parse_retry_after(header, now=40.0) == seconds
