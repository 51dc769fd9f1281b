"""Reported forms the parser now reads as browsers do, end to end on the loopback test internet.

An absolute name (trailing dot), names under ``.test`` and ``.example`` (RFC
6761: resolved like any other), and a URL pasted in full-width characters each
go through the real resolver (tests/netlab) and RDAP lab (tests/rdaplab) to a
located verdict.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hostlocate import Locator
from tests.netlab import DnsLab
from tests.rdaplab import NO_RATE_LIMITS, RdapLab

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def loc(dns_lab: DnsLab, rdap_lab: RdapLab) -> Iterator[Locator]:
    rdap_lab.reset()
    with Locator(
        [dns_lab.resolver],
        rdap_bootstrap=rdap_lab.bootstrap_dir,
        rdap_options=NO_RATE_LIMITS,
        timeout=5.0,
    ) as locator:
        yield locator


@pytest.mark.parametrize("text", ["http://www.ovh-site.fr./", "www.ovh-site.fr./x"])
def test_absolute_name_resolves_as_the_name(loc: Locator, text: str) -> None:
    v = loc.locate(text)
    assert (v.status, v.jurisdiction.country) == ("located", "FR"), v.error
    assert v.url is not None and v.url.host == "www.ovh-site.fr"
    assert v.url.normalized.startswith("http://www.ovh-site.fr./")
    assert v.dns is not None and v.dns.cname_chain[0] == "www.ovh-site.fr"
    assert v.dns.addresses == ("164.132.1.1",)


@pytest.mark.parametrize(
    ("key", "country", "address"),
    [("test_tld", "FR", "164.132.1.2"), ("example_tld", "DE", "88.198.1.2")],
)
def test_test_and_example_names_are_resolved(
    loc: Locator, dns_lab: DnsLab, key: str, country: str, address: str
) -> None:
    """RFC 6761 6.2 and 6.5: sent to the configured resolver, which answers them here."""
    v = loc.locate("https://" + dns_lab.names[key] + "/gallery")
    assert (v.status, v.jurisdiction.country) == ("located", country), v.error
    assert v.url is not None and v.url.special is None
    assert v.dns is not None and v.dns.addresses == (address,) and v.dns.queries > 0
    assert "special_use_name" not in v.jurisdiction.flags


@pytest.mark.parametrize("text", ["http://printer.invalid/", "http://app.localhost/"])
def test_invalid_and_localhost_are_answered_locally(loc: Locator, text: str) -> None:
    v = loc.locate(text)
    assert v.status == "not_routable"
    assert v.dns is None


def test_full_width_url_from_cjk_text(loc: Locator) -> None:
    v = loc.locate("見て　ｈｔｔｐｓ：／／ｗｗｗ．ｏｖｈ－ｓｉｔｅ．ｆｒ／ａｌｂｕｍ")
    assert (v.status, v.jurisdiction.country) == ("located", "FR"), v.error
    assert v.url is not None and v.url.host == "www.ovh-site.fr"
