"""pytest plugin: the session fixture `redis_lab` (load with pytest_plugins)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._need import absent
from tests.netlab.lab import find_binary
from tests.redislab.lab import INSTALL_HINT, LabUnavailable, RedisLab, start_redis_lab

__all__ = ["redis_alone", "redis_lab"]


@pytest.fixture(scope="session")
def redis_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisLab]:
    """redis-server on loopback, started once per test session.

    Skips when redis-server is not installed, except under CI=true, where its
    absence is a failure: CI must install it (``scripts/setup --test`` does).
    Tests call ``redis_lab.flush()`` (or use a database of their own) first.
    """
    binary = find_binary("redis-server")
    if binary is None:
        absent(f"redis-server not installed: {INSTALL_HINT}")
    lab = RedisLab(binary, tmp_path_factory.mktemp("redis_lab"))
    lab.start()
    yield lab
    lab.stop()


@pytest.fixture
def redis_alone(tmp_path: Path) -> Iterator[RedisLab]:
    """A redis-server of one test alone, to kill and start again."""
    try:
        lab = start_redis_lab(tmp_path / "redis-alone")
    except LabUnavailable as exc:
        absent(str(exc))
    try:
        yield lab
    finally:
        lab.stop()
