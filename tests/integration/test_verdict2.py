"""The verdict a hotline can act on (hostlocate.verdict/2), end to end on the loopback
test internet: real nsd + unbound, the real RDAP lab, the bundled tables.

One test per case of the schema: a platform on a PSL private suffix, a platform
that is also the CDN, a hidden origin and the same site decided again from the
origin its CDN disclosed, a redirector, a tie between two countries, published
anycast ranges, an AFRINIC network whose abuse address is only in its remarks,
an APNIC address whose record sits at JPNIC, and the law-enforcement routes.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hostlocate import Locator, Report, Verdict
from hostlocate.cli import main
from tests.netlab import DnsLab
from tests.rdaplab import NO_RATE_LIMITS, RdapLab

pytestmark = pytest.mark.integration

OVH_FR = "164.132.1.1"


@pytest.fixture(scope="module")
def loc(dns_lab: DnsLab, rdap_lab: RdapLab) -> Iterator[Locator]:
    rdap_lab.reset()
    with Locator(
        [dns_lab.resolver], rdap_bootstrap=rdap_lab.bootstrap_dir, rdap_options=NO_RATE_LIMITS
    ) as locator:
        yield locator


def roles(v: Verdict) -> list[tuple[str, str | None]]:
    return [(c.role, c.url or c.email) for c in v.routing.notice_contacts]


def test_platform_on_a_psl_private_suffix(loc: Locator, dns_lab: DnsLab) -> None:
    v = loc.locate(f"https://{dns_lab.names['platform']}/album/1")
    assert v.platform is not None, v.to_json()
    assert (v.platform.id, v.platform.matched_by) == ("github_pages", "psl_private_suffix")
    j = v.jurisdiction
    assert (j.country, j.basis, j.confidence) == ("US", "platform_seat", "medium")
    assert "hosting_platform" in j.flags
    assert any("GitHub Pages" in r and "front-ends" in r for r in j.reasons)
    assert v.routing.notice_contacts[0].role == "platform"
    assert v.routing.next_step == "forward_to_hotline"
    assert v.routing.hotlines[0].role == "hosting_country"


def test_a_platform_that_is_also_the_cdn_hosts_the_content(loc: Locator, dns_lab: DnsLab) -> None:
    v = loc.locate(f"https://{dns_lab.names['platform_on_cdn']}/")
    assert v.platform is not None and v.platform.id == "cloudflare_pages", v.to_json()
    j = v.jurisdiction
    assert "origin_hidden" not in j.flags
    assert (j.country, j.basis) == ("US", "platform_seat")
    assert v.routing.next_step == "forward_to_hotline"


def test_origin_hidden_behind_a_cdn(loc: Locator, dns_lab: DnsLab) -> None:
    v = loc.locate(f"http://{dns_lab.names['cdn']}/gallery")
    j = v.jurisdiction
    assert (j.country, j.basis, j.confidence) == (None, "origin_hidden", "none")
    assert {"cdn", "origin_hidden"} <= set(j.flags)
    assert v.routing.next_step == "notify_intermediary"
    first = v.routing.notice_contacts[0]
    assert (first.role, first.name, first.source) == ("cdn", "Cloudflare", "provider_table")
    assert first.url is not None and "cloudflare.com" in first.url  # its form, first
    assert [(h.country, h.role) for h in v.routing.hotlines] == [("US", "intermediary_seat")]


def test_a_cdn_site_decided_again_from_its_disclosed_origin(loc: Locator, dns_lab: DnsLab) -> None:
    url = f"http://{dns_lab.names['cdn']}/gallery"
    v = loc.locate(url, origin=[OVH_FR])
    j = v.jurisdiction
    assert (j.country, j.basis) == ("FR", "origin_disclosed"), v.to_json()
    assert "cdn" in j.flags and "origin_hidden" not in j.flags
    assert [a.ip for a in v.origin] == [OVH_FR]
    assert v.origin[0].network is not None and v.origin[0].network.country == "FR"
    assert all(a.provider is not None for a in v.addresses)  # the CDN stays in the evidence
    contacts = roles(v)
    assert contacts[0][0] == "cdn"
    assert ("hosting", "abuse@ovh.net") in contacts
    assert [h.role for h in v.routing.hotlines] == ["hosting_country"]
    # The same through locate_many, as a batch record carries it.
    (again,) = loc.locate_many([Report(url, (OVH_FR,))])
    assert again.jurisdiction == j
    # And without the origin, the decision kept for the host is still the hidden one.
    assert loc.locate(url).jurisdiction.basis == "origin_hidden"


def test_a_bad_origin_is_an_invalid_verdict(loc: Locator, dns_lab: DnsLab) -> None:
    v = loc.locate(f"http://{dns_lab.names['cdn']}/", origin=["not-an-address"])
    assert v.status == "invalid" and v.error is not None
    assert v.error.code == "bad_ip_literal"


def test_a_redirector_is_named_and_not_taken_for_the_host(loc: Locator) -> None:
    v = loc.locate("https://bit.ly/3abcdef")
    j = v.jurisdiction
    assert "redirector" in j.flags and j.confidence == "low"
    assert any("Bitly" in r and "redirect" in r for r in j.reasons)
    assert v.routing.notice_contacts[0].role == "redirector"
    assert v.routing.next_step == "manual_review"


def test_a_tie_between_two_countries_is_not_decided_by_alphabet(
    loc: Locator, dns_lab: DnsLab
) -> None:
    v = loc.locate(dns_lab.names["round_robin"])
    j = v.jurisdiction
    assert j.country is None and {"multi_country", "country_tie"} <= set(j.flags)
    assert any("tie" in r and "GB" in r and "NL" in r for r in j.reasons)
    assert {(h.country, h.role) for h in v.routing.hotlines} == {
        ("GB", "candidate_country"),
        ("NL", "candidate_country"),
    }


def test_published_anycast_ranges(loc: Locator) -> None:
    v = loc.locate("http://8.8.8.8/")
    j = v.jurisdiction
    assert "anycast" in j.flags and j.confidence == "low", v.to_json()
    assert any("8.8.8.8" in r and "anycast" in r for r in j.reasons)


def test_afrinic_abuse_address_from_the_remarks(loc: Locator, dns_lab: DnsLab) -> None:
    v = loc.locate(f"http://{dns_lab.names['afrinic_remarks']}/")
    (address,) = v.addresses
    assert address.holder is not None and address.holder.name == "Lagos Hosting Lab Ltd"
    assert ("hosting", "abuse@lagos-hosting-lab.net") in roles(v), v.to_json()


def test_jpnic_record_puts_the_holders_desk_first(loc: Locator, dns_lab: DnsLab) -> None:
    v = loc.locate(f"http://{dns_lab.names['jpnic']}/")
    hosting = [email for role, email in roles(v) if role == "hosting"]
    assert hosting[:2] == ["abuse@kanda-hosting-lab.net", "hostmaster@nic.ad.jp"], v.to_json()


def test_law_enforcement_routes(loc: Locator, dns_lab: DnsLab) -> None:
    onion = loc.locate("http://abcdefghijklmnop.onion/")
    assert onion.routing.next_step == "law_enforcement"
    no_hotline = loc.locate(dns_lab.names["cn"])
    assert no_hotline.jurisdiction.country == "CN"
    assert no_hotline.routing.next_step == "law_enforcement"


def test_every_verdict_has_reasons_and_hotlines_have_ids(loc: Locator, dns_lab: DnsLab) -> None:
    for key in ("fr", "cname_chain", "round_robin", "cdn", "partial_cdn", "nxdomain", "private"):
        v = loc.locate(dns_lab.names[key])
        assert v.jurisdiction.reasons, v.to_json()
        assert all(h.id and h.role for h in v.routing.hotlines)
    assert loc.locate("").jurisdiction.reasons


@pytest.mark.parametrize(
    ("literal", "how"),
    [("http://[::ffff:8.8.8.8]/", "ipv4_mapped"), ("http://[64:ff9b::808:808]/", "nat64")],
)
def test_an_ipv4_address_inside_an_ipv6_literal_is_located(
    loc: Locator, literal: str, how: str
) -> None:
    v = loc.locate(literal)
    assert v.status == "located" and [a.ip for a in v.addresses] == ["8.8.8.8"], v.to_json()
    assert v.jurisdiction.country is not None
    assert "embedded_ipv4" in v.jurisdiction.flags
    assert any(how in r for r in v.jurisdiction.reasons)


def test_no_registry_service_is_remembered_so_warm_records_need_no_look_up(
    dns_lab: DnsLab, rdap_lab: RdapLab, tmp_path: Path
) -> None:
    # As with the bundled bootstrap, which has no dns.json: the registrar cannot be
    # asked, and that answer is kept like a 404, so the host's decision is kept.
    for kind in ("ipv4", "ipv6", "asn"):
        shutil.copy(rdap_lab.bootstrap_dir / f"{kind}.json", tmp_path / f"{kind}.json")
    no_domains = {"version": "1.0", "publication": "2026-12-01T00:00:00Z", "services": []}
    (tmp_path / "dns.json").write_text(json.dumps(no_domains), encoding="utf-8")
    with Locator([dns_lab.resolver], rdap_bootstrap=tmp_path, rdap_options=NO_RATE_LIMITS) as fresh:
        first = fresh.locate(dns_lab.names["fr"])
        started = time.perf_counter()
        again = fresh._async._answer_now(dns_lab.names["fr"], started)
    assert first.jurisdiction.country == "FR"
    assert not [c for c in first.routing.notice_contacts if c.role == "registrar"]
    assert isinstance(again, Verdict), "the decision was not kept"


def _lab_options(dns_lab: DnsLab, rdap_lab: RdapLab) -> list[str]:
    return [
        "--nameserver",
        dns_lab.resolver,
        "--rdap-bootstrap",
        str(rdap_lab.bootstrap_dir),
        "--rdap-rate",
        "*=1000",
    ]


def test_the_command_decides_from_the_origin_given(
    dns_lab: DnsLab, rdap_lab: RdapLab, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://{dns_lab.names['cdn']}/gallery"
    code = main(["locate", "--json", *_lab_options(dns_lab, rdap_lab), "--origin", OVH_FR, url])
    assert code == 0
    (verdict,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert verdict["jurisdiction"]["country"] == "FR"
    assert verdict["jurisdiction"]["basis"] == "origin_disclosed"
    assert [a["ip"] for a in verdict["origin"]] == [OVH_FR]


def test_a_batch_column_carries_the_origin(
    dns_lab: DnsLab, rdap_lab: RdapLab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cdn = f"http://{dns_lab.names['cdn']}/gallery"
    src = tmp_path / "reports.csv"
    src.write_text(f"url,origin\n{cdn},{OVH_FR}\n{cdn},\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code = main(
        [
            "batch",
            str(src),
            "--origin-column",
            "origin",
            "-o",
            str(out),
            "--no-progress",
            "--no-cache",
            *_lab_options(dns_lab, rdap_lab),
        ]
    )
    capsys.readouterr()
    assert code == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    verdicts = [line for line in lines if line.get("schema") == "hostlocate.verdict/2"]
    assert [v["jurisdiction"]["basis"] for v in verdicts] == ["origin_disclosed", "origin_hidden"]
