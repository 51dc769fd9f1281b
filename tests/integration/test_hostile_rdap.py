"""Hostile RDAP, end to end through the Locator: bounded, and reported in the verdict.

A registry service may send a body too large to hold, bytes that are not
JSON, HTML, errors, endless redirects, redirects to places that are not
registry services, or a body one byte at a time. Each fault is set on the
RDAP lab (tests/rdaplab) and the URL is located by a fresh ``Locator`` on
the DNS lab: the verdict still places the host (GeoIP decides), carries the
``rdap_unavailable`` flag and the address's ``rdap_error`` code, and comes
back within the locator's budget plus a small margin. The client-level
details (retries, counts) are in tests/integration/test_rdap_client.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from hostlocate import Locator, Verdict
from hostlocate.models import IpOwnership
from hostlocate.sources._rdap_cache import MemoryRdapCache
from hostlocate.sources._rdap_policy import ServicePolicy
from hostlocate.sources.base import RdapCache
from hostlocate.sources.bootstrap import FALLBACK_SERVICE, RIR_SERVICES, Bootstrap
from hostlocate.sources.rdap import RdapClient
from hostlocate.store import SqliteStore
from tests.integration._budget import timed_verdict
from tests.netlab import DnsLab
from tests.rdaplab import RdapLab

pytestmark = pytest.mark.integration


def locate(dns_lab: DnsLab, rdap_lab: RdapLab, url: str, **options: Any) -> tuple[Verdict, float]:
    """One verdict from a fresh locator on the DNS lab, within its budget."""
    return timed_verdict([dns_lab.resolver], rdap_lab, url, **options)


def assert_rdap_failed(v: Verdict, country: str, code: str) -> None:
    """Located all the same, flagged, and the address says which RDAP fault it met."""
    assert (v.status, v.error, v.jurisdiction.country) == ("located", None, country), v.to_json()
    assert "rdap_unavailable" in v.jurisdiction.flags
    assert v.jurisdiction.confidence != "high"
    public = [a for a in v.addresses if a.public]
    assert public and {a.rdap_error for a in public} == {code}, v.to_json()
    assert all(a.network is None and a.abuse_emails == () for a in public)
    assert not [c for c in v.routing.notice_contacts if c.role == "hosting" and c.source == "rdap"]


# -- bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("declare_length", [True, False], ids=["declared", "streamed"])
def test_oversized_body(dns_lab: DnsLab, lab: RdapLab, declare_length: bool) -> None:
    """3 MB against the default cap of 1,000,000 bytes: refused, declared or not."""
    lab.oversized("ripe", size=3_000_000, declare_length=declare_length, times=None)
    v, _ = locate(dns_lab, lab, "http://130.59.31.80/")
    assert_rdap_failed(v, "CH", "rdap_too_large")
    assert lab.counts()["ripe"] == 1  # legacy space: ARIN redirects there first


def test_invalid_json(dns_lab: DnsLab, lab: RdapLab) -> None:
    lab.malformed_json("lacnic", times=None)
    v, _ = locate(dns_lab, lab, "https://www.mx-site.com/x")
    assert_rdap_failed(v, "MX", "rdap_bad_response")


def test_wrong_content_type(dns_lab: DnsLab, lab: RdapLab) -> None:
    lab.wrong_content_type("afrinic", times=None)
    v, _ = locate(dns_lab, lab, "www.za-site.com")
    assert_rdap_failed(v, "ZA", "rdap_bad_response")


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors(dns_lab: DnsLab, lab: RdapLab, status: int) -> None:
    lab.server_error("apnic", times=None, status=status)
    v, _ = locate(dns_lab, lab, "www.kr-site.com")
    assert_rdap_failed(v, "KR", "rdap_http_error")
    assert lab.counts()["apnic"] == 2  # one retry, no more


def test_rate_limited_with_a_long_retry_after(dns_lab: DnsLab, lab: RdapLab) -> None:
    """A registry asking for a 30 s pause does not hold a 3 s look-up."""
    lab.rate_limit("ripe", times=None, retry_after="30")
    v, _ = locate(dns_lab, lab, "http://193.0.6.139/", timeout=3.0)
    assert_rdap_failed(v, "NL", "rdap_rate_limited")
    assert lab.counts() == {"ripe": 1}


@pytest.mark.parametrize(
    "retry_after",
    ["1e400", "inf", "nan", "9" * 400, "Fri, 31 Dec 9999 23:59:59 GMT", "-1"],
    ids=["1e400", "inf", "nan", "huge-integer", "year-9999", "negative"],
)
def test_an_absurd_retry_after_pauses_the_registry_only_briefly(
    lab: RdapLab, retry_after: str
) -> None:
    """#12 item 5: the pause is bounded by max_retry_wait; the registry is asked again."""
    lab.rate_limit("ripe", times=1, retry_after=retry_after)

    async def main() -> list[IpOwnership]:
        async with RdapClient(
            bootstrap_dir=lab.bootstrap_dir, rate_limits={"*": math.inf}, max_retry_wait=0.2
        ) as client:
            first = await client.lookup_ip("193.0.6.139", deadline=time.monotonic() + 5)
            await asyncio.sleep(0.25)
            second = await client.lookup_ip("2a00:2381:ffff::1", deadline=time.monotonic() + 5)
            return [first, second]

    first, second = asyncio.run(main())
    assert first.error in (None, "rdap_rate_limited")
    assert second.error is None and second.requests == 1
    assert lab.counts()["ripe"] == first.requests + 1


def test_the_longest_retry_wait_must_be_finite() -> None:
    for wait in (math.inf, math.nan, -1.0):
        with pytest.raises(ValueError, match="max_retry_wait"):
            RdapClient(max_retry_wait=wait)


# -- redirects ---------------------------------------------------------------------------------


def test_redirect_loop(dns_lab: DnsLab, lab: RdapLab) -> None:
    lab.redirect_loop("arin", "ripe")
    v, _ = locate(dns_lab, lab, "hxxp://www.ovh-site[.]fr/")
    assert_rdap_failed(v, "FR", "rdap_too_many_redirects")
    assert lab.counts()["arin"] == 1 and lab.counts()["ripe"] == 1


def test_redirects_beyond_the_limit(dns_lab: DnsLab, lab: RdapLab) -> None:
    """The default allows 3 redirects; a fourth is not followed."""
    for hop in range(4):
        lab.redirect("ripe", "{base}/ripe/{rest}?hop=" + str(hop))
    v, _ = locate(dns_lab, lab, "http://193.0.6.139/")
    assert_rdap_failed(v, "NL", "rdap_too_many_redirects")
    assert lab.counts() == {"ripe": 4}


@pytest.mark.parametrize(
    "location",
    [
        "https://rdap.elsewhere.test/ip/193.0.6.139",  # a public host no bootstrap lists
        "http://10.1.2.3/ip/193.0.6.139",  # a private address
        "http://127.0.0.2:{port}/ripe/{rest}",  # loopback, but not a configured service
        "http://[::1]:{port}/ripe/{rest}",  # IPv6 loopback
        "http://localhost:{port}/ripe/{rest}",  # a loopback name
        "http://user:pw@127.0.0.1:{port}/ripe/{rest}",  # credentials
        "{base}/unlisted/{rest}",  # the service host, outside every service path
        "file:///etc/passwd",  # not HTTP at all
    ],
    ids=[
        "unlisted",
        "private",
        "loopback",
        "v6-loopback",
        "localhost",
        "credentials",
        "path",
        "file",
    ],
)
def test_redirect_to_a_place_that_is_not_a_registry_service(
    dns_lab: DnsLab, lab: RdapLab, location: str
) -> None:
    port = lab.base_url.rsplit(":", 1)[1]
    lab.redirect("ripe", location.replace("{port}", port), times=None)
    v, _ = locate(dns_lab, lab, "http://193.0.6.139/")
    assert_rdap_failed(v, "NL", "rdap_redirect_refused")
    assert lab.counts() == {"ripe": 1}  # nothing fetched after the refused redirect


@pytest.mark.parametrize(
    "location",
    [
        "{base}/ripe/../unlisted/{rest}",
        "{base}/ripe/ip/../../unlisted/{rest}",
        "{base}/ripe/./.././unlisted/{rest}",
        "{base}/ripe/%2e%2e/unlisted/{rest}",
        "{base}/ripe/%2E%2e/unlisted/{rest}",
        "{base}/ripe/.%2E/unlisted/{rest}",
        "{base}/ripe/..%2Funlisted/{rest}",
        "{base}/ripe/..%5cunlisted/{rest}",
        "{base}/ripe/../../../../{rest}",
    ],
)
def test_a_redirect_that_climbs_out_of_its_service_is_refused(lab: RdapLab, location: str) -> None:
    """#12 item 3: the prefix check compares the path the server would serve."""
    lab.redirect("ripe", location, times=None)

    async def main() -> IpOwnership:
        async with RdapClient(
            bootstrap_dir=lab.bootstrap_dir, rate_limits={"*": math.inf}
        ) as client:
            return await client.lookup_ip("193.0.6.139")

    result = asyncio.run(main())
    assert result.error == "rdap_redirect_refused", result
    assert lab.counts() == {"ripe": 1}  # nothing fetched outside the service


def test_a_redirect_with_harmless_dot_segments_is_followed(lab: RdapLab) -> None:
    """A path that stays inside a service is followed, as the normalised URL."""
    lab.redirect("arin", "{base}/arin/./ip/%2E%2e/../ripe/{rest}", times=1)

    async def main() -> IpOwnership:
        async with RdapClient(
            bootstrap_dir=lab.bootstrap_dir, rate_limits={"*": math.inf}
        ) as client:
            return await client.lookup_ip("164.132.1.1")  # arin's space, held by ripe

    result = asyncio.run(main())
    assert result.error is None and result.network is not None
    assert result.network.source_url == lab.service("ripe") + "ip/164.132.1.1"
    assert lab.path_counts() == {"/arin/ip/164.132.1.1": 1, "/ripe/ip/164.132.1.1": 1}


def test_private_services_are_not_asked_when_private_targets_are_off(
    dns_lab: DnsLab, lab: RdapLab
) -> None:
    """Production mode: even a configured service on loopback gets no request."""
    v, _ = locate(dns_lab, lab, "www.ch-site.com", rdap_options={"allow_private_targets": False})
    assert_rdap_failed(v, "CH", "rdap_no_service")
    assert lab.total() == 0


# -- the rule for services on public addresses (no request is made) ---------------------------


def test_public_services_never_lead_to_private_targets() -> None:
    """With IANA's services (public, https) private targets are off: nothing else is reached."""
    iana_like = ServicePolicy(
        listed=["https://rdap.db.ripe.net/", "https://rdap.arin.net/registry/"]
    )
    assert iana_like.allow_private is False
    assert iana_like.check("https://rdap.db.ripe.net/ip/193.0.6.139") is None
    refused = [
        "http://rdap.db.ripe.net/ip/193.0.6.139",  # IANA's http:// is not trusted
        "https://rdap.db.ripe.net.evil.test/ip/1.1.1.1",
        "https://127.0.0.1/ip/1.1.1.1",
        "https://10.0.0.1/ip/1.1.1.1",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/ip/1.1.1.1",
        "https://[fd00::1]/ip/1.1.1.1",
        "https://localhost/ip/1.1.1.1",
        "https://rdap.arin.net/elsewhere/",  # the right host, outside the service path
        "https://user@rdap.db.ripe.net/ip/1.1.1.1",
    ]
    assert [url for url in refused if iana_like.check(url) is None] == []


def test_the_fallback_bootstrap_allows_only_the_five_registries() -> None:
    fallback = Bootstrap.fallback()
    assert fallback.service_for_ip("164.132.1.1") == [FALLBACK_SERVICE]
    policy = ServicePolicy(listed=fallback.services)
    assert policy.allow_private is False
    assert all(policy.check(service + "ip/1.1.1.1") is None for service in RIR_SERVICES)
    assert policy.check("https://rdap.example.net/ip/1.1.1.1") is not None


# -- slow answers --------------------------------------------------------------------------------


def test_slow_body_is_cut_at_the_budget(dns_lab: DnsLab, lab: RdapLab) -> None:
    lab.slow_body("ripe", seconds=6, times=None)
    v, _ = locate(dns_lab, lab, "www.ch-site.com", timeout=1.5)
    assert_rdap_failed(v, "CH", "rdap_timeout")


def test_a_registry_slower_than_the_budget(dns_lab: DnsLab, lab: RdapLab) -> None:
    lab.latency("apnic", 3.0)
    v, _ = locate(dns_lab, lab, "http://61.181.2.38/", timeout=1.5)
    assert_rdap_failed(v, "CN", "rdap_timeout")


def test_a_slow_registrar_service_does_not_hold_the_verdict(dns_lab: DnsLab, lab: RdapLab) -> None:
    """The domain's registry trickles its body: no registrar contact, the rest stands."""
    lab.slow_body("verisign", seconds=6, times=None)
    v, _ = locate(dns_lab, lab, "www.ch-site.com", timeout=1.5)
    assert (v.status, v.jurisdiction.country) == ("located", "CH")
    assert v.addresses[0].rdap_error is None and v.addresses[0].network is not None
    assert not [c for c in v.routing.notice_contacts if c.role == "registrar"]


def test_every_address_of_a_host_fails_alike(dns_lab: DnsLab, lab: RdapLab) -> None:
    lab.malformed_json("ripe", times=None)
    v, _ = locate(dns_lab, lab, "rr.multi-host.com")
    assert_rdap_failed(v, "GB", "rdap_bad_response")
    assert "multi_country" in v.jurisdiction.flags
    assert len(v.addresses) == 2


def _lookups(lab: RdapLab, cache: RdapCache, ips: list[str]) -> list[IpOwnership]:
    async def main() -> list[IpOwnership]:
        async with RdapClient(
            bootstrap_dir=lab.bootstrap_dir, rate_limits={"*": math.inf}, cache=cache
        ) as client:
            return [await client.lookup_ip(ip) for ip in ips]

    return asyncio.run(main())


@pytest.mark.parametrize("where", ["memory", "sqlite"])
def test_a_service_claiming_every_address_answers_only_its_own(
    rdap_lab: RdapLab, tmp_path: Path, where: str
) -> None:
    """#12 item 2: a range wider than the service's bootstrap entry is kept clipped to
    it, and never answers an address the bootstrap gives to another service."""
    memory = MemoryRdapCache()

    def cache() -> RdapCache:  # SQLite: a new store each time, as a new process opens it
        return SqliteStore(tmp_path / "cache.sqlite3") if where == "sqlite" else memory

    rdap_lab.reset()
    rdap_lab.claim_network("arin", "0.0.0.0", "255.255.255.255", times=1)
    hostile, same_entry, other_service = _lookups(
        rdap_lab, cache(), ["8.8.8.8", "8.8.4.4", "193.0.6.139"]
    )
    assert hostile.network is not None and hostile.network.name == "HOSTILE-EVERYTHING"
    assert same_entry.from_cache and same_entry.network == hostile.network  # in 8.0.0.0/8
    assert other_service.network is not None and other_service.network.cidr == "193.0.0.0/21"
    assert rdap_lab.counts() == {"arin": 1, "ripe": 1}
    rdap_lab.reset()
    later = _lookups(rdap_lab, cache(), ["8.8.1.1", "193.0.6.1", "9.9.9.9"])
    assert later[0].from_cache and later[1].from_cache
    assert not later[2].from_cache  # arin's too, but another bootstrap entry: asked
    assert rdap_lab.counts() == {"arin": 1}


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends


_OFFLINE_ADDRESSES = [f"{8 + n % 2}.{n // 256 % 256}.{n % 256}.1" for n in range(3000)]


def _bootstrap_at_a_closed_port(folder: Path) -> None:
    """A bootstrap folder whose two registries listen on a port nobody opens."""
    base = f"http://127.0.0.1:{_closed_port()}"
    services = [[["8.0.0.0/8"], [f"{base}/arin/"]], [["9.0.0.0/8"], [f"{base}/ripe/"]]]
    for kind, entries in (("ipv4", services), ("ipv6", [])):
        doc = {"version": "1.0", "publication": "2026-01-01T00:00:00Z", "services": entries}
        (folder / f"{kind}.json").write_text(json.dumps(doc))


def test_an_unreachable_registry_is_set_aside_without_budget_waits(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """#12 item 17: a closed port is rdap_unreachable, not an HTTP error; after a few
    failures in a row the registry is not asked, and nobody waits on its budget."""
    _bootstrap_at_a_closed_port(tmp_path)

    async def main() -> tuple[list[IpOwnership], dict[str, Any]]:
        async with RdapClient(bootstrap_dir=tmp_path) as client:  # the default budgets
            deadline = time.monotonic() + 30
            found = await asyncio.gather(
                *(client.lookup_ip(a, deadline=deadline) for a in _OFFLINE_ADDRESSES)
            )
            return list(found), client.stats()

    with caplog.at_level(logging.WARNING, logger="hostlocate"):
        results, stats = asyncio.run(main())
    assert {r.error for r in results} == {"rdap_unreachable"}
    assert stats["requests"] == {"arin": 3, "ripe": 3}  # three tries each, then set aside
    assert (stats["rate_limit_waits"], stats["rate_limit_refusals"]) == (0, 0)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "--no-rdap" in warnings[0].getMessage()


def test_a_batch_of_ip_literals_offline_is_not_held_by_registry_budgets(
    dns_lab: DnsLab, tmp_path: Path
) -> None:
    """#12 item 17 through the locator: every verdict says rdap_unreachable."""
    _bootstrap_at_a_closed_port(tmp_path)
    with Locator([dns_lab.resolver], rdap_bootstrap=tmp_path) as locator:
        verdicts = list(locator.locate_many(f"http://{a}/" for a in _OFFLINE_ADDRESSES))
        rdap = locator.stats()["rdap"]
    assert len(verdicts) == 3000
    assert {a.rdap_error for v in verdicts for a in v.addresses} == {"rdap_unreachable"}
    assert sum(rdap["requests"].values()) <= 6
    assert (rdap["rate_limit_waits"], rdap["rate_limit_refusals"]) == (0, 0)
