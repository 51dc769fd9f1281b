"""Locate, end to end, on the loopback test internet: real nsd + unbound, real RDAP server.

Every status, flag and error code of the verdict contract is produced here through
the real DNS servers (tests/netlab) and RDAP lab (tests/rdaplab).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hostlocate import AsyncLocator, Locator, Verdict
from hostlocate.cli import main
from hostlocate.store import SqliteStore
from tests.netlab import DnsLab
from tests.rdaplab import NO_RATE_LIMITS, RdapLab

pytestmark = pytest.mark.integration


def make(dns_lab: DnsLab, rdap_lab: RdapLab, **options: Any) -> Locator:
    options.setdefault("rdap_options", NO_RATE_LIMITS)
    return Locator([dns_lab.resolver], rdap_bootstrap=rdap_lab.bootstrap_dir, **options)


@pytest.fixture(scope="module")
def loc(dns_lab: DnsLab, rdap_lab: RdapLab) -> Iterator[Locator]:
    rdap_lab.reset()
    with make(dns_lab, rdap_lab, timeout=5.0) as locator:
        yield locator


CASES = [
    # input, status, country, flags that must be present, error code
    ("hxxp://www.ovh-site[.]fr/x", "located", "FR", (), None),
    ("v6only.ovh-site.fr", "located", "FR", (), None),
    ("https://www.brand-shop.com/a", "located", "DE", (), None),
    ("rr.multi-host.com", "located", None, ("multi_country", "country_tie"), None),
    ("cdn.cf-site.com", "located", None, ("cdn", "origin_hidden", "anycast"), None),
    ("mixed.cf-site.com", "located", "GB", ("partial_cdn",), None),
    ("anycast.dns-site.net", "located", None, ("anycast",), None),
    ("www.mismatch-site.com", "located", "GB", ("geo_registry_mismatch",), None),
    ("www.cn-site.com", "located", "CN", (), None),
    ("www.br-site.com", "located", "BR", (), None),
    ("www.za-site.com", "located", "ZA", (), None),
    ("www.us-site.com", "located", "US", (), None),
    ("www.uk-site.co.uk", "located", "GB", (), None),
    ("half.corp-site.com", "located", "NL", ("non_public_address",), None),
    ("big.corp-site.com", "located", "NL", (), None),
    ("anything.wild.corp-site.com", "located", "NL", (), None),
    ("http://193.0.6.139/", "located", "NL", (), None),
    ("intranet.corp-site.com", "not_routable", None, ("non_public_address",), None),
    ("lo.corp-site.com", "not_routable", None, ("non_public_address",), None),
    ("http://[::1]/", "not_routable", None, ("non_public_address",), None),
    ("hxxp://abcdefghijklmnop[.]onion/", "not_routable", None, ("anonymity_network",), None),
    ("nope.corp-site.com", "unresolved", None, ("dns_failure",), "nxdomain"),
    ("ghost-domain.com", "unresolved", None, ("dns_failure",), "nxdomain"),
    ("nodata.corp-site.com", "unresolved", None, ("dns_failure",), "no_address"),
    ("www.broken-site.com", "unresolved", None, ("dns_failure",), "servfail"),
    ("www.refused-site.com", "unresolved", None, ("dns_failure",), "refused"),
    ("loop1.corp-site.com", "unresolved", None, ("dns_failure",), "servfail"),
    ("chain0.corp-site.com", "unresolved", None, ("dns_failure",), "cname_too_long"),
    ("", "invalid", None, (), "empty_input"),
    ("http://", "invalid", None, (), "no_host"),
    ("http://:80/", "invalid", None, (), "no_host"),
    ("http://a\u0080b.com/", "invalid", None, (), "bad_idna"),
    ("http://1.2.3.4.5/", "invalid", None, (), "bad_ip_literal"),
    ("http://[1::2::3]/", "invalid", None, (), "bad_ip_literal"),
    ("http://example.fr:99999/", "invalid", None, (), "bad_port"),
    ("http://" + "a" * 9000 + ".com/", "invalid", None, (), "too_long"),
    ("javascript:alert(1)", "invalid", None, (), "unsupported_scheme"),
    ("http://" + "a" * 64 + ".corp-site.com/", "invalid", None, (), "too_long"),
]


@pytest.mark.parametrize(
    ("text", "status", "country", "flags", "code"),
    CASES,
    ids=[c[0][:40] or "<empty>" for c in CASES],
)
def test_verdicts(
    loc: Locator,
    text: str,
    status: str,
    country: str | None,
    flags: tuple[str, ...],
    code: str | None,
) -> None:
    v = loc.locate(text)
    assert v.status == status, v.to_json()
    assert v.jurisdiction.country == country, v.to_json()
    assert set(flags) <= set(v.jurisdiction.flags), v.to_json()
    assert (v.error.code if v.error else None) == code, v.to_json()
    assert v.input == text
    assert v.provenance is not None and v.provenance.sources
    assert v.jurisdiction.reasons, "every verdict says why"
    if status == "located":
        assert v.dns is None or v.dns.addresses
        assert v.routing.next_step is not None
        assert v.routing.hotlines or v.routing.next_step != "forward_to_hotline"


def test_chain_across_three_zones_is_kept(loc: Locator) -> None:
    v = loc.locate("www.brand-shop.com")
    assert v.dns is not None
    assert v.dns.cname_chain == (
        "www.brand-shop.com",
        "shop.edge-host.net",
        "origin.hetzner-host.de",
    )
    assert v.dns.rcode == "NOERROR" and v.dns.min_ttl is not None and v.dns.min_ttl > 0
    (address,) = v.addresses
    assert address.asn == 24940 and address.network is not None
    assert address.network.rir == "ripe" and address.network.cidr == "88.198.0.0/16"
    assert "abuse@hetzner.com" in address.abuse_emails
    hosting = [c.email for c in v.routing.notice_contacts if c.role == "hosting"]
    assert "abuse@hetzner.com" in hosting
    assert {h.country for h in v.routing.hotlines} == {"DE"}


def test_arin_redirects_to_ripe_for_ovh(loc: Locator) -> None:
    v = loc.locate("www.ovh-site.fr")
    (address,) = v.addresses
    assert address.network is not None and address.network.rir == "ripe"
    assert address.network.country == "FR"
    assert "abuse@ovh.net" in address.abuse_emails


def test_cdn_verdict_names_the_operator(loc: Locator) -> None:
    v = loc.locate("cdn.cf-site.com")
    j = v.jurisdiction
    assert (j.country, j.basis, j.confidence) == (None, "origin_hidden", "none")
    assert v.routing.next_step == "notify_intermediary"
    assert all(a.provider is not None and a.provider.id == "cloudflare" for a in v.addresses)
    assert any(c.role == "cdn" for c in v.routing.notice_contacts)
    assert v.dns is not None and v.dns.cname_chain[-1] == "cf-site.com.cdn.cloudflare.net"
    (named,) = v.cname_providers
    assert (named.id, named.matched_by, named.matched_name) == (
        "cloudflare",
        "cname",
        "cf-site.com.cdn.cloudflare.net",
    )


def test_round_robin_candidates(loc: Locator) -> None:
    v = loc.locate("rr.multi-host.com")
    assert {(c.country, c.addresses) for c in v.jurisdiction.candidates} == {("GB", 1), ("NL", 1)}
    # One address each, and each registered where it is located: a true tie.
    assert v.jurisdiction.confidence == "none" and v.routing.next_step == "manual_review"
    assert {(h.country, h.role) for h in v.routing.hotlines} == {
        ("GB", "candidate_country"),
        ("NL", "candidate_country"),
    }


def test_registrar_contact_from_domain_rdap(loc: Locator) -> None:
    v = loc.locate("www.brand-shop.com")
    assert [c for c in v.routing.notice_contacts if c.role == "registrar" and c.email]


def test_country_without_member_hotline_goes_to_law_enforcement(loc: Locator) -> None:
    v = loc.locate("www.cn-site.com")
    assert v.routing.hotlines == () and v.routing.next_step == "law_enforcement"


def test_second_address_in_a_seen_network_makes_no_rdap_request(
    dns_lab: DnsLab, rdap_lab: RdapLab
) -> None:
    rdap_lab.reset()
    with make(dns_lab, rdap_lab, registrar=False) as fresh:
        first = fresh.locate("a.multi-host.com")
        after_first = rdap_lab.counts().get("ripe", 0)
        second = fresh.locate("b.multi-host.com")
        after_second = rdap_lab.counts().get("ripe", 0)
    assert first.addresses[0].ip == "193.0.6.139" and second.addresses[0].ip == "193.0.6.140"
    assert after_first == 1
    assert after_second == after_first
    assert second.addresses[0].network == first.addresses[0].network


def test_rdap_failure_is_a_flag_not_an_error(dns_lab: DnsLab, rdap_lab: RdapLab) -> None:
    rdap_lab.reset()
    rdap_lab.server_error("apnic", times=None)
    try:
        with make(dns_lab, rdap_lab, registrar=False) as fresh:
            v = fresh.locate("www.kr-site.com")
    finally:
        rdap_lab.reset()
    assert v.status == "located" and v.jurisdiction.country == "KR"
    assert "rdap_unavailable" in v.jurisdiction.flags
    assert v.addresses[0].rdap_error is not None


def test_no_rdap_makes_no_registry_request(dns_lab: DnsLab, rdap_lab: RdapLab) -> None:
    rdap_lab.reset()
    with make(dns_lab, rdap_lab, rdap=False) as fresh:
        v = fresh.locate("www.ch-site.com")
    assert rdap_lab.total() == 0
    assert v.status == "located" and v.jurisdiction.country == "CH"
    assert v.addresses[0].network is None and "rdap_unavailable" not in v.jurisdiction.flags
    assert v.provenance is not None and v.provenance.rdap is False


def test_resolver_that_never_answers_times_out_within_budget(
    dns_lab: DnsLab, rdap_lab: RdapLab
) -> None:
    budget = 1.5
    with Locator([dns_lab.blackhole], rdap_bootstrap=rdap_lab.bootstrap_dir, timeout=budget) as bh:
        started = time.monotonic()
        v = bh.locate("www.ovh-site.fr")
        elapsed = time.monotonic() - started
    assert v.status == "unresolved" and v.error is not None and v.error.code == "dns_timeout"
    assert "dns_failure" in v.jurisdiction.flags
    assert elapsed < budget + 0.5, elapsed


def test_cli_json_lines(
    dns_lab: DnsLab, rdap_lab: RdapLab, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "locate",
            "--json",
            "--nameserver",
            dns_lab.resolver,
            "--rdap-bootstrap",
            str(rdap_lab.bootstrap_dir),
            "--timeout",
            "5",
            "--rdap-rate",
            "ripe=1000",
            "--rdap-rate",
            "*=1000",
            "www.ch-site.com",
            "",
            "nope.corp-site.com",
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    verdicts = [json.loads(line) for line in lines]
    assert [v["status"] for v in verdicts] == ["located", "invalid", "unresolved"]
    assert verdicts[0]["jurisdiction"]["country"] == "CH"
    assert verdicts[0]["schema"] == "hostlocate.verdict/2"
    assert verdicts[0]["provenance"]["resolvers"] == [dns_lab.resolver]


def test_cli_blackhole_timeout_and_table(
    dns_lab: DnsLab, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "locate",
            "--no-rdap",
            "--nameserver",
            dns_lab.blackhole,
            "--timeout",
            "1",
            "www.ovh-site.fr",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "unresolved" in out and "dns_timeout" in out


def test_cli_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["locate", "--timeout", "-1", "x.fr"]) == 2
    assert main(["locate", "--nameserver", "not-an-address", "x.fr"]) == 2
    assert main(["locate", "--rdap-rate", "ripe", "x.fr"]) == 2
    assert main(["locate", "--rdap-rate", "ripe=0", "x.fr"]) == 2


def _comparable(v: Verdict) -> dict[str, Any]:
    """The verdict less what differs between a cold and a warm cache.

    Time, the query count, and the TTL, which counts down in the resolver's cache.
    """
    d = v.to_dict()
    d.pop("provenance")
    if d["dns"]:
        d["dns"].pop("queries")
        d["dns"].pop("min_ttl")
    return d


def test_async_locator_gives_the_same_verdicts(
    loc: Locator, dns_lab: DnsLab, rdap_lab: RdapLab
) -> None:
    inputs = [
        "www.ovh-site.fr",
        "rr.multi-host.com",
        "cdn.cf-site.com",
        "nope.corp-site.com",
        "",
        "intranet.corp-site.com",
        "www.br-site.com",
    ]

    async def run() -> list[Verdict]:
        async with AsyncLocator(
            [dns_lab.resolver], rdap_bootstrap=rdap_lab.bootstrap_dir, rdap_options=NO_RATE_LIMITS
        ) as aloc:
            single = [await aloc.locate(u) for u in inputs[:2]]
            many = [v async for v in aloc.locate_many(inputs, concurrency=3)]
            assert [_comparable(v) for v in single] == [_comparable(v) for v in many[:2]]
            return many

    async_verdicts = asyncio.run(run())
    sync_verdicts = list(loc.locate_many(inputs, concurrency=2))
    assert [v.input for v in async_verdicts] == inputs
    for a, s in zip(async_verdicts, sync_verdicts, strict=True):
        assert _comparable(a) == _comparable(s)


def test_locate_many_keeps_order_and_dedupes_dns(dns_lab: DnsLab, rdap_lab: RdapLab) -> None:
    inputs = ["www.za-site.com", "http://www.za-site.com/a", "", "www.za-site.com/b"] * 5
    with make(dns_lab, rdap_lab, registrar=False) as fresh:
        verdicts = list(fresh.locate_many(inputs, concurrency=8))
        stats = fresh.stats()
    assert [v.input for v in verdicts] == inputs
    assert sum(v.dns.queries for v in verdicts if v.dns) == 2  # one A, one AAAA
    # The network's record names no abuse desk: one request for it, one for its AS's.
    assert stats["rdap"]["requests_total"] == 2
    # One decision for the host, shared by its records, those looked up together too.
    located = [v for v in verdicts if v.status == "located"]
    assert len(located) == 15
    assert len({id(v.jurisdiction) for v in located}) == 1
    assert len({id(v.routing) for v in located}) == 1


def test_persistent_cache_survives_a_restart(
    dns_lab: DnsLab, rdap_lab: RdapLab, tmp_path: Path
) -> None:
    names = ["www.ch-site.com", "www.brand-shop.com", "rr.multi-host.com"]
    path = tmp_path / "cache.sqlite3"
    rdap_lab.reset()
    with SqliteStore(path) as store, make(dns_lab, rdap_lab, cache=store) as first:
        cold = list(first.locate_many(names))
    cold_requests = rdap_lab.total()
    assert cold_requests > 0 and sum(v.dns.queries for v in cold if v.dns) > 0
    rdap_lab.reset()
    with SqliteStore(path) as store, make(dns_lab, rdap_lab, cache=store) as second:
        warm = list(second.locate_many(names))
    assert rdap_lab.total() == 0
    assert sum(v.dns.queries for v in warm if v.dns) == 0
    assert [_comparable(v) for v in warm] == [_comparable(v) for v in cold]
