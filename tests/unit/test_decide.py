"""The jurisdiction rules of docs/jurisdiction.md, one table row each."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hostlocate.decide import Evidence, PlatformHit, behind_cdn, decide_host, decide_special
from hostlocate.models import (
    AddressFacts,
    DNSResult,
    Hotline,
    Network,
    Platform,
    Provider,
    RegistrarInfo,
    ReportedURL,
    Routing,
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
    origin: tuple[AddressFacts, ...] = ()
    platform: PlatformHit | None = None
    redirector: Platform | None = None


GITHUB_PAGES = Platform(
    id="github_pages",
    name="GitHub Pages",
    kind="page_host",
    legal_seat_country="US",
    report_url="https://support.github.com/contact/report-abuse",
    matched_by="psl_private_suffix",
)
IMAGE_HOST = Platform(
    id="pics",
    name="Pics",
    kind="image_host",
    legal_seat_country="NL",
    abuse_email="abuse@pics.example",
    matched_by="domain",
)
BITLY = Platform(
    id="bitly",
    name="Bitly",
    kind="redirector",
    legal_seat_country="US",
    report_url="https://bitly.is/reporting-abuse",
    matched_by="domain",
)

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
        "as many addresses: registry agreement decides, not the alphabet",
        (pub("192.0.2.1", "GB"), pub("192.0.2.2", "NL", net_cc="NL")),
        "located",
        "NL",
        "medium",
        "geoip",
        ("multi_country",),
    ),
    Row(
        "a true tie is left to the analyst",
        (pub("192.0.2.1", "NL"), pub("192.0.2.2", "GB")),
        "located",
        None,
        "none",
        "none",
        ("multi_country", "country_tie"),
    ),
    Row(
        "every address behind a CDN: the origin is hidden",
        (pub(provider=CLOUDFLARE), pub("2606:4700::1", provider=CLOUDFLARE)),
        "located",
        None,
        "none",
        "origin_hidden",
        ("cdn", "origin_hidden"),
    ),
    Row(
        "CDN by CNAME only",
        (pub(provider=None),),
        "located",
        None,
        "none",
        "origin_hidden",
        ("cdn", "origin_hidden"),
        chain_provider=FASTLY,
    ),
    Row(
        "two CDNs in two seats: still hidden",
        (pub(provider=CLOUDFLARE), pub("192.0.2.9", provider=BUNNY)),
        "located",
        None,
        "none",
        "origin_hidden",
        ("cdn", "origin_hidden"),
    ),
    Row(
        "origin disclosed by the CDN decides",
        (pub(provider=CLOUDFLARE),),
        "located",
        "DE",
        "high",
        "origin_disclosed",
        ("cdn",),
        origin=(pub("198.51.100.7", "DE", net_cc="DE"),),
    ),
    Row(
        "disclosed origin registered elsewhere",
        (pub(provider=CLOUDFLARE),),
        "located",
        "DE",
        "medium",
        "origin_disclosed",
        ("cdn", "geo_registry_mismatch"),
        origin=(pub("198.51.100.7", "DE", net_cc="NL"),),
    ),
    Row(
        "hosting provider is not a CDN", (pub(provider=OVH),), "located", "FR", "high", "geoip", ()
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
    Row(
        "platform on front-ends: its legal seat",
        (pub("185.199.108.153", "NL", anycast=True),),
        "located",
        "US",
        "medium",
        "platform_seat",
        ("hosting_platform", "anycast"),
        platform=PlatformHit(GITHUB_PAGES, front_ends=True),
    ),
    Row(
        "platform behind a CDN, nothing said: the addresses tell",
        (pub(provider=CLOUDFLARE),),
        "located",
        "US",
        "medium",
        "platform_seat",
        ("hosting_platform",),
        platform=PlatformHit(GITHUB_PAGES),
    ),
    Row(
        "platform on its own servers: located as any host",
        (pub("192.0.2.5", "DE"),),
        "located",
        "DE",
        "high",
        "geoip",
        ("hosting_platform",),
        platform=PlatformHit(IMAGE_HOST, front_ends=False),
    ),
    Row(
        "redirector: its own hosting, low",
        (pub("67.199.248.10", "US"),),
        "located",
        "US",
        "low",
        "geoip",
        ("redirector",),
        redirector=BITLY,
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

HOTLINES = {
    "FR": (Hotline(id="fr-point-de-contact", country="FR", name="Point de Contact"),),
    "US": (Hotline(id="us-ncmec", country="US", name="NCMEC CyberTipline"),),
    "GB": (Hotline(id="gb-iwf", country="GB", name="IWF"),),
    "NL": (Hotline(id="nl-offlimits", country="NL", name="Offlimits"),),
    "DE": (Hotline(id="de-eco", country="DE", name="eco"),),
}


def _hotlines(cc: str) -> tuple[Hotline, ...]:
    return HOTLINES.get(cc, ())


def _evidence(row: Row) -> Evidence:
    providers = (row.chain_provider,) if row.chain_provider else ()
    return Evidence(
        dns=DNSResult(cname_chain=("h.test",), error=row.dns_error),
        addresses=row.addresses,
        cname_providers=providers,
        origin=row.origin,
        platform=row.platform,
        redirector=row.redirector,
        rdap_enabled=row.rdap,
    )


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_rules(row: Row) -> None:
    d = decide_host(_evidence(row), _hotlines)
    j = d.jurisdiction
    assert d.status == row.status
    assert j.country == row.country
    assert j.confidence == row.confidence
    assert j.basis == row.basis
    assert set(j.flags) == set(row.flags)
    assert (d.error is not None) == (d.status == "unresolved")
    if row.dns_error:
        assert d.error is not None and d.error.code == row.dns_error
    assert j.reasons, "every verdict says why"


def test_multi_country_candidates_are_counted() -> None:
    j = decide_host(
        Evidence(None, (pub("192.0.2.1", "GB"), pub("192.0.2.2", "NL"), pub("192.0.2.3", "NL"))),
        _hotlines,
    ).jurisdiction
    assert [(c.country, c.addresses) for c in j.candidates] == [("NL", 2), ("GB", 1)]
    assert any("NL has the most addresses" in r for r in j.reasons)


def test_reasons_name_their_evidence() -> None:
    located = decide_host(Evidence(None, (pub(net_cc="FR"),)), _hotlines).jurisdiction
    assert located.reasons == ("all 1 address located in FR (GeoIP); registration agrees for 1",)
    mismatch = decide_host(Evidence(None, (pub(net_cc="US"),)), _hotlines).jurisdiction
    assert "192.0.2.1 is located in FR but registered in US" in mismatch.reasons
    hidden = decide_host(Evidence(None, (pub(provider=CLOUDFLARE),)), _hotlines).jurisdiction
    assert any("Cloudflare" in r and "origin" in r for r in hidden.reasons)
    tie = decide_host(
        Evidence(None, (pub("192.0.2.1", "NL"), pub("192.0.2.2", "GB"))), _hotlines
    ).jurisdiction
    assert any("NL, GB tie" in r for r in tie.reasons)


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
    expected = "law_enforcement" if flag == "anonymity_network" else "manual_review"
    assert result.routing.next_step == expected


def test_ordinary_names_and_ip_literals_go_on_to_dns() -> None:
    assert decide_special(_url(None, "example.fr"), lambda cc: ()) is None
    assert decide_special(_url("loopback", "127.0.0.1", is_ip=True), lambda cc: ()) is None


def test_behind_cdn_prefers_the_address_provider() -> None:
    assert behind_cdn(pub(provider=CLOUDFLARE), FASTLY) is CLOUDFLARE
    assert behind_cdn(pub(provider=OVH), None) is None
    assert behind_cdn(pub(provider=OVH), FASTLY) is FASTLY


def _route(
    addresses: tuple[AddressFacts, ...],
    chain: Provider | None = None,
    registrar: RegistrarInfo | None = None,
    **more: object,
) -> Routing:
    ev = Evidence(
        None,
        addresses,
        (chain,) if chain else (),
        registrar=registrar,
        **more,  # type: ignore[arg-type]
    )
    return decide_host(ev, _hotlines).routing


def test_routing_to_the_member_hotline_with_hosting_contact() -> None:
    r = _route((pub(abuse=("abuse@ovh.net",)),))
    assert [(h.id, h.role) for h in r.hotlines] == [("fr-point-de-contact", "hosting_country")]
    assert r.next_step == "forward_to_hotline"
    assert [(c.role, c.email) for c in r.notice_contacts] == [("hosting", "abuse@ovh.net")]


def test_country_without_member_hotline_goes_to_law_enforcement() -> None:
    r = _route((pub(country="CN"),))
    assert r.hotlines == () and r.next_step == "law_enforcement"


def test_no_country_needs_manual_review() -> None:
    assert _route((pub(country=None),)).next_step == "manual_review"


def test_every_candidate_country_gets_its_hotline() -> None:
    r = _route((pub("192.0.2.1", "GB"), pub("192.0.2.2", "NL"), pub("192.0.2.3", "NL")))
    assert [(h.id, h.role) for h in r.hotlines] == [
        ("nl-offlimits", "hosting_country"),
        ("gb-iwf", "candidate_country"),
    ]


def test_origin_hidden_notifies_the_intermediary_first() -> None:
    r = _route((pub(provider=CLOUDFLARE, abuse=("abuse@cloudflare.com",)),))
    assert r.next_step == "notify_intermediary"
    assert [(h.id, h.role) for h in r.hotlines] == [("us-ncmec", "intermediary_seat")]
    first = r.notice_contacts[0]
    assert (first.role, first.url, first.source) == (
        "cdn",
        "https://abuse.cloudflare.com/",
        "provider_table",
    )
    assert ("cdn", "abuse@cloudflare.com") in [(c.role, c.email) for c in r.notice_contacts]


def test_disclosed_origin_keeps_the_intermediary_as_a_contact() -> None:
    r = _route(
        (pub(provider=CLOUDFLARE),),
        origin=(pub("198.51.100.7", "DE", abuse=("abuse@origin-host.example",)),),
    )
    assert r.next_step == "forward_to_hotline"
    assert [h.id for h in r.hotlines] == ["de-eco"]
    roles = [(c.role, c.email or c.url) for c in r.notice_contacts]
    assert roles == [
        ("cdn", "https://abuse.cloudflare.com/"),
        ("hosting", "abuse@origin-host.example"),
    ]


def test_platform_and_redirector_contacts_come_first() -> None:
    r = _route(
        (pub(abuse=("abuse@host.example",)),),
        platform=PlatformHit(IMAGE_HOST, front_ends=False),
        redirector=BITLY,
    )
    assert [c.role for c in r.notice_contacts][:2] == ["platform", "redirector"]
    assert r.next_step == "manual_review"  # the redirect's target is not known


def test_contacts_are_capped_per_role_and_registrar_last() -> None:
    many = tuple(f"abuse{i}@host.example" for i in range(12))
    registrar = RegistrarInfo(domain="x.fr", name="Reg", abuse_email="abuse@registrar.example")
    r = _route((pub(abuse=many), pub("192.0.2.2", abuse=many)), registrar=registrar)
    roles = [c.role for c in r.notice_contacts]
    assert roles == ["hosting"] * 5 + ["registrar"]


def test_onion_goes_to_law_enforcement() -> None:
    d = decide_special(_url("onion"), _hotlines)
    assert d is not None and d.routing.next_step == "law_enforcement"
