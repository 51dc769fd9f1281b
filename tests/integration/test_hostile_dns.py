"""Hostile DNS, end to end on the loopback test internet: a clear verdict within the budget.

Loops, chains longer than the limit, answers too big for UDP, public and private
addresses mixed, loopback answers, wildcards, names longer than DNS allows,
resolvers that answer late or never. Every case goes through a fresh
``Locator`` (no cache carried between cases) against the lab's real servers
(tests/netlab: NSD, unbound, the blackhole and the latency forwarders), and
ends in a verdict whose elapsed time, measured with ``time.monotonic()``, is
under the configured budget plus a small margin: a correctness bound, not a
benchmark.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import pytest

from hostlocate import AsyncLocator, Verdict
from hostlocate.plan import DEFAULT_MAX_ADDRESSES
from hostlocate.sources.dns import DEFAULT_MAX_CNAMES
from tests.integration._budget import MARGIN, timed_verdict
from tests.netlab import DnsLab
from tests.rdaplab import RdapLab

pytestmark = pytest.mark.integration


def locate(
    nameservers: Sequence[str], rdap_lab: RdapLab, url: str, **options: Any
) -> tuple[Verdict, float]:
    return timed_verdict(nameservers, rdap_lab, url, **options)


def code(v: Verdict) -> str | None:
    return v.error.code if v.error else None


# -- CNAME loops and chains ---------------------------------------------------------------


def test_cname_loop_through_the_resolver(dns_lab: DnsLab, lab: RdapLab) -> None:
    """unbound spends its restarts on the loop and answers SERVFAIL."""
    v, _ = locate([dns_lab.resolver], lab, dns_lab.names["cname_loop"])
    assert (v.status, code(v)) == ("unresolved", "servfail")
    assert "dns_failure" in v.jurisdiction.flags
    assert v.addresses == () and lab.total() == 0


def test_cname_loop_handed_over_whole(dns_lab: DnsLab, lab: RdapLab) -> None:
    """NSD puts both CNAMEs of the loop in one answer: the library finds the loop itself."""
    v, _ = locate([dns_lab.authoritative], lab, dns_lab.names["cname_loop"])
    assert (v.status, code(v)) == ("unresolved", "cname_loop")
    assert v.dns is not None
    loop = ("loop1.corp-site.com", "loop2.corp-site.com", "loop1.corp-site.com")
    assert v.dns.cname_chain == loop
    assert "dns_failure" in v.jurisdiction.flags
    assert lab.total() == 0


@pytest.mark.parametrize("server", ["resolver", "authoritative"])
def test_chain_longer_than_the_limit(dns_lab: DnsLab, lab: RdapLab, server: str) -> None:
    v, _ = locate([getattr(dns_lab, server)], lab, dns_lab.names["long_chain"])
    assert (v.status, code(v)) == ("unresolved", "cname_too_long")
    assert v.dns is not None and v.dns.addresses == ()
    # The first name and the limit's worth of targets, plus the one that broke it.
    assert len(v.dns.cname_chain) == DEFAULT_MAX_CNAMES + 2
    assert v.dns.cname_chain[0] == "chain0.corp-site.com"
    assert "dns_failure" in v.jurisdiction.flags
    assert lab.total() == 0  # no address, so no registry is asked


# -- big answers ----------------------------------------------------------------------------


def test_truncated_answer_is_asked_again_over_tcp_and_capped(dns_lab: DnsLab, lab: RdapLab) -> None:
    """80 A records: UDP (512 bytes without EDNS) holds under 30; TCP gives them all.

    The verdict keeps the first 32 in address order, which only a TCP answer
    can hold, and asks the registry once for their one network.
    """
    v, _ = locate([dns_lab.resolver], lab, dns_lab.names["big"])
    assert (v.status, v.jurisdiction.country) == ("located", "NL")
    assert v.dns is not None
    expected = tuple(f"193.0.0.{i}" for i in range(1, DEFAULT_MAX_ADDRESSES + 1))
    assert v.dns.addresses == expected
    assert tuple(a.ip for a in v.addresses) == expected
    assert lab.counts() == {"ripe": 1, "verisign": 1}


# -- non-public answers -----------------------------------------------------------------------


def test_public_and_private_addresses_mixed(dns_lab: DnsLab, lab: RdapLab) -> None:
    v, _ = locate([dns_lab.resolver], lab, dns_lab.names["mixed_private"])
    assert (v.status, v.jurisdiction.country) == ("located", "NL")
    assert "non_public_address" in v.jurisdiction.flags
    private, public = v.addresses
    assert (private.ip, private.public, private.country, private.network) == (
        "10.1.2.3",
        False,
        None,
        None,
    )
    assert private.rdap_error is None and private.abuse_emails == ()
    assert (public.ip, public.public, public.country) == ("193.0.6.139", True, "NL")
    # The private address is never sent to a registry.
    assert not [path for path in lab.path_counts() if "10.1.2.3" in path]
    assert lab.counts()["ripe"] == 1


@pytest.mark.parametrize(("key", "ip"), [("loopback", "127.0.0.1"), ("private", "10.1.2.3")])
def test_a_name_that_resolves_to_a_non_public_address(
    dns_lab: DnsLab, lab: RdapLab, key: str, ip: str
) -> None:
    v, _ = locate([dns_lab.resolver], lab, "https://" + dns_lab.names[key] + "/x")
    assert (v.status, v.jurisdiction.country, code(v)) == ("not_routable", None, None)
    assert "non_public_address" in v.jurisdiction.flags
    assert [(a.ip, a.public, a.country, a.asn) for a in v.addresses] == [(ip, False, None, None)]
    assert [c for c in v.routing.notice_contacts if c.role != "registrar"] == []
    assert lab.counts().get("ripe", 0) == 0 and lab.counts().get("arin", 0) == 0


# -- wildcards ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label", ["anything", "x-1", "a" * 63, "xn--bcher-kva", "deep.er.still"], ids=str
)
def test_wildcard_zone_answers_any_name(dns_lab: DnsLab, lab: RdapLab, label: str) -> None:
    name = f"{label}.wild.corp-site.com"
    v, _ = locate([dns_lab.resolver], lab, f"http://{name}/")
    assert (v.status, v.jurisdiction.country) == ("located", "NL")
    assert v.dns is not None
    assert v.dns.cname_chain == (name,)
    assert v.dns.addresses == ("193.0.6.139",)


# -- names DNS cannot carry -------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["a" * 64 + ".wild.corp-site.com", ".".join(["a" * 60] * 4) + ".wild.corp-site.com"],
    ids=["label-64", "name-259"],
)
def test_a_name_longer_than_dns_allows_is_invalid_without_a_query(
    dns_lab: DnsLab, lab: RdapLab, host: str
) -> None:
    v, _ = locate([dns_lab.blackhole], lab, f"http://{host}/", timeout=2.0)
    assert (v.status, code(v)) == ("invalid", "too_long"), v.to_json()
    assert v.dns is None


# -- slow and silent resolvers ------------------------------------------------------------------


def test_a_resolver_slower_than_the_budget_times_out_within_it(
    dns_lab: DnsLab, lab: RdapLab
) -> None:
    slow = dns_lab.start_forwarder(3000)
    v, _ = locate([slow], lab, dns_lab.names["fr"], timeout=1.5)
    assert (v.status, code(v)) == ("unresolved", "dns_timeout")
    assert "dns_failure" in v.jurisdiction.flags
    assert lab.total() == 0


def test_a_moderately_slow_resolver_still_resolves(dns_lab: DnsLab, lab: RdapLab) -> None:
    slow = dns_lab.start_forwarder(300)
    v, elapsed = locate([slow], lab, dns_lab.names["cname_chain"], timeout=3.0)
    assert (v.status, v.jurisdiction.country) == ("located", "DE")
    assert v.dns is not None and v.dns.addresses == ("88.198.1.1",)
    assert elapsed >= 0.3  # the answer really came through the slow path


def test_a_slow_truncated_answer_stays_within_the_budget(dns_lab: DnsLab, lab: RdapLab) -> None:
    slow = dns_lab.start_forwarder(1500)
    v, _ = locate([slow], lab, dns_lab.names["big"], timeout=2.0)
    assert (v.status, code(v)) == ("unresolved", "dns_timeout")


def test_a_resolver_that_never_answers(dns_lab: DnsLab, lab: RdapLab) -> None:
    v, _ = locate([dns_lab.blackhole], lab, dns_lab.names["cname_chain"], timeout=1.0)
    assert (v.status, code(v)) == ("unresolved", "dns_timeout")
    assert v.dns is not None and v.dns.addresses == ()
    assert "dns_failure" in v.jurisdiction.flags
    assert v.routing.next_step == "manual_review"


def test_the_async_locator_keeps_the_same_budget(dns_lab: DnsLab, lab: RdapLab) -> None:
    async def run() -> tuple[list[Verdict], float]:
        async with AsyncLocator(
            [dns_lab.blackhole], rdap_bootstrap=lab.bootstrap_dir, timeout=1.0
        ) as loc:
            started = time.monotonic()
            names = [dns_lab.names[k] for k in ("fr", "cn", "big", "wildcard")]
            verdicts = await asyncio.gather(*(loc.locate(n) for n in names))
            return verdicts, time.monotonic() - started

    verdicts, elapsed = asyncio.run(run())
    assert {(v.status, code(v)) for v in verdicts} == {("unresolved", "dns_timeout")}
    assert elapsed < 1.0 + MARGIN


def test_a_silent_first_resolver_falls_through_to_the_second(dns_lab: DnsLab, lab: RdapLab) -> None:
    v, _ = locate(
        [dns_lab.blackhole, dns_lab.resolver], lab, dns_lab.names["fr"], timeout=3.0,
        query_timeout=0.5,
    )  # fmt: skip
    assert (v.status, v.jurisdiction.country) == ("located", "FR")
    assert v.dns is not None
    assert v.dns.queries == 4  # A and AAAA, each asked of both resolvers
    assert v.provenance is not None
    assert v.provenance.resolvers == (dns_lab.blackhole, dns_lab.resolver)


def test_the_default_query_timeout_leaves_room_for_the_second_resolver(
    dns_lab: DnsLab, lab: RdapLab
) -> None:
    """With the default budget (5 s) a query waits 2 s, so the second resolver is reached."""
    v, elapsed = locate([dns_lab.blackhole, dns_lab.resolver], lab, dns_lab.names["cn"])
    assert (v.status, v.jurisdiction.country) == ("located", "CN")
    assert elapsed >= 2.0  # the first resolver was waited for
