"""A host's decision is reused across records only while every answer behind it is fresh.

The locator is given in-memory sources (tests/fakes.py): nothing here leaves
the process, and the sources count what they were asked.
"""

from __future__ import annotations

import asyncio
import time

from hostlocate import AsyncLocator
from hostlocate.models import DnsPart, Verdict
from tests.fakes import FakeDns, FakeGeo

RIPE = "193.0.6.139"


def _dns(host: str, ip: str, *, a_ttl: float, aaaa_ttl: float) -> FakeDns:
    return FakeDns(
        {
            (host, "A"): DnsPart(rdtype="A", rcode="NOERROR", addresses=(ip,), min_ttl=300),
            (host, "AAAA"): DnsPart(rdtype="AAAA", rcode="NOERROR", min_ttl=300),
        },
        ttls={(host, "A"): a_ttl, (host, "AAAA"): aaaa_ttl},
    )


def _locator(dns: FakeDns) -> AsyncLocator:
    return AsyncLocator(dns=dns, geo=FakeGeo({}), rdap=False)


def _locate(loc: AsyncLocator, url: str) -> Verdict:
    return asyncio.run(loc.locate(url))


def test_records_of_one_host_share_its_decision_while_fresh() -> None:
    dns = _dns("memo-site.com", RIPE, a_ttl=300, aaaa_ttl=300)
    loc = _locator(dns)
    first = _locate(loc, "http://memo-site.com/a")
    assert first.dns is not None and first.dns.queries == 2
    second = loc._answer_now("hxxp://memo-site[.]com/b", time.perf_counter())
    assert isinstance(second, Verdict)
    assert second.addresses == first.addresses and second.jurisdiction == first.jurisdiction
    assert second.dns is not None and second.dns.queries == 0
    assert second.url is not None and second.url.defanged
    assert sum(dns.asked.values()) == 2


def test_the_decision_ends_when_the_first_answer_behind_it_expires() -> None:
    dns = _dns("short-site.com", RIPE, a_ttl=300, aaaa_ttl=0.2)
    loc = _locator(dns)
    _locate(loc, "http://short-site.com/")
    assert isinstance(_locate(loc, "http://short-site.com/"), Verdict)
    assert sum(dns.asked.values()) == 2
    time.sleep(0.25)
    assert not isinstance(loc._answer_now("http://short-site.com/", time.perf_counter()), Verdict)
    _locate(loc, "http://short-site.com/")
    assert dns.asked[("short-site.com", "AAAA")] == 2 and dns.asked[("short-site.com", "A")] == 1


def test_a_new_answer_after_expiry_gives_a_new_decision() -> None:
    dns = _dns("moved-site.com", RIPE, a_ttl=0.2, aaaa_ttl=0.2)
    loc = _locator(dns)
    before = _locate(loc, "http://moved-site.com/")
    dns.table[("moved-site.com", "A")] = DnsPart(
        rdtype="A", rcode="NOERROR", addresses=("8.8.4.4",), min_ttl=300
    )
    time.sleep(0.25)
    after = _locate(loc, "http://moved-site.com/")
    assert before.dns is not None and before.dns.addresses == (RIPE,)
    assert after.dns is not None and after.dns.addresses == ("8.8.4.4",)
