"""A host's decision is reused across records only while every answer behind it is fresh.

The DNS answers are put in the locator's cache as a look-up would leave them;
nothing here leaves the process (the resolver named is never asked).
"""

from __future__ import annotations

import time

from hostlocate import AsyncLocator
from hostlocate.models import DnsPart, ReportedURL, Verdict

NO_DNS = ["127.0.0.1:9"]


def _answers(loc: AsyncLocator, host: str, ip: str, *, a_ttl: float, aaaa_ttl: float) -> None:
    loc._dns_cache.put(
        f"{host}|A",
        DnsPart(rdtype="A", rcode="NOERROR", addresses=(ip,), min_ttl=int(a_ttl) or 1),
        a_ttl,
    )
    loc._dns_cache.put(f"{host}|AAAA", DnsPart(rdtype="AAAA", rcode="NOERROR"), aaaa_ttl)


def test_records_of_one_host_share_its_decision_while_fresh() -> None:
    loc = AsyncLocator(NO_DNS, rdap=False)
    _answers(loc, "memo-site.com", "193.0.6.139", a_ttl=300, aaaa_ttl=300)
    first = loc._try_cached("http://memo-site.com/a", time.perf_counter())
    second = loc._try_cached("hxxp://memo-site[.]com/b", time.perf_counter())
    assert isinstance(first, Verdict) and isinstance(second, Verdict)
    assert (first.status, first.jurisdiction.country) == ("located", "NL")
    assert second.input == "hxxp://memo-site[.]com/b"
    assert second.url is not None and second.url.normalized == "http://memo-site.com/b"
    # The same decision objects, not a decision made again.
    assert second.jurisdiction is first.jurisdiction
    assert second.addresses is first.addresses


def test_the_decision_ends_when_the_first_answer_behind_it_expires() -> None:
    loc = AsyncLocator(NO_DNS, rdap=False)
    _answers(loc, "short-site.com", "193.0.6.139", a_ttl=300, aaaa_ttl=0.2)
    assert isinstance(loc._try_cached("http://short-site.com/", time.perf_counter()), Verdict)
    time.sleep(0.3)
    # The AAAA answer has expired: the host needs a look-up again, memo or not.
    again = loc._try_cached("http://short-site.com/", time.perf_counter())
    assert isinstance(again, ReportedURL)


def test_a_new_answer_after_expiry_gives_a_new_decision() -> None:
    loc = AsyncLocator(NO_DNS, rdap=False)
    _answers(loc, "moved-site.com", "193.0.6.139", a_ttl=0.2, aaaa_ttl=0.2)
    before = loc._try_cached("http://moved-site.com/", time.perf_counter())
    time.sleep(0.3)
    _answers(
        loc, "moved-site.com", "8.8.8.8", a_ttl=300, aaaa_ttl=300
    )  # as a new look-up leaves it
    after = loc._try_cached("http://moved-site.com/", time.perf_counter())
    assert isinstance(before, Verdict) and isinstance(after, Verdict)
    assert before.dns is not None and before.dns.addresses == ("193.0.6.139",)
    assert after.dns is not None and after.dns.addresses == ("8.8.8.8",)
    assert after.jurisdiction.country == "US"
