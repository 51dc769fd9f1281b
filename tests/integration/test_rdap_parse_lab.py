"""What the RDAP client reads from a body, through the real RDAP lab on loopback.

Deeply nested bodies (issue 12, item 1) end as an RDAP error of that address
only, and GeoIP still places it. The lab's AFRINIC network whose abuse
address is only in a remark, its APNIC record of space JPNIC administers and
the recorded KRNIC record (issue 11, items 7 and 8) give ranked notice
contacts and the holder. The parse-level detail is in
tests/unit/test_rdap_parse_contacts.py.
"""

from __future__ import annotations

import asyncio
import math

import pytest

from hostlocate.models import Holder, IpOwnership
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


def test_afrinic_abuse_address_from_a_remark(lab: RdapLab) -> None:
    result = lookup(lab, "102.88.34.10")
    assert result.error is None and result.network is not None
    assert (result.network.rir, result.network.cidr) == ("afrinic", "102.88.34.0/24")
    assert result.abuse_emails == ("abuse@lagos-hosting-lab.net",)
    assert result.holder == Holder(name="Lagos Hosting Lab Ltd", country="NG")


def test_jpnic_space_puts_the_holders_desk_before_jpnics(lab: RdapLab) -> None:
    result = lookup(lab, "133.242.10.20")
    assert result.error is None and result.network is not None
    assert (result.network.rir, result.network.country) == ("apnic", "JP")
    assert result.abuse_emails == ("abuse@kanda-hosting-lab.net", "hostmaster@nic.ad.jp")
    assert result.holder == Holder(name="Kanda Hosting Lab K.K.", country="JP")


def test_krnic_hostmaster_comes_last(lab: RdapLab) -> None:
    result = lookup(lab, "210.107.73.73")
    assert result.error is None
    assert result.abuse_emails[-1] == "hostmaster@nic.or.kr"
    assert len(result.abuse_emails) > 1
    assert result.holder == Holder(name="DACOM Corp.", country="KR")
