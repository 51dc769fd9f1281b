"""A short run, in CI, of the parser fuzz target in ``benchmarks/fuzz_parse.py``.

The long run (atheris, a million inputs and more) lives in the benchmark; this
runs the same check, and the same seeds, for a few seconds: every seed, then
Hypothesis text drawn from any code point (lone surrogates, NULs, controls,
right-to-left marks) and from URL-like pieces. The check fails on any
exception but ``InvalidURLError`` (with an input error code), and on an
accepted URL without a host, a web scheme or a port in range, or whose
normalised form does not parse back to itself.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings

_BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz_parse.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_parse", _BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fuzz_parse", module)
    spec.loader.exec_module(module)
    return module


fuzz = _load()


@pytest.mark.parametrize("text", fuzz.SEEDS, ids=[repr(s)[:40] for s in fuzz.SEEDS])
def test_seed(text: str) -> None:
    fuzz.check(text)


@settings(
    max_examples=1000,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(fuzz.text_strategy())
def test_any_text(text: str) -> None:
    fuzz.check(text)


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(fuzz.bytes_strategy())
def test_any_fuzzer_input(data: bytes) -> None:
    """The inputs the long run feeds, decoded as it decodes them."""
    fuzz.check(fuzz.decode(data))


@pytest.mark.parametrize("text", [*fuzz.SEEDS[:20], "\ud800x", "a\udcffb", "\U0010ffff"])
def test_seed_files_decode_to_the_seed(text: str) -> None:
    assert fuzz.decode(fuzz.encode(text)) == text


def test_the_check_catches_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    """A parser that raised anything but InvalidURLError would fail the fuzz run."""
    import hostlocate.parse

    def broken(text: str) -> None:
        raise IndexError(text)

    monkeypatch.setattr(hostlocate.parse, "parse_reported_url", broken)
    with pytest.raises(IndexError):
        fuzz.check("http://example.com/")


def test_trailing_control_characters_keep_the_url_a_fixed_point() -> None:
    """Found by the long run: a NUL after a final dot hid the dot from the plain path."""
    fuzz.check("https://example.com/test.php.\x00\x00")
    fuzz.check("https://example.com/a.\x01")
