"""How long each record type's answer is kept (RFC 2308 for negatives, capped)."""

from __future__ import annotations

import pytest

from hostlocate.models import DnsPart
from hostlocate.sources.dns_cache import MAX_TTL, NEGATIVE_TTL_CAP, SERVFAIL_TTL
from hostlocate.sources.dns_cache import cache_ttl as _cache_ttl


@pytest.mark.parametrize(
    ("part", "ttl"),
    [
        (DnsPart(rdtype="A", rcode="NOERROR", addresses=("192.0.2.1",), min_ttl=300), 300),
        (DnsPart(rdtype="A", rcode="NOERROR", addresses=("192.0.2.1",), min_ttl=10**9), MAX_TTL),
        (DnsPart(rdtype="AAAA", rcode="NOERROR", min_ttl=60), 60),  # NODATA: its SOA TTL
        (DnsPart(rdtype="AAAA", rcode="NOERROR", min_ttl=86_400), NEGATIVE_TTL_CAP),
        (DnsPart(rdtype="A", rcode="NXDOMAIN", error="nxdomain", min_ttl=30), 30),
        (DnsPart(rdtype="A", rcode="NXDOMAIN", error="nxdomain"), NEGATIVE_TTL_CAP),
        (DnsPart(rdtype="A", rcode="SERVFAIL", error="servfail"), SERVFAIL_TTL),
        (DnsPart(rdtype="A", rcode="REFUSED", error="refused"), SERVFAIL_TTL),
        (DnsPart(rdtype="A", error="dns_timeout"), 0.0),  # never kept: ask again
        (DnsPart(rdtype="A", error="dns_error"), 0.0),
    ],
    ids=lambda v: v if isinstance(v, int | float) else f"{v.rdtype}-{v.rcode}-{v.error}",
)
def test_each_answer_is_kept_for_its_own_ttl(part: DnsPart, ttl: float) -> None:
    assert _cache_ttl(part) == ttl


def test_a_short_nodata_does_not_shorten_the_address_record() -> None:
    # Kept apart, a 60-second AAAA NODATA and a 300-second A record each keep their TTL.
    a = DnsPart(rdtype="A", rcode="NOERROR", addresses=("192.0.2.1",), min_ttl=300)
    aaaa = DnsPart(rdtype="AAAA", rcode="NOERROR", min_ttl=60)
    assert (_cache_ttl(a), _cache_ttl(aaaa)) == (300, 60)
