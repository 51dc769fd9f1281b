"""Who holds a network and whom to tell: holder, ranked notice contacts, NIR referral.

Parsed from the real recordings in ``<repo>/../shared/data/rdap-responses/``
(read in place) and from the lab's own written responses in
``tests/rdaplab/responses/`` (the AFRINIC network whose abuse address is only
in a remark, the APNIC record of space JPNIC administers). No servers here;
tests/integration/test_rdap_parse_lab.py asks the same through the RDAP lab.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hostlocate.models import Holder
from hostlocate.sources._rdap_parse import (
    MAX_CONTACTS,
    NetworkFacts,
    ParseError,
    Referral,
    parse_entity_abuse,
    parse_network,
    parse_registrar,
)
from tests._need import absent

RECORDED = Path(__file__).resolve().parents[3] / "shared" / "data" / "rdap-responses"
WRITTEN = Path(__file__).resolve().parents[1] / "rdaplab" / "responses"


def _recorded(name: str) -> dict[str, Any]:
    path = RECORDED / name
    if not path.is_file():
        absent(f"recorded RDAP response not found at {path}")
    body = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(body, dict)
    return body


def _written(name: str) -> dict[str, Any]:
    raw = (WRITTEN / name).read_text(encoding="utf-8").replace("{base}", "http://127.0.0.1:1/x/")
    body = json.loads(raw)
    assert isinstance(body, dict)
    return body


def _parse(body: dict[str, Any], registry: str | None = None) -> NetworkFacts:
    return parse_network(body, registry=registry, source_url=None)


def _vcard(*props: list[Any]) -> list[Any]:
    return ["vcard", [["version", {}, "text", "4.0"], *props]]


def _network(**fields: Any) -> dict[str, Any]:
    return {
        "objectClassName": "ip network",
        "startAddress": "193.0.22.0",
        "endAddress": "193.0.22.255",
        **fields,
    }


# -- the lab's cases for issue 11 ------------------------------------------------------------


def test_afrinic_abuse_address_only_in_a_remark() -> None:
    facts = _parse(_written("afrinic-ip-102.88.34.0-remarks.json"), "afrinic")
    assert facts.abuse_emails == () and facts.abuse_refs == ()
    assert facts.remark_emails == ("abuse@lagos-hosting-lab.net",)
    # The NOC is a desk of the holder, but a remark naming the abuse desk comes first
    # and the NOC is then not offered at all.
    assert facts.desk_emails == ("noc@lagos-hosting-lab.net",)
    assert facts.notice_emails() == ("abuse@lagos-hosting-lab.net",)
    assert facts.holder == Holder(name="Lagos Hosting Lab Ltd", country="NG")
    assert facts.referral is None


def test_apnic_record_of_jpnic_space() -> None:
    facts = _parse(_written("apnic-ip-133.242.10.0-jpnic.json"), "apnic")
    assert facts.abuse_emails == ("hostmaster@nic.ad.jp",)  # JPNIC's desk has the abuse role
    assert facts.notice_emails() == ("abuse@kanda-hosting-lab.net", "hostmaster@nic.ad.jp")
    assert facts.registry_emails == ("hostmaster@nic.ad.jp",)
    assert facts.referral == Referral(registry="JPNIC", country="JP", via="entity")
    assert facts.holder == Holder(name="Kanda Hosting Lab K.K.", country="JP")  # APNIC descr


def test_recorded_afrinic_remark_gives_the_abuse_desk() -> None:
    facts = _parse(_recorded("afrinic-ip-196.11.240.215.json"), "afrinic")
    assert facts.abuse_emails == ()
    assert facts.notice_emails() == ("abuse@mtnbusiness.co.za",)


def test_recorded_jpnic_allocation_names_its_national_registry() -> None:
    facts = _parse(_recorded("apnic-ip-2001_240_10c_1__ca20_9d1d.json"), "apnic")
    assert facts.referral == Referral(registry="JPNIC", country="JP", via="name")
    assert facts.notice_emails() == ("hostmaster@nic.ad.jp",)


def test_krnic_hostmaster_comes_after_the_holders_own_desk() -> None:
    facts = _parse(_recorded("apnic-ip-210.107.73.73.json"), "apnic")
    assert facts.abuse_emails == ("hostmaster@nic.or.kr",)  # the only abuse role: KRNIC's
    ranked = facts.notice_emails()
    assert ranked[-1] == "hostmaster@nic.or.kr"
    assert ranked[:-1] and all(e.endswith("bora.net") for e in ranked[:-1])
    assert facts.referral == Referral(registry="KRNIC", country="KR", via="entity")


def test_a_remark_beats_the_registrys_own_abuse_desk() -> None:
    facts = _parse(_recorded("apnic-ip-1.1.1.1.json"), "apnic")
    ranked = facts.notice_emails()
    assert ranked[0] == "resolver-abuse@cloudflare.com"
    assert set(ranked[1:]) == {"helpdesk@apnic.net", "research@apnic.net"}
    assert facts.referral is None


def test_a_remark_that_does_not_speak_of_abuse_gives_no_contact() -> None:
    # "send email to hostmaster@apnic.net with your organisation account name"
    facts = _parse(_recorded("apnic-ip-61.181.2.38.json"), "apnic")
    assert facts.remark_emails == ()
    assert facts.notice_emails() == ("hqs-ipabuse@chinaunicom.cn",)


def test_fetched_abuse_entities_rank_after_nested_and_before_remarks() -> None:
    body = _network(
        remarks=[{"description": ["Abuse reports: remark@host.test"]}],
        entities=[
            {"roles": ["abuse"], "vcardArray": _vcard(["email", {}, "text", "nested@host.test"])},
            {"roles": ["technical"], "vcardArray": _vcard(["email", {}, "text", "tech@host.test"])},
        ],
    )
    facts = _parse(body)
    fetched = ("fetched@host.test", "hostmaster@nic.or.kr")
    assert facts.notice_emails(fetched) == (
        "nested@host.test",
        "fetched@host.test",
        "remark@host.test",
        "hostmaster@nic.or.kr",
    )
    assert facts.notice_emails() == ("nested@host.test", "remark@host.test")


def test_technical_desks_stand_in_only_where_no_abuse_desk_is_named() -> None:
    body = _network(
        entities=[
            {"roles": ["technical"], "vcardArray": _vcard(["email", {}, "text", "tech@host.test"])},
            {
                "handle": "IRT-TWNIC-AP",
                "roles": ["abuse"],
                "vcardArray": _vcard(["email", {}, "text", "irt@host.test"]),
            },
        ]
    )
    facts = _parse(body)
    assert facts.notice_emails() == ("tech@host.test", "irt@host.test")
    assert facts.referral == Referral(registry="TWNIC", country="TW", via="entity")


def test_referral_from_remarks_and_links() -> None:
    by_remark = _network(remarks=[{"description": ["Queried at whois.nic.ad.jp for assignments."]}])
    assert _parse(by_remark).referral == Referral(registry="JPNIC", country="JP", via="remarks")
    by_link = _network(
        links=[
            {"rel": "related", "href": "https://rdap.twnic.tw/rdap/ip/193.0.22.0"},
            {"rel": "self", "href": "https://rdap.lab.test/ip/193.0.22.0"},
        ]
    )
    assert _parse(by_link).referral == Referral(
        registry="TWNIC", country="TW", via="link", url="https://rdap.twnic.tw/rdap/ip/193.0.22.0"
    )
    assert _parse(_network(name="PLAIN-NET")).referral is None


# -- holder -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "holder"),
    [
        ("arin-ip-13.64.0.0.json", Holder(name="Microsoft Corporation", country="US")),
        # RIPE: the registrant is in Brno while the network is said to be in DE.
        ("lab-extra/ripe-ip-86.54.11.1.json", Holder(name="Whalebone, s.r.o.", country="CZ")),
        # LACNIC: the country is the last component of the address.
        ("lacnic-ip-200.57.141.161.json", Holder(name="Triara.com, S.A. de C.V.", country="MX")),
        # RIPE 2018: maintainers only (skipped); the network's own country.
        ("ripe-ip-130.59.0.0.json", Holder(country="CH")),
        # ARIN gives no network country; no registrant either.
        (
            "arin-ip-108.45.128.208.json",
            Holder(name="MCI Communications Services, Inc. d/b/a Verizon Business", country="US"),
        ),
    ],
)
def test_holder_of_recorded_networks(file: str, holder: Holder) -> None:
    assert _parse(_recorded(file)).holder == holder


def test_holder_prefers_the_organisation_and_the_cc_parameter() -> None:
    body = _network(
        country="DE",
        entities=[
            {
                "handle": "LAB-MNT",
                "roles": ["registrant"],
                "vcardArray": _vcard(["fn", {}, "text", "LAB-MNT"]),
            },
            {
                "roles": ["registrant"],
                "vcardArray": _vcard(
                    ["fn", {}, "text", "A Person"], ["kind", {}, "text", "individual"]
                ),
            },
            {
                "roles": ["registrant"],
                "vcardArray": _vcard(
                    ["fn", {}, "text", "Lab Hosting AG"],
                    ["kind", {}, "text", "org"],
                    ["adr", {"cc": "ch"}, "text", ["", "", "", "", "", "", ""]],
                ),
            },
        ],
    )
    assert _parse(body).holder == Holder(name="Lab Hosting AG", country="CH")
    assert _parse(_network()).holder is None


# -- bounds -----------------------------------------------------------------------------------


def _abuse_card(n: int) -> dict[str, Any]:
    return {
        "handle": f"AB{n}",
        "roles": ["abuse"],
        "vcardArray": _vcard(["email", {}, "text", f"abuse{n}@host.test"]),
    }


def test_ten_thousand_abuse_vcards_give_at_most_five_contacts() -> None:
    body = _network(
        entities=[_abuse_card(n) for n in range(10_000)],
        remarks=[{"description": [f"abuse: r{n}@host.test" for n in range(10_000)]}],
    )
    facts = _parse(body)
    for kind in (facts.abuse_emails, facts.remark_emails, facts.notice_emails()):
        assert len(kind) == MAX_CONTACTS
    assert facts.abuse_emails == tuple(f"abuse{n}@host.test" for n in range(MAX_CONTACTS))
    refs = _parse(
        _network(entities=[{"handle": f"R{n}", "roles": ["abuse"]} for n in range(10_000)])
    )
    assert len(refs.abuse_refs) == MAX_CONTACTS


def test_the_entity_walk_is_bounded() -> None:
    # An abuse contact after ten thousand entities without one is never reached.
    filler = [{"roles": ["technical"]} for _ in range(10_000)]
    facts = _parse(_network(entities=[*filler, _abuse_card(1)]))
    assert facts.abuse_emails == ()
    one_card = {
        "roles": ["abuse"],
        "vcardArray": _vcard(
            *(["note", {}, "text", "x"] for _ in range(10_000)),
            ["email", {}, "text", "late@host.test"],
        ),
    }
    assert _parse(_network(entities=[one_card])).abuse_emails == ()


def test_output_text_is_bounded_and_encodable() -> None:
    body = _network(
        name="N" * 10_000,
        country="\ud800X",
        handle="H\udfff",
        entities=[
            {
                "roles": ["abuse", "registrant"],
                "vcardArray": _vcard(
                    ["fn", {}, "text", "Lone \udc80 Surrogate Ltd"],
                    ["kind", {}, "text", "org"],
                    ["email", {}, "text", "bad\ud800@host.test"],
                    ["email", {}, "text", "x" * 300 + "@host.test"],
                    ["email", {}, "text", "not an address"],
                    ["email", {}, "text", "ok@host.test"],
                ),
            }
        ],
    )
    facts = _parse(body)
    assert facts.network.name is None and facts.network.country is None
    assert facts.network.handle == "193.0.22.0 - 193.0.22.255"
    assert facts.abuse_emails == ("ok@host.test",)
    assert facts.holder is None


def _deep(depth: int) -> list[Any]:
    """A list nested ``depth`` deep, built without recursion (repr of it would recurse)."""
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def test_values_nested_deeper_than_python_can_walk_are_parse_errors_or_ignored() -> None:
    deep = _deep(100_000)
    with pytest.raises(ParseError, match="expected an ip network"):
        parse_network({"objectClassName": deep}, registry=None, source_url=None)
    with pytest.raises(ParseError):
        parse_entity_abuse({"objectClassName": deep})
    with pytest.raises(ParseError):
        parse_registrar({"objectClassName": deep})
    body = _network(
        handle=deep,
        name=deep,
        entities=[{"roles": ["abuse"], "handle": "AB1", "links": [{"rel": deep, "href": "h"}]}],
        remarks=[{"title": deep, "description": deep}],
    )
    facts = _parse(body)
    assert facts.abuse_refs[0].links == ()
    registrar = parse_registrar(
        {
            "objectClassName": "domain",
            "entities": [
                {"roles": ["registrar"], "publicIds": [{"type": "IANA", "identifier": deep}]}
            ],
        }
    )
    assert registrar.iana_id is None
