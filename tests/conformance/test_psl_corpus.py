"""The Public Suffix List's own test cases, on the bundled snapshot."""

from __future__ import annotations

import re

from hostlocate import psl

from . import corpus, report

_LINE = re.compile(r"checkPublicSuffix\((null|'[^']*'), (null|'[^']*')\);")


def _arg(text: str) -> str | None:
    return None if text == "null" else text[1:-1]


def test_psl_corpus_agrees() -> None:
    cases = []
    for line in corpus("psl-dev.txt").read_text(encoding="utf-8").splitlines():
        match = _LINE.match(line.strip())
        if match:
            cases.append((_arg(match.group(1)), _arg(match.group(2))))
    assert len(cases) >= 40
    misses = []
    for domain, expected in cases:
        got = None if domain is None else psl.registered_domain(domain)
        if got != expected:
            misses.append(f"{domain!r}: expected {expected!r}, got {got!r}")
    assert not misses, report("psl-dev.txt", len(cases) - len(misses), len(cases), misses)
