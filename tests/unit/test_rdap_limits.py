"""The RDAP client's per-request limits are checked once and are the fetcher's rules."""

from __future__ import annotations

import pytest

from hostlocate.sources._rdap_fetch import FetchLimits
from hostlocate.sources.rdap import RdapClient


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("timeout", 0.0, "timeout"),
        ("timeout", -1.0, "timeout"),
        ("max_redirects", -1, "max_redirects"),
        ("max_body_bytes", 0, "max_body_bytes"),
        ("max_concurrent_requests", 0, "max_concurrent_requests"),
        ("max_entity_requests", -1, "max_entity_requests"),
    ],
)
def test_a_bad_limit_is_refused_when_the_client_is_built(
    option: str, value: float, named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        RdapClient(**{option: value})


def test_the_client_options_become_its_limits() -> None:
    client = RdapClient(
        timeout=2.5,
        max_redirects=0,
        max_body_bytes=4096,
        max_retry_wait=0.0,
        max_concurrent_requests=3,
    )
    assert client.limits == FetchLimits(
        timeout=2.5, max_redirects=0, max_body_bytes=4096, max_retry_wait=0.0, max_concurrent=3
    )


def test_the_defaults_are_the_documented_ones() -> None:
    assert RdapClient().limits == FetchLimits(
        timeout=5.0,
        max_redirects=3,
        max_body_bytes=1_000_000,
        max_retry_wait=30.0,
        max_concurrent=8,
    )
