"""IANA bootstrap matching, its cache, and the allow-list that guards redirects.

IANA's real files are read in place from ``<repo>/../shared/data/rdap-bootstrap/``;
the other documents are written here. Fetch failures use a closed loopback
port (a real refused connection); fetching from a live server is covered in
tests/integration/test_rdap_client.py.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from hostlocate.errors import DataError
from hostlocate.sources._rdap_policy import (
    ServicePolicy,
    host_is_private,
    normalised_path,
    split_service,
)
from hostlocate.sources._rdap_registries import registry_for_url
from hostlocate.sources.bootstrap import (
    FALLBACK_SERVICE,
    RIR_SERVICES,
    Bootstrap,
)
from tests._need import absent

IANA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "rdap-bootstrap"


@pytest.fixture(scope="module")
def iana() -> Bootstrap:
    if not (IANA_DIR / "ipv4.json").is_file():
        absent(f"IANA bootstrap files not found at {IANA_DIR}")
    return Bootstrap.from_dir(IANA_DIR)


def _doc(services: list[Any], publication: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    return {"version": "1.0", "publication": publication, "services": services}


def _write_docs(folder: Path, docs: dict[str, dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for kind, doc in docs.items():
        (folder / f"{kind}.json").write_text(json.dumps(doc), encoding="utf-8")
    return folder


SMALL = {
    "ipv4": _doc(
        [
            [["10.0.0.0/8"], ["https://rdap.big.test/", "http://rdap.big.test/"]],
            [["10.20.0.0/16"], ["https://rdap.small.test/rdap"]],
        ]
    ),
    "ipv6": _doc([[["2001:db8::/32"], ["https://rdap.big.test/"]]]),
    "asn": _doc([[["64496-64511", "65536"], ["https://rdap.big.test/"]]]),
    "dns": _doc([[["test", "co.test"], ["https://rdap.names.test/"]]]),
}


# -- IANA's real files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "registry"),
    [
        ("193.0.6.139", "ripe"),
        ("164.132.1.1", "arin"),  # legacy space: ARIN first, it redirects to the RIPE NCC
        ("130.59.31.80", "arin"),
        ("1.1.1.1", "apnic"),
        ("61.181.2.38", "apnic"),
        ("196.216.2.20", "afrinic"),
        ("187.36.192.120", "lacnic"),
        ("104.16.132.229", "arin"),
        ("2001:41d0:2:193d::5", "ripe"),
        ("2606:4700::6810:84e5", "arin"),
        ("2a00:2381:ffff::1", "ripe"),
        ("2801:10:c000::", "lacnic"),
    ],
)
def test_iana_routes_addresses_to_their_registry(
    iana: Bootstrap, address: str, registry: str
) -> None:
    services = iana.service_for_ip(address)
    assert services and services[0].startswith("https://")
    assert {registry_for_url(s) for s in services} == {registry}


@pytest.mark.parametrize("address", ["10.1.2.3", "127.0.0.1", "fe80::1", "0.0.0.1"])
def test_iana_has_no_service_for_special_space(iana: Bootstrap, address: str) -> None:
    assert iana.service_for_ip(address) == []


def test_iana_domains_and_asns(iana: Bootstrap) -> None:
    assert registry_for_url(iana.service_for_domain("www.google.com")[0]) == "verisign"
    assert iana.service_for_domain("EXAMPLE.NET.") == iana.service_for_domain("example.net")
    assert iana.service_for_domain("uk-site.co.uk")  # the uk entry
    assert iana.service_for_domain("hetzner-host.de") == []  # no .de service in 2024
    assert iana.service_for_domain("x.invalid") == []
    assert registry_for_url(iana.service_for_asn(13335)[0]) == "arin"
    assert registry_for_url(iana.service_for_asn(3333)[0]) == "ripe"
    assert iana.service_for_asn(4_294_967_295) == []


def test_iana_publication_dates_and_services(iana: Bootstrap) -> None:
    assert iana.origin == "user"
    assert set(iana.publication) == {"ipv4", "ipv6", "asn", "dns"}
    assert (
        iana.publication["ipv4"] == json.loads((IANA_DIR / "ipv4.json").read_text())["publication"]
    )
    assert {registry_for_url(s) for s in iana.services} >= {
        "arin",
        "ripe",
        "apnic",
        "lacnic",
        "afrinic",
    }


# -- matching rules ---------------------------------------------------------------------------


def test_longest_prefix_wins_and_https_comes_first(tmp_path: Path) -> None:
    boot = Bootstrap.from_dir(_write_docs(tmp_path, SMALL))
    assert boot.service_for_ip("10.20.3.4") == ["https://rdap.small.test/rdap/"]
    assert boot.service_for_ip("10.21.3.4") == ["https://rdap.big.test/", "http://rdap.big.test/"]
    assert boot.service_for_ip("2001:db8:1::1") == ["https://rdap.big.test/"]
    assert boot.service_for_ip("11.0.0.1") == []
    assert boot.service_for_asn(64500) == ["https://rdap.big.test/"]
    assert boot.service_for_asn(65536) == ["https://rdap.big.test/"]
    assert boot.service_for_asn(65537) == []
    assert boot.service_for_domain("a.b.co.test") == ["https://rdap.names.test/"]
    assert "https://rdap.small.test/rdap/" in boot.services


def test_asn_and_dns_files_are_optional(tmp_path: Path) -> None:
    boot = Bootstrap.from_dir(_write_docs(tmp_path, {k: SMALL[k] for k in ("ipv4", "ipv6")}))
    assert boot.service_for_domain("x.test") == []
    assert boot.service_for_ip("10.0.0.1")


def test_fallback_starts_at_arin_and_lists_the_five_rirs() -> None:
    boot = Bootstrap.fallback()
    assert boot.origin == "fallback"
    assert boot.service_for_ip("164.132.1.1") == [FALLBACK_SERVICE]
    assert boot.service_for_ip("2001:db8::1") == [FALLBACK_SERVICE]
    assert boot.service_for_domain("example.com") == []
    assert set(RIR_SERVICES) <= boot.services
    assert {registry_for_url(s) for s in RIR_SERVICES} == {
        "arin",
        "ripe",
        "apnic",
        "lacnic",
        "afrinic",
    }
    policy = ServicePolicy(listed=boot.services)
    for service in RIR_SERVICES:
        assert policy.check(service + "ip/192.0.2.1") is None


# -- from_dir errors name the file --------------------------------------------------------------


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="folder not found") as info:
        Bootstrap.from_dir(tmp_path / "nope")
    assert info.value.path == str(tmp_path / "nope")


def test_missing_required_file(tmp_path: Path) -> None:
    _write_docs(tmp_path, {"ipv4": SMALL["ipv4"]})
    with pytest.raises(DataError, match=r"ipv6\.json") as info:
        Bootstrap.from_dir(tmp_path)
    assert info.value.path == str(tmp_path / "ipv6.json")


@pytest.mark.parametrize(
    "content",
    [
        b'{"services": [[["10.0.0.0/8"], ["https://x.test/"]]',  # truncated
        b"\xff\xfe not json",
        b'{"services": "none"}',
        b'{"services": [["10.0.0.0/8", "https://x.test/"]]}',
        b"[]",
    ],
)
def test_corrupt_file_is_named(tmp_path: Path, content: bytes) -> None:
    _write_docs(tmp_path, SMALL)
    (tmp_path / "ipv4.json").write_bytes(content)
    with pytest.raises(DataError) as info:
        Bootstrap.from_dir(tmp_path)
    assert "ipv4.json" in str(info.value)


def test_bad_prefix_is_reported(tmp_path: Path) -> None:
    docs = dict(SMALL, ipv4=_doc([[["10.0.0.0/33"], ["https://x.test/"]]]))
    with pytest.raises(DataError, match="not valid"):
        Bootstrap.from_dir(_write_docs(tmp_path, docs))


# -- load_or_fetch without a reachable IANA ------------------------------------------------------


def _closed_port_urls() -> dict[str, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return {kind: f"http://127.0.0.1:{port}/{kind}.json" for kind in SMALL}


def _load_or_fetch(cache: Path, **kwargs: Any) -> Bootstrap:
    async def run() -> Bootstrap:
        async with httpx.AsyncClient(trust_env=False) as client:
            return await Bootstrap.load_or_fetch(cache, client, **kwargs)

    return asyncio.run(run())


def _seed_cache(cache: Path, fetched_at: float) -> None:
    _write_docs(cache, SMALL)
    (cache / "bootstrap-meta.json").write_text(json.dumps({"fetched_at": fetched_at}))


def test_fresh_cache_is_used_without_fetching(tmp_path: Path) -> None:
    _seed_cache(tmp_path, time.time() - 3600)
    boot = _load_or_fetch(tmp_path, urls=_closed_port_urls(), max_age_days=1)
    assert boot.origin == "iana-cache"
    assert boot.service_for_ip("10.20.0.1") == ["https://rdap.small.test/rdap/"]
    assert boot.publication["ipv4"] == "2026-01-01T00:00:00Z"


def test_unreachable_iana_and_no_cache_gives_the_fallback(tmp_path: Path) -> None:
    boot = _load_or_fetch(tmp_path, urls=_closed_port_urls(), timeout=2.0)
    assert boot.origin == "fallback"
    meta = json.loads((tmp_path / "bootstrap-meta.json").read_text())
    assert meta["failed_at"] <= time.time()
    assert "error" in meta


def test_a_recent_failure_is_not_retried(tmp_path: Path) -> None:
    (tmp_path / "bootstrap-meta.json").write_text(json.dumps({"failed_at": time.time()}))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        urls = {kind: f"http://127.0.0.1:{port}/{kind}.json" for kind in SMALL}
        boot = _load_or_fetch(tmp_path, urls=urls, timeout=1.0)
        sock.setblocking(False)
        with pytest.raises(BlockingIOError):
            sock.accept()  # nobody connected
    assert boot.origin == "fallback"
    assert (tmp_path / "bootstrap-meta.json").is_file()
    retried = _load_or_fetch(tmp_path, urls=urls, timeout=1.0, retry_failed_after=0.0)
    assert retried.origin == "fallback"


def test_stale_cache_survives_a_failed_refresh(tmp_path: Path) -> None:
    _seed_cache(tmp_path, time.time() - 30 * 86_400)
    boot = _load_or_fetch(tmp_path, urls=_closed_port_urls(), max_age_days=7, timeout=2.0)
    assert boot.origin == "iana-stale"
    assert boot.service_for_ip("10.20.0.1") == ["https://rdap.small.test/rdap/"]


def test_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    _seed_cache(tmp_path, time.time())
    (tmp_path / "dns.json").write_text("{")
    boot = _load_or_fetch(tmp_path, urls=_closed_port_urls(), timeout=2.0)
    assert boot.origin == "fallback"


# -- the allow-list ---------------------------------------------------------------------------


def test_listed_services_must_be_https() -> None:
    policy = ServicePolicy(listed=["https://rdap.a.test/", "http://rdap.b.test/"])
    assert policy.check("https://rdap.a.test/ip/192.0.2.1") is None
    assert policy.check("http://rdap.a.test/ip/192.0.2.1") is not None
    assert policy.check("http://rdap.b.test/ip/192.0.2.1") is not None
    assert policy.check("https://rdap.b.test/ip/192.0.2.1") is not None


def test_configured_services_count_as_given() -> None:
    policy = ServicePolicy(configured=["http://mirror.a.test:8080/rdap/"])
    assert policy.check("http://mirror.a.test:8080/rdap/ip/192.0.2.1") is None
    assert policy.check("http://MIRROR.a.test:8080/rdap/ip/192.0.2.1") is None
    assert policy.check("http://mirror.a.test:8081/rdap/ip/192.0.2.1") is not None
    assert policy.check("http://mirror.a.test:8080/other/ip/192.0.2.1") is not None
    assert policy.check("https://mirror.a.test:8080/rdap/ip/192.0.2.1") is not None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/ip/1.2.3.4",
        "http://10.1.2.3/ip/1.2.3.4",
        "https://[::1]/ip/1.2.3.4",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost/ip/1.2.3.4",
        "https://a.localhost/ip/1.2.3.4",
        "https://100.64.0.1/ip/1.2.3.4",
    ],
)
def test_private_targets_are_refused_unless_allowed(url: str) -> None:
    assert ServicePolicy(configured=[url], allow_private=False).check(url) is not None
    assert ServicePolicy(configured=[url], allow_private=True).check(url) is None
    # Unlisted private targets stay refused even when private targets are allowed.
    assert ServicePolicy(configured=["https://rdap.a.test/"], allow_private=True).check(url)


def test_private_targets_are_allowed_when_the_configured_services_are_private() -> None:
    lab = ServicePolicy(configured=["http://127.0.0.1:8080/ripe/"])
    assert lab.allow_private
    assert lab.check("http://127.0.0.1:8080/ripe/ip/193.0.6.139") is None
    assert lab.check("http://127.0.0.2:8080/ripe/ip/193.0.6.139") is not None
    public = ServicePolicy(listed=["https://127.0.0.1/"], configured=["https://rdap.a.test/"])
    assert not public.allow_private
    assert public.check("https://127.0.0.1/ip/1.2.3.4") is not None


def test_odd_urls_are_refused() -> None:
    policy = ServicePolicy(configured=["https://rdap.a.test/"])
    for url in (
        "https://user:pw@rdap.a.test/ip/1.2.3.4",
        "ftp://rdap.a.test/ip/1.2.3.4",
        "https://rdap.a.test:99999/ip",
        "https:///ip/1.2.3.4",
        "not a url",
    ):
        assert policy.check(url) is not None, url


def test_split_service_and_private_hosts() -> None:
    assert split_service("https://Rdap.A.test") == ("https", "rdap.a.test", 443, "/")
    assert split_service("http://x.test:8080/rdap/ip") == ("http", "x.test", 8080, "/rdap/")
    assert split_service("gopher://x.test/") is None
    assert host_is_private("[fe80::1%eth0]")
    assert host_is_private("LOCALHOST.")
    assert not host_is_private("193.0.6.139")
    assert not host_is_private("rdap.a.test")


def test_the_entry_of_an_address_is_its_longest_matching_prefix() -> None:
    bootstrap = Bootstrap(
        {
            "ipv4": {
                "version": "1.0",
                "services": [
                    [["8.0.0.0/8"], ["https://a.test/"]],
                    [["8.8.0.0/16"], ["https://b.test/"]],
                ],
            }
        },
        origin="user",
    )
    first = int(ipaddress.IPv4Address("8.8.0.0"))
    assert bootstrap.ip_entry(ipaddress.IPv4Address("8.8.8.8")) == (first, first + 65_535)
    assert bootstrap.ip_entry(ipaddress.IPv4Address("8.9.1.1")) == (8 << 24, (9 << 24) - 1)
    assert bootstrap.ip_entry(ipaddress.IPv4Address("9.9.9.9")) is None


@pytest.mark.parametrize(
    ("path", "served"),
    [
        ("/ripe/ip/1.2.3.4", "/ripe/ip/1.2.3.4"),
        ("/ripe/./ip/1.2.3.4", "/ripe/ip/1.2.3.4"),
        ("/ripe/../arin/ip/1", "/arin/ip/1"),
        ("/ripe/%2e%2E/arin/", "/arin/"),
        ("/ripe/.%2e/", "/"),
        ("/a/b/..", "/a/"),
        ("", "/"),
        ("/..", None),
        ("/ripe/../../etc", None),
        ("/ripe/..%2Farin/", None),
        ("/ripe/..%5carin/", None),
        ("/ripe/..\\arin/", None),
    ],
)
def test_paths_are_compared_as_the_server_serves_them(path: str, served: str | None) -> None:
    assert normalised_path(path) == served


def test_a_path_that_climbs_out_of_its_service_is_refused() -> None:
    policy = ServicePolicy(listed=["https://rdap.test/ripe/", "https://rdap.test/arin/"])
    assert policy.check("https://rdap.test/ripe/ip/../ip/1.2.3.4") is None
    assert policy.check("https://rdap.test/ripe/../arin/ip/1.2.3.4") is None  # another service
    assert policy.check("https://rdap.test/ripe/../admin/") is not None
    assert policy.check("https://rdap.test/ripe/%2e%2e/admin/") is not None
    assert policy.check("https://rdap.test/ripe/../../../admin/") is not None


def test_a_failed_fetch_leaves_its_record_in_a_private_folder(tmp_path: Path) -> None:
    # The client's own copy of IANA's files sits with the cache: private, like it.
    cache = tmp_path / "rdap-bootstrap"
    _load_or_fetch(cache, urls=_closed_port_urls(), timeout=2.0)
    assert cache.stat().st_mode & 0o777 == 0o700
    assert (cache / "bootstrap-meta.json").stat().st_mode & 0o777 == 0o600
