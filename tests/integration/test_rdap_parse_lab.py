"""What the RDAP client reads from a body, through the real RDAP lab on loopback.

Deeply nested bodies (issue 12, item 1) end as an RDAP error of that address
only, and GeoIP still places it.
"""

from __future__ import annotations

import asyncio
import math

import pytest

from hostlocate.models import IpOwnership
from hostlocate.sources.rdap import RdapClient
from tests.integration._budget import timed_verdict
from tests.netlab import DnsLab
from tests.rdaplab import RdapLab

pytestmark = pytest.mark.integration


def lookup(lab: RdapLab, ip: str) -> IpOwnership:
    async def main() -> IpOwnership:
        async with RdapClient(bootstrap_dir=lab.bootstrap_dir, rate_limits={"*": math.inf}) as c:
            return await c.lookup_ip(ip)

    return asyncio.run(main())


@pytest.mark.parametrize(
    ("ip", "country"),
    [("212.58.10.7", "TR"), ("80.90.1.5", "DE")],
    ids=["2KB-of-brackets", "network-with-nested-remarks"],
)
def test_a_deeply_nested_body_fails_that_address_only(
    dns_lab: DnsLab, lab: RdapLab, ip: str, country: str
) -> None:
    v, _ = timed_verdict([dns_lab.resolver], lab, f"http://{ip}/gallery")
    assert (v.status, v.error, v.jurisdiction.country) == ("located", None, country), v.to_json()
    assert "rdap_unavailable" in v.jurisdiction.flags
    [address] = [a for a in v.addresses if a.public]
    assert (address.rdap_error, address.network) == ("rdap_bad_response", None)
    assert lab.counts() == {"ripe": 1}


def test_deep_nesting_is_an_rdap_error_of_the_client(lab: RdapLab) -> None:
    result = lookup(lab, "212.58.10.7")
    assert (result.error, result.network) == ("rdap_bad_response", None)
    assert result.detail is not None and "nested" in result.detail
