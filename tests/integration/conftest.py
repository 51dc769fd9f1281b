"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.rdaplab import RdapLab


@pytest.fixture
def lab(rdap_lab: RdapLab) -> Iterator[RdapLab]:
    """The RDAP lab, with no fault or count left over from another test, before and after."""
    rdap_lab.reset()
    yield rdap_lab
    rdap_lab.reset()
