"""One plan, four drivers: the same inputs give the same verdicts through ``Locator``
and ``AsyncLocator``, looked up live or answered from the sources' caches.

The locator is built with in-memory sources (tests/fakes.py), so the cases are
exact and the test proves the seam: no network, no database file.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hostlocate import AsyncLocator, Locator
from hostlocate.models import (
    AutnumInfo,
    DnsPart,
    GeoFacts,
    IpOwnership,
    Network,
    RegistrarInfo,
    Verdict,
)
from tests.fakes import FakeDns, FakeGeo, FakeOwners

RIPE = "193.0.6.139"
CLOUDFLARE = "104.16.1.1"
V6 = "2001:67c:2e8:22::c100:68b"

INPUTS = [
    "hxxps://www[.]ripe-site[.]nl/a",
    "http://ripe-site.nl/b",
    f"http://{RIPE}/x",
    "https://cf-fronted.com/",
    "http://gone-site.com/",
    "http://abcdefghijklmnop.onion/",
    "",
    "http://[::1]/",
]


def _sources() -> tuple[FakeDns, FakeOwners, FakeGeo]:
    dns = FakeDns(
        {
            ("www.ripe-site.nl", "A"): DnsPart(
                rdtype="A",
                rcode="NOERROR",
                chain=("www.ripe-site.nl", "ripe-site.nl"),
                addresses=(RIPE,),
                min_ttl=300,
            ),
            ("www.ripe-site.nl", "AAAA"): DnsPart(
                rdtype="AAAA", rcode="NOERROR", addresses=(V6,), min_ttl=300
            ),
            ("ripe-site.nl", "A"): DnsPart(
                rdtype="A", rcode="NOERROR", addresses=(RIPE,), min_ttl=300
            ),
            ("ripe-site.nl", "AAAA"): DnsPart(rdtype="AAAA", rcode="NOERROR", min_ttl=300),
            ("cf-fronted.com", "A"): DnsPart(
                rdtype="A", rcode="NOERROR", addresses=(CLOUDFLARE,), min_ttl=300
            ),
            ("cf-fronted.com", "AAAA"): DnsPart(rdtype="AAAA", rcode="NOERROR", min_ttl=300),
        }
    )
    ripe_net = IpOwnership(
        network=Network(cidr="193.0.0.0/21", name="RIPE-NCC", rir="ripe", country="NL"),
        abuse_emails=("abuse@ripe.example",),
    )
    owners = FakeOwners(
        {RIPE: ripe_net, V6: ripe_net},
        {
            "ripe-site.nl": RegistrarInfo(
                domain="ripe-site.nl", name="Registrar BV", abuse_email="abuse@registrar.example"
            )
        },
    )
    geo = FakeGeo(
        {
            RIPE: GeoFacts(country="NL", asn=3333, as_org="RIPE NCC"),
            V6: GeoFacts(country="NL", asn=3333, as_org="RIPE NCC"),
            CLOUDFLARE: GeoFacts(country="US", asn=13335, as_org="Cloudflare"),
        }
    )
    return dns, owners, geo


def _comparable(v: Verdict) -> dict[str, Any]:
    out = v.to_dict()
    out["provenance"].pop("resolved_at")
    out["provenance"].pop("elapsed_ms")
    if out["dns"] is not None:
        out["dns"].pop("queries")
    return out


def _sync(rounds: int) -> list[list[Verdict]]:
    dns, owners, geo = _sources()
    with Locator(dns=dns, owners=owners, geo=geo) as loc:
        out = [[loc.locate(u) for u in INPUTS] for _ in range(rounds)]
        out.append(list(loc.locate_many(INPUTS, concurrency=3)))
    return out


def _async(rounds: int) -> list[list[Verdict]]:
    async def run() -> list[list[Verdict]]:
        dns, owners, geo = _sources()
        async with AsyncLocator(dns=dns, owners=owners, geo=geo) as loc:
            out = [[await loc.locate(u) for u in INPUTS] for _ in range(rounds)]
            out.append([v async for v in loc.locate_many(INPUTS, concurrency=3)])
            return out

    return asyncio.run(run())


def test_live_and_cached_verdicts_agree_through_both_locators() -> None:
    # Round 1 looks up live; round 2 and locate_many answer from caches and kept decisions.
    runs = _sync(2) + _async(2)
    reference = [_comparable(v) for v in runs[0]]
    for run in runs[1:]:
        assert [_comparable(v) for v in run] == reference
    statuses = [v["status"] for v in reference]
    assert statuses == [
        "located",
        "located",
        "located",
        "located",
        "unresolved",
        "not_routable",
        "invalid",
        "not_routable",
    ]


def test_a_locator_runs_on_fake_sources_and_asks_each_thing_once() -> None:
    dns, owners, geo = _sources()
    with Locator(dns=dns, owners=owners, geo=geo) as loc:
        first = loc.locate(INPUTS[0])
        again = loc.locate(INPUTS[0])
    assert first.status == "located" and first.jurisdiction.country == "NL"
    assert first.addresses[0].abuse_emails == ("abuse@ripe.example",)
    assert [c.role for c in first.routing.notice_contacts] == ["hosting", "registrar"]
    assert first.dns is not None and first.dns.queries == 2
    assert again.dns is not None and again.dns.queries == 0
    assert set(dns.asked.values()) == {1}
    assert owners.asked == {RIPE: 1, V6: 1, "ripe-site.nl": 1}
    assert geo.closed and getattr(dns, "closed", False) and getattr(owners, "closed", False)


def test_cloudflare_fronted_site_is_judged_by_the_table_not_the_fake_geo() -> None:
    dns, owners, geo = _sources()
    with Locator(dns=dns, owners=owners, geo=geo) as loc:
        verdict = loc.locate("https://cf-fronted.com/")
    assert "cdn" in verdict.jurisdiction.flags
    assert verdict.addresses[0].provider is not None
    assert verdict.addresses[0].provider.id == "cloudflare"


@pytest.mark.parametrize("bad", [None, 123, b"http://example.com/"])
def test_locate_refuses_what_is_not_text(bad: object) -> None:
    dns, owners, geo = _sources()
    with Locator(dns=dns, owners=owners, geo=geo) as loc:
        with pytest.raises(TypeError, match="must be str"):
            loc.locate(bad)  # type: ignore[arg-type]
        (verdict,) = loc.locate_many([bad])  # type: ignore[list-item]
    assert verdict.status == "invalid" and verdict.error is not None
    assert verdict.error.code == "not_text"


def test_a_network_without_an_abuse_desk_takes_its_origin_ass() -> None:
    dns, _, geo = _sources()
    silent = IpOwnership(network=Network(cidr="193.0.0.0/21", rir="ripe", country="NL"))
    owners = FakeOwners(
        {RIPE: silent, V6: silent},
        autnums={3333: AutnumInfo(asn=3333, abuse_emails=("abuse@as3333.example",))},
    )
    with Locator(dns=dns, owners=owners, geo=geo, registrar=False) as loc:
        first = loc.locate(INPUTS[0])
        again = loc.locate(INPUTS[0])
    assert [(c.role, c.email) for c in first.routing.notice_contacts] == [
        ("hosting", "abuse@as3333.example")
    ]
    assert again.routing == first.routing
    assert owners.asked["AS3333"] == 1  # asked once, for both addresses, then kept
