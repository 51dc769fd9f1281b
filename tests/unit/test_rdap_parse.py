"""The RDAP client's pure core: parsing real responses, the range cache, the budgets.

Every recorded ``ip network`` response in ``<repo>/../shared/data/rdap-responses/``
is parsed in place and checked against that folder's INDEX.csv (handle, range,
country) and CAPTURE-META.csv (abuse e-mails). No servers here.
"""

from __future__ import annotations

import csv
import ipaddress
import json
import math
from pathlib import Path
from typing import Any

import pytest

from hostlocate.sources._rdap_cache import RangeCache
from hostlocate.sources._rdap_fetch import parse_retry_after
from hostlocate.sources._rdap_parse import (
    ParseError,
    abuse_emails,
    canonical_address,
    entity_roles,
    parse_entity_abuse,
    parse_network,
    parse_registrar,
    registry_for_url,
    registry_of,
)
from hostlocate.sources._rdap_ratelimit import (
    DEFAULT_RATE_LIMITS,
    RateLimit,
    RateLimiter,
    limits_from,
)
from tests._need import absent

RECORDED = Path(__file__).resolve().parents[3] / "shared" / "data" / "rdap-responses"


def _need_recordings() -> None:
    if not (RECORDED / "INDEX.csv").is_file():
        absent(f"recorded RDAP responses not found at {RECORDED}")


def _rows(name: str) -> dict[str, dict[str, str]]:
    path = RECORDED / name
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["file"]: row for row in csv.DictReader(fh)}


INDEX = _rows("INDEX.csv")
META = _rows("CAPTURE-META.csv")
NETWORK_FILES = sorted(
    f for f, row in INDEX.items() if row["object_class"].startswith("ip network")
)
DOMAIN_FILES = sorted(f for f, row in INDEX.items() if row["object_class"] == "domain")
OTHER_FILES = sorted(
    f
    for f, row in INDEX.items()
    if not row["object_class"].startswith("ip network") and f.endswith(".json")
)


def _load(file: str) -> dict[str, Any]:
    _need_recordings()
    body = json.loads((RECORDED / file).read_text(encoding="utf-8"))
    assert isinstance(body, dict)
    return body


def _expected_address(text: str) -> str:
    value = text.split("/", 1)[0]
    if ":" not in value:
        value = ".".join(str(int(p)) for p in value.split("."))
    return str(ipaddress.ip_address(value))


# -- every recorded network response ------------------------------------------------------


def test_the_recordings_hold_every_registry() -> None:
    _need_recordings()
    assert {INDEX[f]["rir"] for f in NETWORK_FILES} == {
        "arin",
        "ripe",
        "apnic",
        "lacnic",
        "afrinic",
    }
    assert len(NETWORK_FILES) >= 36


@pytest.mark.parametrize("file", NETWORK_FILES or ["(no recordings)"])
def test_recorded_network_parses_as_indexed(file: str) -> None:
    body = _load(file)
    row = INDEX[file]
    facts = parse_network(body, registry=row["rir"], source_url="http://127.0.0.1/x")
    net = facts.network
    assert net.rir == row["rir"]
    assert net.handle == row["handle"]
    assert net.start_address == _expected_address(row["start"])
    assert net.end_address == _expected_address(row["end"])
    assert net.country == (row["country"] or None)
    assert net.source_url == "http://127.0.0.1/x"
    first = ipaddress.ip_address(net.start_address)
    last = ipaddress.ip_address(net.end_address)
    blocks = [str(n) for n in ipaddress.summarize_address_range(first, last)]
    assert net.cidr == ", ".join(blocks)
    assert (facts.start, facts.end, facts.version) == (int(first), int(last), first.version)


@pytest.mark.parametrize("file", NETWORK_FILES or ["(no recordings)"])
def test_recorded_network_abuse_emails_match_capture_meta(file: str) -> None:
    body = _load(file)
    facts = parse_network(body, registry=None, source_url=None)
    assert sorted(facts.abuse_emails) == sorted(META[file]["abuse_emails"].split())
    has_abuse = INDEX[file]["has_abuse_contact"] == "yes"
    assert bool(facts.abuse_emails or facts.abuse_refs) == has_abuse


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        ("arin-ip-3.3.3.3.json", {"abuse@amazonaws.com"}),
        ("arin-ip-13.64.0.0.json", {"abuse@microsoft.com"}),
        ("arin-ip-74.125.225.229.json", {"arin-contact@google.com"}),
    ],
)
def test_arin_abuse_contact_nested_under_the_organisation_is_found(
    file: str, expected: set[str]
) -> None:
    body = _load(file)
    assert not [e for e in body["entities"] if "abuse" in entity_roles(e)]
    facts = parse_network(body, registry="arin", source_url=None)
    assert set(facts.abuse_emails) == expected


def test_zero_padded_arin_ipv4_is_canonical() -> None:
    body = _load("arin-ip-74.125.225.229.json")
    assert body["startAddress"] == "074.125.000.000"
    net = parse_network(body, registry="arin", source_url=None).network
    assert (net.start_address, net.end_address, net.cidr) == (
        "74.125.0.0",
        "74.125.255.255",
        "74.125.0.0/16",
    )


def test_upper_case_arin_ipv6_is_canonical() -> None:
    body = _load("arin-ip-2604_180_3_2e2__d865.json")
    assert body["endAddress"] != body["endAddress"].lower()
    net = parse_network(body, registry="arin", source_url=None).network
    assert net.end_address == "2604:180:ffff:ffff:ffff:ffff:ffff:ffff"
    assert net.cidr == "2604:180::/32"


def test_ripe_2015_without_object_class_and_with_prefix_on_addresses() -> None:
    body = _load("ripe-ip-2a00_2381_ffff__1.json")
    assert "objectClassName" not in body
    assert body["startAddress"].endswith("/128")
    facts = parse_network(body, registry=None, source_url=None)
    assert facts.network.cidr == "2a00:2381:ffff::/64"
    assert facts.network.rir == "ripe"  # from port43 when no registry is given


def test_lacnic_comma_joined_role_string_counts_as_abuse() -> None:
    body = _load("lacnic-ip-201.127.0.1.json")
    joined = [e for e in body["entities"] if "technical, abuse" in e.get("roles", [])]
    assert [e["handle"] for e in joined] == ["GEC10"]
    assert entity_roles(joined[0]) == {"technical", "abuse"}
    facts = parse_network(body, registry="lacnic", source_url=None)
    assert [r.handle for r in facts.abuse_refs] == ["GEC10"]


def test_nic_br_abuse_entity_without_email_becomes_a_reference() -> None:
    facts = parse_network(
        _load("lacnic-ip-187.36.192.120.json"), registry="lacnic", source_url=None
    )
    assert facts.abuse_emails == ()
    assert [r.handle for r in facts.abuse_refs] == ["GRSVI"]
    assert facts.abuse_refs[0].links and facts.abuse_refs[0].links[0].endswith("/entity/GRSVI")


def test_afrinic_2018_entities_without_roles_give_no_contact() -> None:
    body = _load("afrinic-ip-196.216.2.20.json")
    assert all("roles" not in e for e in body["entities"])
    facts = parse_network(body, registry="afrinic", source_url=None)
    assert (facts.abuse_emails, facts.abuse_refs) == ((), ())


@pytest.mark.parametrize("file", OTHER_FILES or ["(no recordings)"])
def test_non_network_recordings_are_refused(file: str) -> None:
    body = _load(file)
    with pytest.raises(ParseError):
        parse_network(body, registry=None, source_url=None)


@pytest.mark.parametrize("file", DOMAIN_FILES or ["(no recordings)"])
def test_recorded_domain_registrar_abuse_matches_capture_meta(file: str) -> None:
    facts = parse_registrar(_load(file))
    expected = META[file]["abuse_emails"].split()
    assert facts.abuse_email == (expected[0] if expected else None)


def test_registrar_name_id_and_phone() -> None:
    facts = parse_registrar(_load("verisign-domain-google.com.json"))
    assert facts.registrar == "MarkMonitor Inc."
    assert facts.iana_id == "292"
    assert facts.abuse_phone is not None and facts.abuse_phone.startswith("+1.")


def test_fetched_entity_gives_its_own_and_nested_abuse_emails() -> None:
    assert parse_entity_abuse(_load("arin-entity-GOVI.json")) == ("support@govital.net",)
    with pytest.raises(ParseError):
        parse_entity_abuse(_load("ripe-ip-193.0.0.0.json"))


def test_port43_names_the_registry() -> None:
    _need_recordings()
    for file in NETWORK_FILES:
        named = registry_of(_load(file))
        assert named in (None, INDEX[file]["rir"])


# -- synthetic shapes -----------------------------------------------------------------------


def _vcard(*props: list[Any]) -> list[Any]:
    return ["vcard", [["version", {}, "text", "4.0"], *props]]


def test_abuse_walk_handles_mailto_duplicates_and_depth() -> None:
    deep: dict[str, Any] = {
        "roles": ["abuse"],
        "vcardArray": _vcard(["email", {}, "text", "deep@x.test"]),
    }
    for _ in range(10):
        deep = {"roles": ["registrant"], "entities": [deep]}
    body = {
        "entities": [
            {"roles": ["Abuse"], "vcardArray": _vcard(["email", {}, "text", "mailto:a@x.test"])},
            {"roles": ["abuse"], "vcardArray": _vcard(["email", {}, "text", "A@X.TEST"])},
            {"roles": ["technical"], "vcardArray": _vcard(["email", {}, "text", "tech@x.test"])},
            {"roles": "abuse"},
            "not an entity",
            deep,
        ]
    }
    emails, refs = abuse_emails(body)
    assert emails == ("a@x.test",)
    assert refs == ()
    emails, _ = abuse_emails(body, max_depth=12)
    assert emails == ("a@x.test", "deep@x.test")


def test_abuse_reference_keeps_only_self_and_related_json_links() -> None:
    body = {
        "entities": [
            {
                "handle": "AB1",
                "roles": ["abuse"],
                "links": [
                    {"rel": "self", "href": "https://r.test/entity/AB1"},
                    {
                        "rel": "alternate",
                        "href": "https://r.test/xml/AB1",
                        "type": "application/xml",
                    },
                    {
                        "rel": "related",
                        "href": "https://r2.test/entity/AB1",
                        "type": "application/rdap+json",
                    },
                    {"rel": "related", "href": "https://r2.test/about", "type": "text/html"},
                ],
            }
        ]
    }
    _, refs = abuse_emails(body)
    assert refs[0].handle == "AB1"
    assert refs[0].links == ("https://r.test/entity/AB1", "https://r2.test/entity/AB1")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"objectClassName": "autnum", "startAddress": "1.0.0.0", "endAddress": "1.0.0.9"},
            "autnum",
        ),
        ({"objectClassName": "ip network"}, "missing"),
        ({"startAddress": "1.0.0.9", "endAddress": "1.0.0.0"}, "range"),
        ({"startAddress": "1.0.0.0", "endAddress": "::1"}, "range"),
        ({"startAddress": "1.0.0.x", "endAddress": "1.0.0.9"}, "bad start/end"),
        ({"startAddress": 5, "endAddress": "1.0.0.9"}, "missing"),
    ],
)
def test_unusable_network_objects(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_network(body, registry=None, source_url=None)


def test_missing_version_and_handle_are_filled_in() -> None:
    facts = parse_network(
        {"startAddress": "193.0.22.0/32", "endAddress": "193.0.22.255/32", "country": "nl"},
        registry="lab",
        source_url=None,
    )
    assert facts.network.handle == "193.0.22.0 - 193.0.22.255"
    assert facts.network.country == "NL"
    assert facts.network.cidr == "193.0.22.0/24"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("074.125.000.000", "74.125.0.0"),
        ("194.85.61.0/32", "194.85.61.0"),
        (" 2001:41D0:0000::/128 ", "2001:41d0::"),
        ("2801:10:c000:0:0:0:0:0", "2801:10:c000::"),
    ],
)
def test_canonical_address(text: str, expected: str) -> None:
    assert str(canonical_address(text)) == expected


@pytest.mark.parametrize(
    ("url", "registry"),
    [
        ("https://rdap.registry-x.test/ip/1.2.3.4", "registry-x"),
        ("https://rdap.db.ripe.test/ip/1.2.3.4", "ripe"),
        ("https://rdap.arin.test/registry/ip/1.2.3.4", "arin"),
        ("http://127.0.0.1:8080/lacnic/ip/1.2.3.4", "lacnic"),
        ("http://[::1]:8080/verisign/domain/x.com", "verisign"),
        ("http://localhost/", "localhost"),
    ],
)
def test_registry_for_url(url: str, registry: str) -> None:
    assert registry_for_url(url) == registry


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("7", 7.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("soon", None),
        ("nan", None),
        ("Thu, 01 Jan 1970 00:01:40 GMT", 60.0),
        ("Thu, 01 Jan 1970 00:00:10 GMT", 0.0),
    ],
)
def test_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=40.0) == expected


# -- range cache ----------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def _span(first: str, last: str) -> tuple[int, int, int]:
    a, b = _ip(first), _ip(last)
    return a.version, int(a), int(b)


def test_range_cache_answers_every_address_of_a_non_aligned_range() -> None:
    cache: RangeCache[str] = RangeCache()
    assert cache.put(*_span("108.0.0.0", "108.57.255.255"), "verizon")
    for inside in ("108.0.0.0", "108.45.128.208", "108.57.255.255", "108.33.1.1"):
        assert cache.get(_ip(inside)) == "verizon"
    for outside in ("107.255.255.255", "108.58.0.0", "2001:db8::1"):
        assert cache.get(_ip(outside)) is None
    assert (cache.hits, cache.misses) == (4, 3)


def test_range_cache_prefers_the_smallest_range() -> None:
    cache: RangeCache[str] = RangeCache()
    cache.put(*_span("193.0.0.0", "193.0.7.255"), "outer")
    cache.put(*_span("193.0.6.0", "193.0.6.255"), "inner")
    assert cache.get(_ip("193.0.6.139")) == "inner"
    assert cache.get(_ip("193.0.5.1")) == "outer"
    cache.put(*_span("2001:41d0::", "2001:41d0:f:ffff:ffff:ffff:ffff:ffff"), "ovh")
    assert cache.get(_ip("2001:41d0:2:193d::5")) == "ovh"


def test_range_cache_entries_expire() -> None:
    clock = FakeClock()
    cache: RangeCache[str] = RangeCache(ttl=60, clock=clock)
    cache.put(*_span("1.1.1.0", "1.1.1.255"), "apnic")
    clock.now += 59
    assert cache.get(_ip("1.1.1.1")) == "apnic"
    clock.now += 2
    assert cache.get(_ip("1.1.1.1")) is None
    assert len(cache) == 0


def test_range_cache_is_bounded_least_recently_used_first() -> None:
    cache: RangeCache[int] = RangeCache(max_entries=2)
    cache.put(*_span("10.0.1.0", "10.0.1.255"), 1)
    cache.put(*_span("10.0.2.0", "10.0.2.255"), 2)
    assert cache.get(_ip("10.0.1.1")) == 1  # 1 is now the most recent
    cache.put(*_span("10.0.3.0", "10.0.3.255"), 3)
    assert len(cache) == 2
    assert cache.get(_ip("10.0.2.1")) is None
    assert cache.get(_ip("10.0.1.1")) == 1
    assert cache.get(_ip("10.0.3.1")) == 3


def test_range_cache_blocks_shared_by_two_ranges_survive_one_eviction() -> None:
    cache: RangeCache[str] = RangeCache()
    cache.put(*_span("10.0.0.0", "10.0.1.255"), "a")  # one /23
    cache.put(*_span("10.0.0.0", "10.0.2.255"), "c")  # the same /23 plus a /24
    assert cache.get(_ip("10.0.0.1")) == "c"
    cache.put(*_span("10.0.0.0", "10.0.1.255"), "a2")  # replaces "a", takes the /23 back
    assert cache.get(_ip("10.0.0.1")) == "a2"
    assert cache.get(_ip("10.0.2.1")) == "c"


def test_range_cache_replaces_the_same_range_and_refuses_nonsense() -> None:
    cache: RangeCache[str] = RangeCache()
    cache.put(*_span("1.1.1.0", "1.1.1.255"), "old")
    cache.put(*_span("1.1.1.0", "1.1.1.255"), "new")
    assert (len(cache), cache.get(_ip("1.1.1.7"))) == (1, "new")
    assert not cache.put(4, 10, 5, "backwards")
    assert not cache.put(5, 1, 2, "no such version")
    # 2 * 126 blocks: more than any registry range splits into
    assert not cache.put(6, 1, 2**128 - 2, "ragged")
    cache.clear()
    assert cache.get(_ip("1.1.1.7")) is None
    with pytest.raises(ValueError):
        RangeCache(max_entries=0)


# -- budgets ---------------------------------------------------------------------------------


def test_rate_limiter_spends_the_burst_then_spaces_requests() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"lacnic": (RateLimit(10 / 60, 10),), "*": ()}, clock=clock)
    waits = [limiter.reserve("lacnic", math.inf) for _ in range(12)]
    assert waits[:10] == [0.0] * 10
    assert waits[10] == pytest.approx(6.0)
    assert waits[11] == pytest.approx(12.0)  # queued behind the 11th
    assert limiter.waits == 2
    assert limiter.reserve("other", math.inf) == 0.0  # "*" with no bucket: unlimited


def test_rate_limiter_refuses_past_the_deadline_without_booking() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"ripe": (RateLimit(1, 1),)}, clock=clock)
    assert limiter.reserve("ripe", clock.now + 5) == 0.0
    assert limiter.reserve("ripe", clock.now + 0.5) is None
    assert limiter.refusals == 1
    assert limiter.reserve("ripe", clock.now + 5) == pytest.approx(1.0)


def test_retry_after_blocks_the_whole_registry() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"*": ()}, clock=clock)
    limiter.block("arin", clock.now + 30)
    assert limiter.reserve("arin", clock.now + 10) is None
    assert limiter.reserve("arin", math.inf) == pytest.approx(30.0)
    assert limiter.reserve("ripe", clock.now + 1) == 0.0


def test_the_slower_of_two_buckets_decides() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"ripe": (RateLimit(1000 / 86_400, 1000), RateLimit(5, 1))}, clock=clock)
    assert limiter.reserve("ripe", math.inf) == 0.0
    assert limiter.reserve("ripe", math.inf) == pytest.approx(0.2)


def test_limits_from_merges_over_the_defaults() -> None:
    assert limits_from(None) == dict(DEFAULT_RATE_LIMITS)
    merged = limits_from({"lacnic": 2.0})
    assert merged["lacnic"] == (RateLimit(2.0, 2.0),)
    assert merged["ripe"] == DEFAULT_RATE_LIMITS["ripe"]
    only = limits_from({"*": math.inf, "ripe": RateLimit(0.5, 3)})
    assert set(only) == {"*", "ripe"}
    assert only["ripe"] == (RateLimit(0.5, 3),)
    assert limits_from({"x": [RateLimit(1, 1), RateLimit(2, 2)]})["x"] == (
        RateLimit(1, 1),
        RateLimit(2, 2),
    )
    with pytest.raises(ValueError):
        limits_from({"ripe": -1.0})


def test_an_unlimited_bucket_never_waits() -> None:
    limiter = RateLimiter(limits_from({"*": math.inf}))
    assert all(limiter.reserve("arin", math.inf) == 0.0 for _ in range(1000))
