"""Conformance against public corpora read in place from ``<repo>/../shared/conformance``.

The corpora are others' test data: they are read where they are, never copied
into the project. Where they are absent the tests skip with a message, except
under ``CI=true``, where absence is a failure.
"""

from __future__ import annotations

from pathlib import Path

from tests._need import absent

CONFORMANCE = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"


def corpus(name: str) -> Path:
    """The corpus file *name*, or skip (fail under CI) when it is not there."""
    path = CONFORMANCE / name
    if not path.is_file():
        absent(f"conformance corpus {name} not found in ../shared/conformance/")
    return path


def report(name: str, passed: int, total: int, misses: list[str]) -> str:
    """A readable summary for an assertion message."""
    shown = "\n  ".join(misses[:20])
    return f"{name}: {passed}/{total} ({passed / total:.2%}) agree; misses:\n  {shown}"
