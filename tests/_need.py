"""What a test needs from outside the project, and what happens when it is absent.

Away from CI a missing server, corpus or tool skips the test with a message
saying what to install; under CI (``CI=true``) its absence is a failure, since
CI must provide everything the suite needs.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import NoReturn

import pytest


def absent(message: str) -> NoReturn:
    """Skip with ``message``, or fail with it under CI."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def mmdb_writer() -> ModuleType:
    """mmdb-writer, which builds small MaxMind-format test databases (a test extra)."""
    try:
        return importlib.import_module("mmdb_writer")
    except ImportError:
        absent("mmdb-writer is not installed (pip install -e '.[test]')")
