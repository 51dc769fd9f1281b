"""pytest plugin: the session fixture `dns_lab` (load with pytest_plugins)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._need import absent
from tests.netlab.lab import DnsLab, LabUnavailable, start_dns_lab

__all__ = ["dns_lab"]


@pytest.fixture(scope="session")
def dns_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsLab]:
    """NSD + unbound + relays on loopback, started once per test session.

    Skips when the servers are not installed, except under CI=true, where a
    missing server is a failure: CI must install them.
    """
    try:
        lab = start_dns_lab(tmp_path_factory.mktemp("dns_lab"))
    except LabUnavailable as exc:
        absent(str(exc))
    with lab:
        yield lab
