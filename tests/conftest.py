"""Test-session plugins (the loopback test internet) and a clean environment per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.netlab.fixtures", "tests.rdaplab.fixtures", "tests.redislab.fixtures"]


@pytest.fixture(autouse=True)
def _private_user_folders(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Keep every test away from the developer's own data and cache folders."""
    home: Path = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOSTLOCATE_USER_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "share"))
    yield
