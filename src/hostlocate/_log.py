"""Logging for hostlocate, with reported URLs kept out of every record above DEBUG.

A reported URL points at abuse material: a log line that carries one copies
the evidence into whatever stores logs. So modules log through
:func:`get_logger`, and a record above DEBUG that must say which input it is
about names it by :func:`input_ref` (a short keyed digest: the same text gives
the same reference within one process, and the reference cannot be turned
back into the text nor matched across processes). The text itself, host or
path, may appear at DEBUG only.

The ``hostlocate`` logger gets a ``NullHandler``, as libraries should: without
a handler configured by the application, Python's last-resort handler would
print warnings to stderr.
"""

from __future__ import annotations

import hashlib
import logging
import secrets

__all__ = ["ROOT", "get_logger", "input_ref"]

ROOT = "hostlocate"

_KEY = secrets.token_bytes(16)
"""Per process: references cannot be compared across runs or brute-forced offline."""

logging.getLogger(ROOT).addHandler(logging.NullHandler())


def get_logger(name: str) -> logging.Logger:
    """The logger for a module (``__name__``), always under ``hostlocate``."""
    if name != ROOT and not name.startswith(ROOT + "."):
        name = f"{ROOT}.{name}"
    return logging.getLogger(name)


def input_ref(text: str) -> str:
    """A reference to a reported input that reveals nothing of it (``input-`` + 12 hex)."""
    data = text.encode("utf-8", "surrogatepass")
    return "input-" + hashlib.blake2b(data, key=_KEY, digest_size=6).hexdigest()
