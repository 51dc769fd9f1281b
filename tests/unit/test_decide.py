"""The jurisdiction rules of docs/jurisdiction.md, one table row each."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hostlocate.decide import behind_cdn, decide, decide_special, route
from hostlocate.models import (
    AddressFacts,
    DNSResult,
    Hotline,
    Network,
    NoticeContact,
    Provider,
    ReportedURL,
)

CLOUDFLARE = Provider(
    name="Cloudflare",
    kind="reverse_proxy",
    id="cloudflare",
    legal_seat_country="US",
    matched_by="cidr",
    abuse_url="https://abuse.cloudflare.com/",
)
FASTLY = Provider(name="Fastly", kind="cdn", id="fastly", legal_seat_country="US")
BUNNY = Provider(name="BunnyCDN", kind="cdn", id="bunny", legal_seat_country="SI")
OVH = Provider(name="OVHcloud", kind="hosting", id="ovh", legal_seat_country="FR")


def pub(
    ip: str = "192.0.2.1",
    country: str | None = "FR",
    *,
    reg: str | None = None,
    net_cc: str | None = None,
    provider: Provider | None = None,
    anycast: bool = False,
    rdap_error: str | None = None,
    abuse: tuple[str, ...] = (),
) -> AddressFacts:
    return AddressFacts(
        ip=ip,
        version=6 if ":" in ip else 4,
        public=True,
        country=country,
        registered_country=reg,
        network=Network(country=net_cc) if net_cc else None,
        provider=provider,
        anycast=anycast,
        rdap_error=rdap_error,
        abuse_emails=abuse,
    )


def private(ip: str = "10.0.0.1", category: str = "private") -> AddressFacts:
    return AddressFacts(ip=ip, version=4, public=False, category=category)


@dataclass
class Row:
    id: str
    addresses: tuple[AddressFacts, ...]
    status: str
    country: str | None
    confidence: str
    basis: str
    flags: tuple[str, ...]
    chain_provider: Provider | None = None
    dns_error: str | None = None
    rdap: bool = True


ROWS = [
    Row("one address, located", (pub(),), "located", "FR", "high", "geoip", ()),
    Row(
        "two addresses, one country",
        (pub(), pub("192.0.2.2")),
        "located",
        "FR",
        "high",
        "geoip",
        (),
    ),
    Row(
        "registry country where no location",
        (pub(country=None, net_cc="DE"),),
        "located",
        "DE",
        "medium",
        "registry",
        (),
    ),
    Row(
        "geo's registered country as registry fallback",
        (pub(country=None, reg="NL"),),
        "located",
        "NL",
        "medium",
        "registry",
        (),
    ),
    Row(
        "located and registry disagree",
        (pub(net_cc="US"),),
        "located",
        "FR",
        "medium",
        "geoip",
        ("geo_registry_mismatch",),
    ),
    Row(
        "agreeing registry country changes nothing",
        (pub(net_cc="FR", reg="FR"),),
        "located",
        "FR",
        "high",
        "geoip",
        (),
    ),
    Row(
        "several countries: most addresses first",
        (pub("192.0.2.1", "GB"), pub("192.0.2.2", "NL"), pub("192.0.2.3", "NL")),
        "located",
        "NL",
        "medium",
        "geoip",
        ("multi_country",),
    ),
    Row(
        "tie broken alphabetically",
        (pub("192.0.2.1", "NL"), pub("192.0.2.2", "GB")),
        "located",
        "GB",
        "medium",
        "geoip",
        ("multi_country",),
    ),
    Row(
        "every address behind a CDN",
        (pub(provider=CLOUDFLARE), pub("2606:4700::1", provider=CLOUDFLARE)),
        "located",
        "US",
        "low",
        "cdn_operator",
        ("cdn",),
    ),
    Row(
        "CDN by CNAME only",
        (pub(provider=None),),
        "located",
        "US",
        "low",
        "cdn_operator",
        ("cdn",),
        chain_provider=FASTLY,
    ),
    Row(
        "hosting provider is not a CDN", (pub(provider=OVH),), "located", "FR", "high", "geoip", ()
    ),
    Row(
        "two CDNs in two seats, tie broken alphabetically",
        (pub(provider=CLOUDFLARE), pub("192.0.2.9", provider=BUNNY)),
        "located",
        "SI",
        "low",
        "cdn_operator",
        ("cdn", "multi_country"),
    ),
    Row(
        "some addresses behind a CDN",
        (pub(provider=CLOUDFLARE), pub("192.0.2.2", "GB")),
        "located",
        "GB",
        "low",
        "geoip",
        ("partial_cdn",),
    ),
    Row("anycast", (pub(anycast=True),), "located", "FR", "low", "geoip", ("anycast",)),
    Row(
        "only non-public addresses",
        (private(), private("127.0.0.1", "loopback")),
        "not_routable",
        None,
        "none",
        "none",
        ("non_public_address",),
    ),
    Row(
        "public and private mixed",
        (private(), pub()),
        "located",
        "FR",
        "high",
        "geoip",
        ("non_public_address",),
    ),
    Row(
        "RDAP failed",
        (pub(rdap_error="rdap_timeout"),),
        "located",
        "FR",
        "medium",
        "geoip",
        ("rdap_unavailable",),
    ),
    Row(
        "RDAP turned off is not a failure",
        (pub(),),
        "located",
        "FR",
        "high",
        "geoip",
        (),
        rdap=False,
    ),
    Row("no source places the address", (pub(country=None),), "located", None, "none", "none", ()),
    Row("NXDOMAIN", (), "unresolved", None, "none", "none", ("dns_failure",), dns_error="nxdomain"),
    Row(
        "timeout", (), "unresolved", None, "none", "none", ("dns_failure",), dns_error="dns_timeout"
    ),
    Row("no address records", (), "unresolved", None, "none", "none", ("dns_failure",)),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_rules(row: Row) -> None:
    dns = DNSResult(cname_chain=("h.test",), error=row.dns_error)
    status, error, j = decide(
        dns=dns,
        addresses=row.addresses,
        chain_provider=row.chain_provider,
        rdap_enabled=row.rdap,
    )
    assert status == row.status
    assert j.country == row.country
    assert j.confidence == row.confidence
    assert j.basis == row.basis
    assert set(j.flags) == set(row.flags)
    assert (error is not None) == (status == "unresolved")
    if row.dns_error:
        assert error is not None and error.code == row.dns_error
    assert j.reasons or (status == "located" and not j.flags)


def test_multi_country_candidates_are_counted() -> None:
    _, _, j = decide(
        dns=None,
        addresses=(pub("192.0.2.1", "GB"), pub("192.0.2.2", "NL"), pub("192.0.2.3", "NL")),
    )
    assert [(c.country, c.addresses) for c in j.candidates] == [("NL", 2), ("GB", 1)]


def _url(special: str | None, host: str = "x.onion", is_ip: bool = False) -> ReportedURL:
    return ReportedURL(
        input=host,
        normalized=f"http://{host}/",
        scheme="http",
        host=host,
        host_unicode=host,
        port=80,
        registered_domain=None,
        public_suffix=None,
        icann_registered_domain=None,
        icann_public_suffix=None,
        is_ip=is_ip,
        ip_version=4 if is_ip else None,
        special=special,
        defanged=False,
    )


@pytest.mark.parametrize(
    ("special", "flag"),
    [
        ("onion", "anonymity_network"),
        ("i2p", "anonymity_network"),
        ("localhost", "non_public_address"),
        ("reserved_name", "special_use_name"),
    ],
)
def test_special_names_are_not_routable(special: str, flag: str) -> None:
    result = decide_special(_url(special), lambda cc: ())
    assert result is not None
    assert result.status == "not_routable" and result.error is None
    assert flag in result.jurisdiction.flags
    assert result.routing.escalation == "manual_review"


def test_ordinary_names_and_ip_literals_go_on_to_dns() -> None:
    assert decide_special(_url(None, "example.fr"), lambda cc: ()) is None
    assert decide_special(_url("loopback", "127.0.0.1", is_ip=True), lambda cc: ()) is None


def test_behind_cdn_prefers_the_address_provider() -> None:
    assert behind_cdn(pub(provider=CLOUDFLARE), FASTLY) is CLOUDFLARE
    assert behind_cdn(pub(provider=OVH), None) is None
    assert behind_cdn(pub(provider=OVH), FASTLY) is FASTLY


HOTLINES = {"FR": (Hotline(country="FR", name="Point de Contact"),)}


def _route(
    addresses: tuple[AddressFacts, ...],
    chain: Provider | None = None,
    registrar: NoticeContact | None = None,
):  # type: ignore[no-untyped-def]
    status, _, j = decide(dns=None, addresses=addresses, chain_provider=chain)
    return route(
        j,
        status=status,
        addresses=addresses,
        chain_provider=chain,
        hotlines_for=lambda cc: HOTLINES.get(cc, ()),
        registrar=registrar,
    )


def test_routing_to_the_member_hotline_with_hosting_contact() -> None:
    r = _route((pub(abuse=("abuse@ovh.net",)),))
    assert [h.name for h in r.hotlines] == ["Point de Contact"]
    assert r.escalation is None
    assert [(c.role, c.email) for c in r.notice_contacts] == [("hosting", "abuse@ovh.net")]


def test_country_without_member_hotline_escalates_to_inhope() -> None:
    r = _route((pub(country="CN"),))
    assert r.hotlines == () and r.escalation == "inhope"


def test_no_country_needs_manual_review() -> None:
    r = _route((pub(country=None),))
    assert r.escalation == "manual_review"


def test_cdn_contacts_and_registrar() -> None:
    registrar = NoticeContact(role="registrar", email="abuse@registrar.example", source="rdap")
    r = _route((pub(provider=CLOUDFLARE, abuse=("abuse@cloudflare.com",)),), registrar=registrar)
    roles = [(c.role, c.email or c.url) for c in r.notice_contacts]
    assert roles == [
        ("cdn", "abuse@cloudflare.com"),
        ("cdn", "https://abuse.cloudflare.com/"),
        ("registrar", "abuse@registrar.example"),
    ]
