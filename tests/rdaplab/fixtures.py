"""pytest plugin: the session fixture `rdap_lab` (load with pytest_plugins)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._need import absent
from tests.rdaplab.lab import LabUnavailable, RdapLab, start_rdap_lab

__all__ = ["rdap_lab"]


@pytest.fixture(scope="session")
def rdap_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RdapLab]:
    """The RDAP lab on loopback, started once per test session.

    Skips when the shared recorded data is absent, except under CI=true,
    where its absence is a failure. Tests that set faults or read counts call
    ``rdap_lab.reset()`` first.
    """
    try:
        lab = start_rdap_lab(tmp_path_factory.mktemp("rdap_lab"))
    except LabUnavailable as exc:
        absent(str(exc))
    with lab:
        yield lab
