"""The RDAP client against the RDAP lab on loopback, through the real httpx client.

The lab (tests/rdaplab) serves the real recorded registry responses, the
networks written for the lab and generated benchmark networks, and counts
every request it gets; the tests read those counts to prove how many requests
the client made. Faults (429, 5xx, bad bodies, redirect loops, slow bodies)
are set on the lab per registry.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from hostlocate.errors import ErrorCode
from hostlocate.models import IpOwnership, RegistrarInfo
from hostlocate.sources.bootstrap import FALLBACK_SERVICE, Bootstrap
from hostlocate.sources.rdap import RateLimit, RdapClient
from tests.rdaplab import RdapLab

pytestmark = pytest.mark.integration

T = TypeVar("T")
UNLIMITED = {"*": math.inf}


@pytest.fixture
def lab(rdap_lab: RdapLab) -> Iterator[RdapLab]:
    rdap_lab.reset()
    yield rdap_lab
    rdap_lab.reset()


def run(lab: RdapLab, body: Callable[[RdapClient], Awaitable[T]], **options: Any) -> T:
    """Run ``body`` with a fresh client on the lab's bootstrap, budgets lifted unless given."""
    options.setdefault("rate_limits", UNLIMITED)
    options.setdefault("bootstrap_dir", lab.bootstrap_dir)

    async def main() -> T:
        async with RdapClient(**options) as client:
            return await body(client)

    return asyncio.run(main())


def _answer(found: tuple[T, float] | None) -> T | None:
    return None if found is None else found[0]


def lookup(lab: RdapLab, ip: str, *, budget: float | None = None, **options: Any) -> IpOwnership:
    async def body(client: RdapClient) -> IpOwnership:
        deadline = None if budget is None else time.monotonic() + budget
        return await client.lookup_ip(ip, deadline=deadline)

    return run(lab, body, **options)


# -- every registry, through the real server ----------------------------------------------------


@pytest.mark.parametrize(
    ("ip", "rir", "cidr", "handle", "country", "abuse"),
    [
        (
            "193.0.6.139",
            "ripe",
            "193.0.0.0/21",
            "193.0.0.0 - 193.0.7.255",
            "NL",
            {"abuse@ripe.net", "ops@ripe.net"},
        ),
        (
            "2a00:2381:ffff::1",
            "ripe",
            "2a00:2381:ffff::/64",
            "2a00:2381:ffff::/64",
            "GB",
            {"lee.bailey-hague@bt.com", "steve.a.marshall@bt.com", "zzdnsr@bt.com"},
        ),
        (
            "88.198.1.1",
            "ripe",
            "88.198.0.0/16",
            "88.198.0.0 - 88.198.255.255",
            "DE",
            {"abuse@hetzner.com"},
        ),
        ("1.1.1.1", "apnic", "1.1.1.0/24", "1.1.1.0 - 1.1.1.255", "AU", {"helpdesk@apnic.net"}),
        (
            "61.181.2.38",
            "apnic",
            "61.181.0.0/16",
            "61.181.0.0 - 61.181.255.255",
            "CN",
            {"hqs-ipabuse@chinaunicom.cn"},
        ),
        (
            "74.125.225.229",
            "arin",
            "74.125.0.0/16",
            "NET-74-125-0-0-1",
            None,
            {"arin-contact@google.com"},
        ),
        (
            "108.45.128.208",
            "arin",
            "108.0.0.0/11, 108.32.0.0/12, 108.48.0.0/13, 108.56.0.0/15",
            "NET-108-0-0-0-1",
            None,
            {"abuse-mail@verizonbusiness.com", "abuse@verizon.net"},
        ),
        (
            "104.16.132.229",
            "arin",
            "104.16.0.0/13",
            "NET-104-16-0-0-1",
            None,
            {"abuse@cloudflare.com"},
        ),
        (
            "2606:4700::6810:84e5",
            "arin",
            "2606:4700::/32",
            "NET6-2606-4700-1",
            None,
            {"abuse@cloudflare.com"},
        ),
        (
            "2604:180:3:2e2::d865",
            "arin",
            "2604:180::/32",
            "NET6-2604-180-1",
            None,
            {"abuse@ramnode.com"},
        ),
        (
            "200.57.141.161",
            "lacnic",
            "200.57.141.161/32",
            "200.57.141.161",
            "MX",
            {"operacion.redes@TRIARA.COM"},
        ),
        ("196.216.2.20", "afrinic", "196.216.2.0/23", "196.216.2.0 - 196.216.3.255", "ZA", set()),
        (
            "193.10.37.1",
            "ripe",
            "193.10.37.0/24",
            "193.10.37.0 - 193.10.37.255",
            "NL",
            {"abuse-193-10-37@bench-lab.net"},
        ),
    ],
)
def test_each_registry(
    lab: RdapLab,
    ip: str,
    rir: str,
    cidr: str,
    handle: str,
    country: str | None,
    abuse: set[str],
) -> None:
    result = lookup(lab, ip)
    assert result.error is None, result.detail
    assert result.network is not None
    assert (result.network.rir, result.network.cidr, result.network.handle) == (rir, cidr, handle)
    assert result.network.country == country
    assert set(result.abuse_emails) == abuse
    assert result.network.source_url == f"{lab.service(rir)}ip/{ip}"
    assert (result.requests, result.from_cache) == (1, False)
    assert lab.counts() == {rir: 1}


def test_arin_redirects_ovh_space_to_ripe(lab: RdapLab) -> None:
    result = lookup(lab, "164.132.1.1")
    assert result.error is None
    assert result.network is not None
    assert (result.network.rir, result.network.cidr, result.network.country) == (
        "ripe",
        "164.132.0.0/16",
        "FR",
    )
    assert result.abuse_emails == ("abuse@ovh.net",)
    assert result.requests == 2
    assert lab.path_counts() == {"/arin/ip/164.132.1.1": 1, "/ripe/ip/164.132.1.1": 1}


def test_a_second_address_in_a_seen_network_makes_no_request(lab: RdapLab) -> None:
    async def body(client: RdapClient) -> list[IpOwnership]:
        first = await client.lookup_ip("193.0.6.139")
        counts_after_first = lab.counts()
        second = await client.lookup_ip("193.0.6.140")
        edge = await client.lookup_ip("193.0.7.255")
        assert lab.counts() == counts_after_first == {"ripe": 1}
        ragged = [await client.lookup_ip(a) for a in ("108.45.128.208", "108.57.1.1", "108.1.2.3")]
        assert lab.counts() == {"ripe": 1, "arin": 1}
        stats = client.stats()
        assert (stats["cache_hits"], stats["cache_misses"], stats["requests_total"]) == (4, 2, 2)
        return [first, second, edge, *ragged]

    first, second, edge, *ragged = run(lab, body)
    assert second.from_cache and edge.from_cache and second.requests == 0
    assert second.network == first.network
    assert [r.from_cache for r in ragged] == [False, True, True]


def test_cached_answers_from_cache_only(lab: RdapLab) -> None:
    async def body(client: RdapClient) -> None:
        assert _answer(client.cached_ip("193.0.6.139")) is None
        assert _answer(client.cached_domain("cf-site.com")) is None
        assert _answer(client.cached_ip("not an address")) is None
        assert lab.counts() == {}
        assert client._made_client is None  # no HTTP client until a request is needed
        await client.lookup_ip("193.0.6.139")
        await client.lookup_domain("cf-site.com")
        await client.lookup_ip("45.0.0.1")
        seen = _answer(client.cached_ip("193.0.7.1"))
        assert seen is not None and seen.from_cache and seen.network is not None
        assert seen.network.cidr == "193.0.0.0/21"
        missing = _answer(client.cached_ip("45.0.0.1"))
        assert missing is not None and missing.error == ErrorCode.RDAP_NOT_FOUND
        registrar = _answer(client.cached_domain("CF-SITE.COM"))
        assert registrar is not None and registrar.from_cache
        assert lab.counts() == {"ripe": 1, "verisign": 1, "arin": 1}

    run(lab, body)


def test_cached_says_when_each_cached_answer_expires(lab: RdapLab) -> None:
    async def body(client: RdapClient) -> None:
        before = time.monotonic()
        await client.lookup_ip("193.0.6.139")
        await client.lookup_ip("45.0.0.1")
        await client.lookup_domain("cf-site.com")
        after = time.monotonic()
        for found, ttl in [
            (client.cached_ip("193.0.7.1"), 600.0),  # a network: the cache lifetime
            (client.cached_ip("193.0.7.1"), 600.0),  # again, from the per-address memo
            (client.cached_ip("45.0.0.1"), 60.0),  # a remembered 404: the negative one
            (client.cached_domain("cf-site.com"), 600.0),
        ]:
            assert found is not None
            assert before + ttl <= found[1] <= after + ttl
        assert client.cached_ip("198.51.100.1") is None
        assert client.cached_domain("other-site.com") is None

    run(lab, body, cache_ttl=600.0, negative_ttl=60.0)


def test_concurrent_lookups_in_one_block_share_one_request(lab: RdapLab) -> None:
    lab.latency("ripe", 0.2)

    async def body(client: RdapClient) -> list[IpOwnership]:
        return await asyncio.gather(*(client.lookup_ip(f"193.12.74.{i}") for i in range(1, 41)))

    results = run(lab, body)
    assert {r.error for r in results} == {None}
    assert {r.network.cidr for r in results if r.network} == {"193.12.74.0/24"}
    assert sum(r.requests for r in results) == 1
    assert lab.counts() == {"ripe": 1}


def test_concurrent_lookups_in_one_block_but_different_networks(lab: RdapLab) -> None:
    # 200.57.141.161 is a /32 at LACNIC: its neighbour is not in it and asks again.
    async def body(client: RdapClient) -> list[IpOwnership]:
        return await asyncio.gather(
            client.lookup_ip("200.57.141.161"), client.lookup_ip("200.57.141.162")
        )

    held, neighbour = run(lab, body)
    assert held.error is None
    assert neighbour.error == ErrorCode.RDAP_NOT_FOUND
    assert lab.counts() == {"lacnic": 2}


def test_a_cancelled_lookup_goes_on_for_those_waiting_on_it(lab: RdapLab) -> None:
    lab.latency("ripe", 0.5)

    async def body(client: RdapClient) -> IpOwnership:
        leader = asyncio.create_task(client.lookup_ip("193.14.5.1"))
        await asyncio.sleep(0.1)
        waiter = asyncio.create_task(client.lookup_ip("193.14.5.2"))
        await asyncio.sleep(0.1)
        leader.cancel()
        return await waiter

    result = run(lab, body)
    assert result.error is None
    assert result.network is not None and result.network.cidr == "193.14.5.0/24"
    assert lab.counts() == {"ripe": 1}  # the request under way was not asked again


def test_an_answer_after_the_deadline_is_kept_not_asked_again(lab: RdapLab) -> None:
    lab.latency("ripe", 0.6)
    lab.latency("verisign", 0.6)

    async def body(client: RdapClient) -> tuple[IpOwnership, RegistrarInfo, float]:
        started = time.monotonic()
        late_ip = await client.lookup_ip("193.14.5.1", deadline=started + 0.2)
        late_domain = await client.lookup_domain("cf-site.com", deadline=time.monotonic() + 0.2)
        waited = time.monotonic() - started
        assert _answer(client.cached_ip("193.14.5.9")) is None  # not here yet
        await asyncio.sleep(1.0)
        kept = _answer(client.cached_ip("193.14.5.9"))
        assert kept is not None and kept.network is not None
        assert kept.network.cidr == "193.14.5.0/24"
        registrar = _answer(client.cached_domain("cf-site.com"))
        assert registrar is not None and registrar.error is None
        again = await client.lookup_ip("193.14.5.200", deadline=time.monotonic() + 0.2)
        assert again.from_cache and again.requests == 0
        assert client.stats()["late_answers"] == 2
        return late_ip, late_domain, waited

    late_ip, late_domain, waited = run(lab, body)
    assert late_ip.error == ErrorCode.RDAP_TIMEOUT
    assert late_domain.error == ErrorCode.RDAP_TIMEOUT
    assert waited < 0.55  # each record waited its own budget only
    assert lab.counts() == {"ripe": 1, "verisign": 1}


def test_closing_the_client_stops_lookups_still_under_way(lab: RdapLab) -> None:
    lab.latency("ripe", 5.0)

    async def body(client: RdapClient) -> float:
        await client.load_bootstrap()  # set-up is not what the deadline is about
        late = await client.lookup_ip("193.14.5.1", deadline=time.monotonic() + 0.1)
        assert late.error == ErrorCode.RDAP_TIMEOUT
        assert client.stats()["lookups_under_way"] == 1
        started = time.monotonic()
        await client.aclose()
        return time.monotonic() - started

    assert run(lab, body) < 1.0


def test_unknown_address_is_not_found_and_remembered(lab: RdapLab) -> None:
    async def body(client: RdapClient) -> tuple[IpOwnership, IpOwnership]:
        return await client.lookup_ip("45.0.0.1"), await client.lookup_ip("45.0.0.1")

    first, again = run(lab, body)
    assert (first.error, first.requests, first.network) == (ErrorCode.RDAP_NOT_FOUND, 1, None)
    assert (again.error, again.from_cache) == (ErrorCode.RDAP_NOT_FOUND, True)
    assert lab.counts() == {"arin": 1}


def test_non_public_address_makes_no_request(lab: RdapLab) -> None:
    for ip in ("10.1.2.3", "127.0.0.1", "::1", "192.0.2.1"):
        assert lookup(lab, ip).error == ErrorCode.RDAP_NO_SERVICE
    assert lab.counts() == {}


# -- 429, 5xx, bad bodies ---------------------------------------------------------------------


def test_429_then_success_after_retry_after(lab: RdapLab) -> None:
    lab.rate_limit("ripe", times=1, retry_after="1")

    async def body(client: RdapClient) -> tuple[IpOwnership, dict[str, Any]]:
        return await client.lookup_ip("193.0.6.139", deadline=time.monotonic() + 10), client.stats()

    result, stats = run(lab, body)
    assert result.error is None
    assert result.requests == 2
    assert stats["retry_after_waits"] == 1
    assert stats["rate_limit_wait_seconds"] >= 0.9
    assert lab.counts() == {"ripe": 2}


def test_429_with_an_http_date(lab: RdapLab) -> None:
    lab.rate_limit(
        "apnic", times=1, retry_after=email.utils.formatdate(time.time() + 1, usegmt=True)
    )
    result = lookup(lab, "1.1.1.1", budget=10)
    assert result.error is None
    assert lab.counts() == {"apnic": 2}


def test_429_past_the_deadline_gives_up_at_once(lab: RdapLab) -> None:
    lab.rate_limit("ripe", times=None, retry_after="30")

    async def body(client: RdapClient) -> tuple[IpOwnership, IpOwnership, float]:
        started = time.monotonic()
        first = await client.lookup_ip("193.0.6.139", deadline=started + 3)
        # The registry is now blocked for everyone: the next look-up asks nothing.
        second = await client.lookup_ip("88.198.1.1", deadline=time.monotonic() + 3)
        return first, second, time.monotonic() - started

    first, second, elapsed = run(lab, body)
    assert first.error == second.error == ErrorCode.RDAP_RATE_LIMITED
    assert (first.requests, second.requests) == (1, 0)
    assert elapsed < 3
    assert lab.counts() == {"ripe": 1}


def test_429_without_retry_after_backs_off_then_gives_up(lab: RdapLab) -> None:
    lab.rate_limit("lacnic", times=None, retry_after=None)
    result = lookup(lab, "200.57.141.161", budget=20)
    assert result.error == ErrorCode.RDAP_RATE_LIMITED
    assert lab.counts() == {"lacnic": 3}  # first try and two bounded retries (1 s, 2 s)


def test_server_error_is_retried_once(lab: RdapLab) -> None:
    lab.server_error("apnic", times=1, status=503)
    assert lookup(lab, "61.181.2.38").error is None
    assert lab.counts() == {"apnic": 2}
    lab.reset()
    lab.server_error("apnic", times=2, status=500)
    result = lookup(lab, "61.181.2.38")
    assert (result.error, result.requests) == (ErrorCode.RDAP_HTTP_ERROR, 2)
    assert lab.counts() == {"apnic": 2}


def test_client_error_status_is_an_http_error(lab: RdapLab) -> None:
    lab.server_error("apnic", times=1, status=403)
    result = lookup(lab, "61.181.2.38")
    assert (result.error, result.requests) == (ErrorCode.RDAP_HTTP_ERROR, 1)


def test_malformed_json(lab: RdapLab) -> None:
    lab.malformed_json("lacnic")
    assert lookup(lab, "200.57.141.161").error == ErrorCode.RDAP_BAD_RESPONSE


def test_wrong_content_type(lab: RdapLab) -> None:
    lab.wrong_content_type("afrinic")
    result = lookup(lab, "196.216.2.20")
    assert result.error == ErrorCode.RDAP_BAD_RESPONSE
    assert result.detail is not None and "text/html" in result.detail


def test_a_body_that_is_not_a_network_is_a_bad_response(lab: RdapLab) -> None:
    lab.redirect("ripe", "{base}/verisign/domain/google.com")
    result = lookup(lab, "193.0.6.139", user_services=[lab.service("verisign")])
    assert result.error == ErrorCode.RDAP_BAD_RESPONSE


@pytest.mark.parametrize("declare_length", [True, False])
def test_oversized_body(lab: RdapLab, declare_length: bool) -> None:
    lab.oversized("ripe", size=3_000_000, declare_length=declare_length)
    result = lookup(lab, "193.0.6.139", max_body_bytes=100_000)
    assert result.error == ErrorCode.RDAP_TOO_LARGE


# -- redirects ---------------------------------------------------------------------------------


def test_redirect_loop(lab: RdapLab) -> None:
    lab.redirect_loop("arin", "ripe")
    result = lookup(lab, "164.132.1.1")
    assert result.error == ErrorCode.RDAP_TOO_MANY_REDIRECTS
    assert lab.counts() == {"arin": 1, "ripe": 1}  # the way back is seen, not asked


def test_redirect_chain_longer_than_allowed(lab: RdapLab) -> None:
    for hop in range(3):
        lab.redirect("ripe", "{base}/ripe/{rest}?hop=" + str(hop))
    result = lookup(lab, "193.0.6.139", max_redirects=2)
    assert result.error == ErrorCode.RDAP_TOO_MANY_REDIRECTS
    assert lab.counts() == {"ripe": 3}
    lab.reset()
    for hop in range(2):
        lab.redirect("ripe", "{base}/ripe/{rest}?hop=" + str(hop))
    assert lookup(lab, "193.0.6.139", max_redirects=2).error is None


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.2:{port}/ripe/{rest}",  # loopback, but not a listed service
        "http://10.1.2.3/ip/193.0.6.139",  # private
        "https://rdap.elsewhere.test/ip/193.0.6.139",  # public, not listed
        "{base}/unlisted/{rest}",  # the lab's own host, outside every service path
    ],
)
def test_redirect_to_a_host_that_is_not_a_service_is_refused(lab: RdapLab, location: str) -> None:
    port = lab.base_url.rsplit(":", 1)[1]
    lab.redirect("ripe", location.replace("{port}", port))
    result = lookup(lab, "193.0.6.139")
    assert result.error == ErrorCode.RDAP_REDIRECT_REFUSED
    assert lab.counts() == {"ripe": 1}


def test_private_services_are_refused_when_private_targets_are_off(lab: RdapLab) -> None:
    result = lookup(lab, "193.0.6.139", allow_private_targets=False)
    assert result.error == ErrorCode.RDAP_NO_SERVICE
    assert lab.counts() == {}


# -- slow answers and deadlines ---------------------------------------------------------------


def test_slow_body_is_cut_by_the_deadline(lab: RdapLab) -> None:
    lab.slow_body("ripe", seconds=6)
    started = time.monotonic()
    result = lookup(lab, "193.0.6.139", budget=1.0)
    assert result.error == ErrorCode.RDAP_TIMEOUT
    assert time.monotonic() - started < 3


def test_slow_body_is_cut_by_the_timeout(lab: RdapLab) -> None:
    lab.slow_body("ripe", seconds=6)
    started = time.monotonic()
    result = lookup(lab, "193.0.6.139", timeout=1.0)
    assert result.error == ErrorCode.RDAP_TIMEOUT
    assert time.monotonic() - started < 3


def test_a_slow_body_within_the_budget_is_read(lab: RdapLab) -> None:
    lab.slow_body("ripe", seconds=0.5)
    assert lookup(lab, "193.0.6.139", budget=5).error is None


def test_latency_past_the_deadline(lab: RdapLab) -> None:
    lab.latency("apnic", 2.0)
    result = lookup(lab, "1.1.1.1", budget=0.5)
    assert result.error == ErrorCode.RDAP_TIMEOUT


def test_a_passed_deadline_makes_no_request(lab: RdapLab) -> None:
    result = lookup(lab, "193.0.6.139", budget=-1)
    assert result.error == ErrorCode.RDAP_TIMEOUT
    assert lab.counts() == {}


# -- client-side budgets ----------------------------------------------------------------------


def test_budget_spaces_requests(lab: RdapLab) -> None:
    async def body(client: RdapClient) -> tuple[list[IpOwnership], dict[str, Any]]:
        results = [await client.lookup_ip(f"194.{10 + 2 * k}.1.1") for k in range(3)]
        return results, client.stats()

    results, stats = run(lab, body, rate_limits={"*": math.inf, "ripe": RateLimit(2, 1)})
    assert {r.error for r in results} == {None}
    assert stats["rate_limit_waits"] == 2
    assert lab.counts() == {"ripe": 3}


def test_budget_exhausted_before_the_deadline(lab: RdapLab) -> None:
    async def body(client: RdapClient) -> tuple[IpOwnership, IpOwnership, dict[str, Any]]:
        first = await client.lookup_ip("193.0.6.139")
        second = await client.lookup_ip("88.198.1.1", deadline=time.monotonic() + 1)
        return first, second, client.stats()

    first, second, stats = run(
        lab, body, rate_limits={"*": math.inf, "ripe": RateLimit(1 / 3600, 1)}
    )
    assert first.error is None
    assert (second.error, second.requests) == (ErrorCode.RDAP_RATE_LIMITED, 0)
    assert stats["rate_limit_refusals"] == 1
    assert lab.counts() == {"ripe": 1}


def test_default_budget_of_lacnic(lab: RdapLab) -> None:
    """LACNIC allows 10 queries a minute: the eleventh cannot be made within 2 s."""
    addresses = ["200.57.141.161", *(f"200.57.141.{n}" for n in range(162, 171))]

    async def body(client: RdapClient) -> tuple[list[IpOwnership], IpOwnership, IpOwnership]:
        burst = [await client.lookup_ip(a, deadline=time.monotonic() + 2) for a in addresses]
        eleventh = await client.lookup_ip("201.127.0.1", deadline=time.monotonic() + 2)
        cached = await client.lookup_ip("200.57.141.161", deadline=time.monotonic() + 2)
        return burst, eleventh, cached

    burst, eleventh, cached = run(lab, body, rate_limits=None)
    assert burst[0].error is None
    assert {r.error for r in burst[1:]} == {ErrorCode.RDAP_NOT_FOUND}
    assert (eleventh.error, eleventh.requests) == (ErrorCode.RDAP_RATE_LIMITED, 0)
    assert cached.error is None and cached.from_cache
    assert lab.counts() == {"lacnic": 10}


# -- entity links -------------------------------------------------------------------------------


def test_abuse_entity_referenced_by_link_is_fetched(lab: RdapLab) -> None:
    result = lookup(lab, "185.10.3.4")
    assert result.error is None
    assert result.abuse_emails == ("abuse-185-10-3@linked-lab.net",)
    assert result.requests == 2
    assert lab.path_counts() == {
        "/ripe/ip/185.10.3.4": 1,
        "/ripe/entity/ABLINKED-185-10-3-RIPE": 1,
    }


def test_entity_link_to_an_unlisted_host_falls_back_to_the_answering_registry(
    lab: RdapLab,
) -> None:
    # NIC.br links GRSVI at its own host; the lab's LACNIC service has no such entity.
    result = lookup(lab, "187.36.192.120")
    assert result.error is None and result.network is not None
    assert result.network.country == "BR"
    assert result.abuse_emails == ()
    assert lab.path_counts() == {"/lacnic/ip/187.36.192.120": 1, "/lacnic/entity/GRSVI": 1}


def test_entity_following_is_bounded(lab: RdapLab) -> None:
    result = lookup(lab, "185.10.3.4", max_entity_requests=0)
    assert (result.abuse_emails, result.requests) == ((), 1)
    assert lab.counts() == {"ripe": 1}


# -- domains -----------------------------------------------------------------------------------


def test_domain_registrar_abuse_contact(lab: RdapLab) -> None:
    async def body(client: RdapClient) -> list[Any]:
        names = ["cf-site.com", "google.com", "ovh-site.fr", "uk-site.co.uk", "CF-SITE.COM."]
        return [await client.lookup_domain(n) for n in names]

    lab_domain, recorded, fr, uk, again = run(lab, body)
    assert (lab_domain.name, lab_domain.iana_id) == ("Gamma Registry Services Inc.", "9903")
    assert lab_domain.abuse_email == "domain-abuse@gamma-registry.test"
    assert lab_domain.abuse_phone == "+1.2025550103"
    assert lab_domain.source_url == f"{lab.service('verisign')}domain/cf-site.com"
    assert (recorded.name, recorded.abuse_email) == (
        "MarkMonitor Inc.",
        "abusecomplaints@markmonitor.com",
    )
    assert fr.abuse_email == "abuse@beta-domains.test"
    assert uk.abuse_email == "abuse@alpha-names.test"
    assert (again.from_cache, again.requests) == (True, 0)
    assert lab.counts() == {"verisign": 2, "afnic": 1, "nominet": 1}


def test_domain_without_service_or_record(lab: RdapLab) -> None:
    async def body(client: RdapClient) -> list[Any]:
        return [
            await client.lookup_domain("hetzner-host.de"),
            await client.lookup_domain("no-such-domain.com"),
            await client.lookup_domain("no-such-domain.com"),
        ]

    no_service, missing, missing_again = run(lab, body)
    assert no_service.error == ErrorCode.RDAP_NO_SERVICE
    assert missing.error == ErrorCode.RDAP_NOT_FOUND
    assert missing_again.from_cache
    assert lab.counts() == {"verisign": 1}


def test_concurrent_domain_lookups_share_one_request(lab: RdapLab) -> None:
    lab.latency("verisign", 0.2)

    async def body(client: RdapClient) -> list[Any]:
        return await asyncio.gather(*(client.lookup_domain("brand-shop.com") for _ in range(5)))

    results = run(lab, body)
    assert {r.abuse_email for r in results} == {"abuse@alpha-names.test"}
    assert lab.counts() == {"verisign": 1}


# -- bootstrap fetched over HTTP ----------------------------------------------------------------


def _iana_urls(lab: RdapLab) -> dict[str, str]:
    return {kind: f"{lab.base_url}/iana/{kind}.json" for kind in ("ipv4", "ipv6", "asn", "dns")}


def test_bootstrap_fetched_then_cached(lab: RdapLab, tmp_path: Path) -> None:
    import httpx

    async def main() -> tuple[Bootstrap, Bootstrap, Bootstrap]:
        async with httpx.AsyncClient(trust_env=False) as client:
            fetched = await Bootstrap.load_or_fetch(tmp_path, client, urls=_iana_urls(lab))
            cached = await Bootstrap.load_or_fetch(tmp_path, client, urls=_iana_urls(lab))
            refreshed = await Bootstrap.load_or_fetch(
                tmp_path, client, urls=_iana_urls(lab), max_age_days=0
            )
            return fetched, cached, refreshed

    fetched, cached, refreshed = asyncio.run(main())
    assert (fetched.origin, cached.origin, refreshed.origin) == ("iana", "iana-cache", "iana")
    assert lab.counts() == {"iana": 8}
    assert fetched.publication == cached.publication
    assert fetched.service_for_ip("193.0.6.139") == [lab.service("ripe")]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "asn.json",
        "bootstrap-meta.json",
        "dns.json",
        "ipv4.json",
        "ipv6.json",
    ]


def test_fetched_bootstrap_services_must_be_https(lab: RdapLab, tmp_path: Path) -> None:
    """IANA's http:// services are not trusted; the same ones configured by the user are."""
    options = {
        "bootstrap_dir": None,
        "bootstrap_cache_dir": tmp_path,
        "bootstrap_urls": _iana_urls(lab),
    }
    refused = lookup(lab, "164.132.1.1", **options)
    assert refused.error == ErrorCode.RDAP_NO_SERVICE
    services = [lab.service(r) for r in ("arin", "ripe")]
    allowed = lookup(lab, "164.132.1.1", user_services=services, **options)
    assert allowed.error is None
    assert allowed.abuse_emails == ("abuse@ovh.net",)


def test_client_without_bootstrap_falls_back_when_iana_is_unreachable(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    urls = {k: f"http://127.0.0.1:{port}/{k}.json" for k in ("ipv4", "ipv6", "asn", "dns")}

    async def main() -> tuple[Bootstrap, str | None]:
        async with RdapClient(bootstrap_cache_dir=tmp_path, bootstrap_urls=urls) as client:
            bootstrap = await client.load_bootstrap()
            # The fallback starts at ARIN's public https service; a private address
            # is never sent anywhere, so this asks nothing of the internet.
            result = await client.lookup_ip("10.0.0.1")
            return bootstrap, result.error

    bootstrap, error = asyncio.run(main())
    assert bootstrap.origin == "fallback"
    assert bootstrap.service_for_ip("164.132.1.1") == [FALLBACK_SERVICE]
    assert error == ErrorCode.RDAP_NO_SERVICE


def test_stats_report_requests_per_registry(lab: RdapLab) -> None:
    async def body(client: RdapClient) -> dict[str, Any]:
        for ip in ("164.132.1.1", "1.1.1.1", "1.1.1.2", "45.0.0.1"):
            await client.lookup_ip(ip)
        await client.lookup_domain("cf-site.com")
        return client.stats()

    stats = run(lab, body)
    assert stats["requests"] == lab.counts() == {"arin": 2, "ripe": 1, "apnic": 1, "verisign": 1}
    assert stats["requests_total"] == 5
    assert stats["errors"] == {"rdap_not_found": 1}
    assert stats["bootstrap"] == "user"
    assert (stats["cache_hits"], stats["cache_misses"], stats["cache_networks"]) == (1, 3, 2)
