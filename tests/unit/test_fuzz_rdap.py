"""A short run, in CI, of the RDAP body fuzz target in ``benchmarks/fuzz_rdap.py``.

The long run (100,000 bodies and more) lives in the benchmark; this runs the
same check on the hostile bodies issue 12 names and on a few hundred
generated ones. It fails on any exception but the client's own (``Failure``
from decoding, ``ParseError`` from parsing), on an answer JSON cannot carry,
and on more than ``MAX_CONTACTS`` contacts.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

_BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(_BENCHMARKS) not in sys.path:
    sys.path.append(str(_BENCHMARKS))
fuzz = importlib.import_module("fuzz_rdap")

NETWORK = (
    b'{"objectClassName": "ip network", "startAddress": "193.0.22.0", "endAddress": "193.0.22.9"'
)


@pytest.mark.parametrize(
    ("raw", "charset", "outcome"),
    [
        (b"[" * 1_000 + b"]" * 1_000, None, "decode:rdap_bad_response"),
        (b'{"a":' * 5_000 + b"1" + b"}" * 5_000, None, "decode:rdap_bad_response"),
        (("[" * 5_000 + "]" * 5_000).encode("utf-16"), "utf-16", "decode:rdap_bad_response"),
        (b"\xef\xbb\xbf" + NETWORK + b"}", None, "decode:rdap_bad_response"),
        (NETWORK + b', "name": "\\ud800"}', None, "decode:rdap_bad_response"),
        (NETWORK + b', "country": 1e400}', None, "decode:rdap_bad_response"),
        (NETWORK + b', "country": ' + b"9" * 5_000 + b"}", "latin-1", "decode:rdap_bad_response"),
        (NETWORK + b', "name": "\\ud800"}', "latin-1", "network:ok"),
        (NETWORK + b', "name": "a", "name": ["b"]}', None, "network:ok"),
        ((NETWORK + b"}").decode().encode("utf-32"), "utf-32", "network:ok"),
    ],
    ids=[
        "2KB-of-brackets",
        "nested-objects",
        "utf16-nested",
        "utf8-bom",
        "lone-surrogate",
        "huge-float",
        "huge-int-latin1",
        "surrogate-via-latin1",
        "duplicate-keys",
        "utf32",
    ],
)
def test_hostile_bodies_end_as_rdap_errors_or_answers(
    raw: bytes, charset: str | None, outcome: str
) -> None:
    assert fuzz.check(raw, charset).split()[0] == outcome


def test_a_short_generated_run() -> None:
    tallies, _ = fuzz.run(seed=12, count=300)
    assert (
        sum(n for k, n in tallies.items() if k.startswith(("fetch:", "decode:", "network:"))) == 300
    )
    assert tallies["network:ok"] > 0 and tallies["decode:rdap_bad_response"] > 0
