"""Provider classification: ranges, then ASN; CNAME suffixes on label boundaries only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hostlocate import _resources
from hostlocate.errors import DataError
from hostlocate.providers import KINDS, ProviderTable
from hostlocate.sources.geo import GeoDatabase


@pytest.fixture(scope="module")
def table() -> ProviderTable:
    return ProviderTable.load()


ADDRESSES = [
    # (address, ASN the caller knows, provider id, matched by)
    ("104.16.0.1", None, "cloudflare", "cidr"),
    ("104.16.0.1", 13335, "cloudflare", "cidr"),
    ("2606:4700::6810:84e5", 13335, "cloudflare", "cidr"),
    ("1.1.1.1", 13335, "cloudflare", "asn"),  # Cloudflare's, but not on its proxy list
    ("185.199.108.153", 54113, "github_pages", "cidr"),  # inside Fastly's ASN
    ("2606:50c0:8002::153", 54113, "github_pages", "cidr"),
    ("151.101.1.195", 54113, "fastly", "asn"),
    ("76.76.21.21", 16509, "vercel", "cidr"),  # inside AWS's ASN
    ("75.2.60.5", 16509, "netlify", "cidr"),
    ("3.3.3.3", 16509, "aws", "asn"),
    ("45.60.1.1", 19551, "imperva", "cidr"),
    ("88.198.1.1", 24940, "hetzner", "asn"),
    ("164.132.1.1", 16276, "ovhcloud", "asn"),
    ("45.33.1.1", 63949, "linode_akamai_cloud", "asn"),
    ("23.32.1.1", 20940, "akamai", "asn"),
]


@pytest.mark.parametrize(
    ("ip", "asn", "pid", "how"), ADDRESSES, ids=[f"{a[0]}-{a[1]}" for a in ADDRESSES]
)
def test_by_address(table: ProviderTable, ip: str, asn: int | None, pid: str, how: str) -> None:
    provider = table.by_address(ip, asn)
    assert provider is not None
    assert (provider.id, provider.matched_by) == (pid, how)


def test_cloudflare_fields(table: ProviderTable) -> None:
    provider = table.by_address("104.16.0.1", None)
    assert provider is not None
    assert provider.name == "Cloudflare"
    assert provider.kind == "reverse_proxy"
    assert provider.legal_seat_country == "US"
    assert provider.abuse_email == "abuse@cloudflare.com"


def test_cloudfront_is_told_apart_from_aws(table: ProviderTable) -> None:
    record = table.get("aws_cloudfront")
    assert record is not None and record.ranges
    first = record.ranges[0].split("/")[0]
    provider = table.by_address(first, 16509)
    assert provider is not None and provider.id == "aws_cloudfront"


@pytest.mark.parametrize(
    ("ip", "asn"), [("192.0.2.1", None), ("8.8.8.9", 64512), ("2001:db8::1", None)]
)
def test_unknown_address(table: ProviderTable, ip: str, asn: int | None) -> None:
    assert table.by_address(ip, asn) is None


def test_bad_address_is_a_value_error(table: ProviderTable) -> None:
    with pytest.raises(ValueError):
        table.by_address("example.com", None)


NAMES = [
    ("foo.cdn.cloudflare.net", "cloudflare"),
    ("cloudflare.net", "cloudflare"),
    ("FOO.CDN.CLOUDFLARE.NET.", "cloudflare"),
    ("d111111abcdef8.cloudfront.net", "aws_cloudfront"),
    ("www.example.com.edgekey.net", "akamai"),
    ("example.azurefd.net", "azure_front_door"),
    ("example.azurewebsites.net", "microsoft_azure"),
    ("user.github.io", "github_pages"),
    ("cname.vercel-dns-0.com", "vercel"),
    ("site.netlify.app", "netlify"),
    ("ghs.googlehosted.com", "google"),
    ("x.b-cdn.net", "bunnycdn"),
    ("example.incapdns.net", "imperva"),
    ("a1.cdn.dnsv1.com", "tencent_cdn"),
]


@pytest.mark.parametrize(("name", "pid"), NAMES, ids=[n[0] for n in NAMES])
def test_by_name(table: ProviderTable, name: str, pid: str) -> None:
    provider = table.by_name(name)
    assert provider is not None
    assert (provider.id, provider.matched_by) == (pid, "cname")


@pytest.mark.parametrize(
    "name",
    [
        "x.notcloudflare.net",
        "cloudflare.net.evil.example",
        "www.google.com",
        "google.",
        "example.com",
        "net",
        "",
        "dnsv1.com",  # only cdn.dnsv1.com is Tencent's CDN
    ],
)
def test_no_substring_matches(table: ProviderTable, name: str) -> None:
    assert table.by_name(name) is None


def test_anycast_only_where_documented(table: ProviderTable) -> None:
    assert table.is_anycast("cloudflare")
    assert table.is_anycast("azure_front_door")
    assert not table.is_anycast("hetzner")
    assert not table.is_anycast("no_such_provider")


RESOLVERS = [
    # (address, ASN the database gives, record)
    ("8.8.8.8", 15169, "google_public_dns"),
    ("8.8.4.4", 15169, "google_public_dns"),
    ("2001:4860:4860::8844", 15169, "google_public_dns"),
    ("9.9.9.9", 19281, "quad9"),
    ("149.112.112.112", 19281, "quad9"),
    ("2620:fe::fe", 19281, "quad9"),
    ("208.67.222.222", 36692, "opendns"),
    ("208.67.220.220", 36692, "opendns"),
    ("94.140.14.14", 212772, "adguard_dns"),
    ("2a10:50c0::ad1:ff", 212772, "adguard_dns"),
]


@pytest.mark.parametrize(("ip", "asn", "pid"), RESOLVERS, ids=[r[0] for r in RESOLVERS])
def test_public_resolvers_are_matched_by_their_published_addresses(
    table: ProviderTable, ip: str, asn: int, pid: str
) -> None:
    provider = table.by_address(ip, asn)
    assert provider is not None
    assert (provider.id, provider.kind, provider.matched_by) == (pid, "public_resolver", "cidr")
    assert table.is_anycast_address(ip, asn)
    assert table.is_anycast(pid)


@pytest.mark.parametrize(
    ("ip", "asn", "anycast"),
    [
        ("1.1.1.1", 13335, True),  # Cloudflare's resolver: its ASN says anycast already
        ("2606:4700:4700::1111", None, True),  # inside Cloudflare's published proxy ranges
        ("104.16.0.1", None, True),
        ("8.8.8.9", 15169, False),  # next to Google's resolver: Google, not documented anycast
        ("9.9.9.12", 19281, False),  # Quad9's network, not a documented service address
        ("88.198.1.1", 24940, False),
        ("192.0.2.1", None, False),
    ],
)
def test_is_anycast_address(table: ProviderTable, ip: str, asn: int | None, anycast: bool) -> None:
    assert table.is_anycast_address(ip, asn) is anycast


def test_every_resolver_record_cites_its_addresses_and_anycast(table: ProviderTable) -> None:
    resolvers = [r for r in table.records if r.kind == "public_resolver"]
    assert {r.id for r in resolvers} >= {"google_public_dns", "quad9", "opendns"}
    for record in resolvers:
        assert record.ranges and record.ranges_ref and record.anycast_ref, record.id
        assert not record.asns, record.id  # the operator's network is not all resolver


def test_reporting_channels_put_the_operators_choice_first(table: ProviderTable) -> None:
    cloudflare = table.channels("cloudflare")
    assert [(c.kind, c.address) for c in cloudflare] == [
        ("form", "https://www.cloudflare.com/abuse/"),
        ("email", "abuse@cloudflare.com"),
    ]
    assert [c.kind for c in table.channels("fastly")] == ["email", "form"]  # its AUP names e-mail
    assert [c.kind for c in table.channels("hetzner")] == ["form"]
    assert table.channels("sucuri") == ()
    assert table.channels("no_such_provider") == ()
    for record in table.records:
        if record.abuse_preferred is not None:
            assert record.abuse_ref, record.id
            first = table.channels(record.id)[0]
            assert first.kind == record.abuse_preferred, record.id


def test_ddos_guard_seat_is_russia_with_its_sources(table: ProviderTable) -> None:
    record = table.get("ddos_guard")
    assert record is not None
    assert record.legal_seat_country == "RU"
    assert set(record.legal_seat_ref) == {"ddos-guard-wiki", "meduza-ddos-guard"}
    provider = table.by_address("185.178.208.1", 57724)
    assert provider is not None and provider.legal_seat_country == "RU"


REQUIRED = {
    "cloudflare", "akamai", "fastly", "aws_cloudfront", "aws", "google", "microsoft_azure",
    "azure_front_door", "imperva", "sucuri", "gcore", "cdn77", "bunnycdn", "stackpath",
    "ddos_guard", "ovhcloud", "hetzner", "digitalocean", "linode_akamai_cloud", "vultr",
    "oracle_cloud", "vercel", "netlify", "github_pages", "alibaba_cloud", "tencent_cloud",
}  # fmt: skip


def test_table_covers_the_providers_that_matter(table: ProviderTable) -> None:
    assert {record.id for record in table.records} >= REQUIRED


def test_every_record_can_match_and_cites_its_facts(table: ProviderTable) -> None:
    for record in table.records:
        assert record.kind in KINDS
        assert record.asns or record.ranges or record.cname_suffixes, record.id
        assert not record.asns or record.asns_ref, record.id
        assert not record.ranges or (record.ranges_ref and record.ranges_date), record.id
        assert not record.cname_suffixes or record.cname_ref, record.id
        assert not (record.abuse_email or record.abuse_url) or record.abuse_ref, record.id
        assert record.anycast is not True or record.anycast_ref, record.id
        assert record.legal_seat_country is None or record.legal_seat_ref, record.id
        for suffix in record.cname_suffixes:
            assert "." in suffix and suffix == suffix.lower().strip("."), suffix


def test_bundled_asn_database_feeds_the_asn_match(table: ProviderTable) -> None:
    """The ASN the bundled database gives is one the table knows."""
    with GeoDatabase() as geo:
        for ip, pid in [
            ("1.1.1.1", "cloudflare"),
            ("88.198.1.1", "hetzner"),
            ("51.38.1.1", "ovhcloud"),
        ]:
            provider = table.by_address(ip, geo.lookup(ip).asn)
            assert provider is not None and provider.id == pid, ip


def test_source_info(table: ProviderTable) -> None:
    assert table.source_info() == _resources.source_info("providers")
    assert table.source_info().origin == "bundled"


def _table_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_resources.data_path("providers.json").read_text("utf-8"))
    return data


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "providers.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_user_table_is_loaded_with_path_origin(tmp_path: Path) -> None:
    loaded = ProviderTable.load(_write(tmp_path, _table_json()))
    assert loaded.source_info().origin == "path"
    assert loaded.source_info().build_date == _table_json()["updated"]
    provider = loaded.by_address("104.16.0.1", None)
    assert provider is not None and provider.id == "cloudflare"


def _broken(tmp_path: Path, change: str) -> Path:
    data = _table_json()
    providers = data["providers"]
    if change == "unknown_ref":
        providers[0]["asns_ref"] = ["no-such-reference"]
    elif change == "duplicate_asn":
        providers[1]["asns"] = [*providers[1]["asns"], providers[0]["asns"][0]]
    elif change == "duplicate_suffix":
        providers[1]["cname_suffixes"] = [providers[0]["cname_suffixes"][0]]
    elif change == "overlap":
        providers[1]["ranges"] = [providers[0]["ranges"][0]]
    elif change == "bad_kind":
        providers[0]["kind"] = "isp"
    elif change == "bad_cidr":
        providers[0]["ranges"] = ["104.16.0.1/13"]
    elif change == "duplicate_id":
        providers[1]["id"] = providers[0]["id"]
    elif change == "bad_preferred":
        providers[0]["abuse_preferred"] = "fax"
    elif change == "preferred_missing":
        providers[0]["abuse_preferred"] = "email"
        providers[0]["abuse_email"] = None
    elif change == "not_json":
        path = tmp_path / "providers.json"
        path.write_text("{", encoding="utf-8")
        return path
    return _write(tmp_path, data)


@pytest.mark.parametrize(
    "change",
    [
        "unknown_ref",
        "duplicate_asn",
        "duplicate_suffix",
        "overlap",
        "bad_kind",
        "bad_cidr",
        "duplicate_id",
        "bad_preferred",
        "preferred_missing",
        "not_json",
    ],
)
def test_inconsistent_table_is_refused(tmp_path: Path, change: str) -> None:
    with pytest.raises(DataError):
        ProviderTable.load(_broken(tmp_path, change))


def test_missing_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"absent\.json"):
        ProviderTable.load(tmp_path / "absent.json")
