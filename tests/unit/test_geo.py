"""GeoDatabase on the bundled DB-IP/ASN files and on GeoLite2-layout files built here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hostlocate import _resources
from hostlocate.errors import DataError
from hostlocate.models import GeoFacts
from hostlocate.sources import geo
from hostlocate.sources.geo import GeoDatabase
from tests._need import mmdb_writer


def _writer() -> ModuleType:
    """mmdb-writer builds the small test databases; CI must have it."""
    return mmdb_writer()


def _build(path: Path, database_type: str, rows: list[tuple[str, dict[str, Any]]]) -> Path:
    mmdb_writer = _writer()
    from netaddr import IPSet

    writer = mmdb_writer.MMDBWriter(
        ip_version=6, ipv4_compatible=True, database_type=database_type, int_type="u32"
    )
    for cidr, record in rows:
        writer.insert_network(IPSet([cidr]), record)
    writer.to_db_file(str(path))
    return path


@pytest.fixture(scope="module")
def bundled() -> Iterator[GeoDatabase]:
    with GeoDatabase() as db:
        yield db


# (address, DB-IP country, ASN, AS organisation) from the bundled files.
KNOWN = [
    ("193.0.6.139", "NL", 3333, "Reseaux IP Europeens Network Coordination Centre (RIPE NCC)"),
    ("88.198.1.1", "DE", 24940, "Hetzner Online GmbH"),
    ("2001:41d0:2:193d::5", "FR", 16276, "OVH SAS"),
    ("210.107.73.73", "KR", 3786, "LG DACOM Corporation"),
    ("104.16.132.229", "CA", 13335, "Cloudflare, Inc."),
    ("2606:4700::6810:84e5", "CA", 13335, "Cloudflare, Inc."),
    ("3.3.3.3", "US", 16509, "Amazon.com, Inc."),
]


@pytest.mark.parametrize(("ip", "country", "asn", "org"), KNOWN, ids=[k[0] for k in KNOWN])
def test_bundled_flat_databases(
    bundled: GeoDatabase, ip: str, country: str, asn: int, org: str
) -> None:
    assert bundled.lookup(ip) == GeoFacts(
        country=country, registered_country=None, anycast=False, asn=asn, as_org=org
    )


def test_unrouted_address_gives_nothing(bundled: GeoDatabase) -> None:
    assert bundled.lookup("10.1.2.3") == GeoFacts()
    assert bundled.lookup("::1") == GeoFacts()


def test_bad_address_is_a_value_error(bundled: GeoDatabase) -> None:
    with pytest.raises(ValueError):
        bundled.lookup("not-an-ip")


def test_bundled_sources_come_from_the_manifest(bundled: GeoDatabase) -> None:
    sources = bundled.sources()
    assert set(sources) == {"geoip_country", "geoip_asn"}
    assert sources["geoip_country"] == _resources.source_info("geoip_country")
    assert sources["geoip_asn"].build_date == "2026-06-17T19:00:00Z"
    assert sources["geoip_asn"].origin == "bundled"


def test_c_extension_does_the_lookups(bundled: GeoDatabase) -> None:
    assert bundled.accelerated and geo.ACCELERATED


GEOLITE_COUNTRY = [
    (
        "81.2.69.0/24",
        {
            "country": {"iso_code": "GB"},
            "registered_country": {"iso_code": "SE"},
            "continent": {"code": "EU"},
        },
    ),
    (
        "2001:db8:1::/48",
        {"country": {"iso_code": "de"}, "registered_country": {"iso_code": "DE"}},
    ),
    (
        "198.51.100.0/24",
        {"registered_country": {"iso_code": "US"}, "traits": {"is_anycast": True}},
    ),
]
GEOLITE_ASN = [
    ("81.2.69.0/24", {"autonomous_system_number": 64500, "autonomous_system_organization": "X"}),
    ("198.51.100.0/24", {"autonomous_system_number": 64501}),
]


@pytest.fixture
def geolite(tmp_path: Path) -> tuple[Path, Path]:
    country = _build(tmp_path / "GeoLite2-Country.mmdb", "GeoLite2-Country", GEOLITE_COUNTRY)
    asn = _build(tmp_path / "GeoLite2-ASN.mmdb", "GeoLite2-ASN", GEOLITE_ASN)
    return country, asn


def test_geolite2_layout(geolite: tuple[Path, Path]) -> None:
    country, asn = geolite
    with GeoDatabase(country, asn) as db:
        assert db.lookup("81.2.69.160") == GeoFacts("GB", "SE", False, 64500, "X")
        assert db.lookup("2001:db8:1::5") == GeoFacts("DE", "DE", False, None, None)
        assert db.lookup("198.51.100.7") == GeoFacts(None, "US", True, 64501, None)
        assert db.lookup("192.0.2.1") == GeoFacts()
        sources = db.sources()
    assert sources["geoip_country"].origin == "path"
    assert sources["geoip_country"].name == "GeoLite2-Country (GeoLite2-Country.mmdb)"
    assert sources["geoip_asn"].build_date is not None
    assert sources["geoip_asn"].build_date[:2] == "20"


def test_user_flat_country_with_bundled_asn(tmp_path: Path) -> None:
    flat = _build(
        tmp_path / "flat.mmdb", "country ipvAll", [("81.2.69.0/24", {"country_code": "GB"})]
    )
    with GeoDatabase(country_path=str(flat)) as db:
        facts = db.lookup("81.2.69.160")
        assert facts.country == "GB" and facts.registered_country is None
        assert facts.asn is not None  # from the bundled ASN database
        assert db.sources()["geoip_asn"].origin == "bundled"


def test_ipv4_only_database_answers_nothing_for_ipv6(tmp_path: Path) -> None:
    mmdb_writer = _writer()
    from netaddr import IPSet

    writer = mmdb_writer.MMDBWriter(ip_version=4, database_type="country ipv4")
    writer.insert_network(IPSet(["81.2.69.0/24"]), {"country_code": "GB"})
    writer.to_db_file(str(tmp_path / "v4.mmdb"))
    with GeoDatabase(tmp_path / "v4.mmdb") as db:
        assert db.lookup("81.2.69.1").country == "GB"
        assert db.lookup("2001:41d0:2:193d::5").country is None


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found") as info:
        GeoDatabase(tmp_path / "absent.mmdb")
    assert info.value.path == str(tmp_path / "absent.mmdb")


def test_truncated_copy_is_refused(tmp_path: Path) -> None:
    source = _resources.data_path("geo/dbip-country.mmdb").read_bytes()
    cut = tmp_path / "truncated.mmdb"
    cut.write_bytes(source[: len(source) // 2])
    with pytest.raises(DataError, match=r"truncated\.mmdb") as info:
        GeoDatabase(cut)
    assert info.value.path == str(cut)


@pytest.mark.parametrize("content", [b"", b"garbage" * 1000], ids=["empty", "garbage"])
def test_garbage_is_refused(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.mmdb"
    bad.write_bytes(content)
    with pytest.raises(DataError, match=r"bad\.mmdb"):
        GeoDatabase(asn_path=bad)


def test_asn_database_is_not_a_country_database() -> None:
    asn = _resources.data_path("geo/asn.mmdb")
    with pytest.raises(DataError, match="neither"):
        GeoDatabase(country_path=asn)


def test_country_database_is_not_an_asn_database() -> None:
    country = _resources.data_path("geo/dbip-country.mmdb")
    with pytest.raises(DataError, match="autonomous_system_number"):
        GeoDatabase(asn_path=country)


def test_other_layout_is_refused(tmp_path: Path) -> None:
    odd = _build(tmp_path / "odd.mmdb", "Odd", [("81.2.69.0/24", {"city": "London"})])
    with pytest.raises(DataError, match=r"odd\.mmdb"):
        GeoDatabase(country_path=odd)


def test_a_database_with_an_absurd_build_date_still_opens(geolite: tuple[Path, Path]) -> None:
    """A build epoch of 2**64-1 is no date: the file is described without one."""
    from tests.datalab.files import with_build_epoch

    country, asn = geolite
    country.write_bytes(with_build_epoch(country.read_bytes(), 2**64 - 1))
    with GeoDatabase(country, asn) as db:
        assert db.lookup("81.2.69.160").country == "GB"
        assert db.sources()["geoip_country"].build_date is None


def test_geolite2_files_are_read_without_geoip2(geolite: tuple[Path, Path]) -> None:
    """geoip2 is not a dependency (docs/data.md says why): maxminddb reads both layouts."""
    import subprocess
    import sys

    country, asn = geolite
    script = (
        "import sys; sys.modules['geoip2'] = None; "  # any import of geoip2 now fails
        "from hostlocate.sources.geo import GeoDatabase; "
        f"db = GeoDatabase({str(country)!r}, {str(asn)!r}); "
        "print(db.lookup('198.51.100.7'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert "registered_country='US'" in done.stdout and "anycast=True" in done.stdout
