"""UTS #46 ToASCII (non-transitional) on the Unicode test file, through domain_to_ascii.

The flags are the URL Standard's: UseSTD3ASCIIRules, CheckHyphens and
VerifyDnsLength off, so their status codes (U1, V2, V3, A4_1, A4_2) are
dropped from the expectations, as the corpus README says.
"""

from __future__ import annotations

import re

from hostlocate.errors import InvalidURLError
from hostlocate.parse import domain_to_ascii

from . import corpus, report

THRESHOLD = 0.99
_OFF = frozenset({"U1", "V2", "V3", "A4_1", "A4_2"})
_ESCAPE = re.compile(r"\\x\{([0-9A-Fa-f]+)\}|\\u([0-9A-Fa-f]{4})")


def _unescape(text: str) -> str:
    if text == '""':
        return ""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def _codes(text: str) -> list[str]:
    return [code.strip() for code in text.strip("[]").split(",") if code.strip()]


def _cases() -> list[tuple[str, str, list[str]]]:
    cases = []
    for line in corpus("idna-dev.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0]
        if not line.strip():
            continue
        cols = [col.strip() for col in line.split(";")] + [""] * 7
        source = _unescape(cols[0])
        expected = _unescape(cols[3] or cols[1] or cols[0])
        status = _codes(cols[4]) if cols[4] else _codes(cols[2])
        cases.append((source, expected, [c for c in status if c not in _OFF]))
    return cases


def test_uts46_to_ascii_rate() -> None:
    cases = _cases()
    assert len(cases) > 3000
    misses = []
    for source, expected, status in cases:
        try:
            got: str | None = domain_to_ascii(source)
        except InvalidURLError:
            got = None
        ok = got is None if status else got == expected
        if not ok:
            misses.append(
                f"{source!r}: expected {'error' if status else repr(expected)}, got {got!r}"
            )
    passed = len(cases) - len(misses)
    assert passed / len(cases) >= THRESHOLD, report("idna-dev.txt", passed, len(cases), misses)
