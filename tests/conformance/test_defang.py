"""Defanged reports as IOC tools write them: the host we find is the host they expect.

Of the refang and extract_* vectors, those whose expected output is one URL,
domain or address count (e-mail addresses and prose do not): the host parsed
from the input must equal the host parsed from the expected output. Expected
outputs of extract_* without refanging are themselves defanged, so both sides
go through the same parser.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from hostlocate.errors import InvalidURLError
from hostlocate.parse import parse_reported_url, refang

from . import corpus, report

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S+")
_DOMAIN = re.compile(r"(?:[\w-]+\.)+[\w-]+\.?(?::\d+)?(?:[/?#]\S*)?")
_IPV6 = re.compile(r"\[?[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\]?")


def _single_target(vector: dict[str, Any]) -> str | None:
    """The expected output when it is one URL, domain or address."""
    expected = vector["expected"]
    if vector["kind"] == "extract_all":
        if not isinstance(expected, list) or len(expected) != 1:
            return None
        expected = expected[0]
    if not isinstance(expected, str):
        return None
    expected = expected.strip()
    if not expected or any(ch.isspace() for ch in expected):
        return None
    probe = expected if vector["kind"] == "refang" else unquote(refang(expected)[0])
    if _URL.fullmatch(probe) or _DOMAIN.fullmatch(probe) or _IPV6.fullmatch(probe):
        return expected
    return None


def _host(text: str) -> str | None:
    try:
        return parse_reported_url(text).host
    except InvalidURLError:
        return None


def test_defang_vectors_give_the_expected_host() -> None:
    vectors = json.loads(corpus("defang-dev.json").read_text(encoding="utf-8"))
    checked = 0
    misses = []
    for vector in vectors:
        if vector["kind"] not in ("refang", "extract_nth", "extract_all"):
            continue
        target = _single_target(vector)
        if target is None:
            continue
        checked += 1
        want, got = _host(target), _host(vector["input"])
        if want is None or got != want:
            misses.append(f"{vector['id']} {vector['input']!r}: expected {want!r}, got {got!r}")
    assert checked > 300
    assert not misses, report("defang-dev.json", checked - len(misses), checked, misses)
