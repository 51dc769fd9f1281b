"""Hosts as browsers derive them: the WHATWG URL test cases, through parse_reported_url.

Each case's input goes through the whole reported-URL pipeline (tidying,
refanging, scheme, WHATWG parse). Cases with a base all carry their own
authority, so the base is not needed (see the corpus README).
"""

from __future__ import annotations

import json

import ada_url
import pytest

from hostlocate.errors import InvalidURLError
from hostlocate.parse import parse_reported_url

from . import corpus, report


def _host_of(text: str) -> str | None:
    """The WHATWG host of the pipeline's URL, as its normalised form carries it.

    ``url.host`` is the name looked up: the same, without the final dot of an
    absolute name (``example.com.``), which the normalised URL keeps.
    """
    try:
        url = parse_reported_url(text)
    except InvalidURLError:
        return None
    whatwg: str = ada_url.parse_url(url.normalized, ("hostname",))["hostname"]
    looked_up = f"[{url.host}]" if url.ip_version == 6 else url.host
    name = whatwg[:-1] if whatwg.endswith(".") and len(whatwg) > 1 else whatwg
    if looked_up != name:
        return f"host {looked_up!r} is not the name of {whatwg!r}"
    return whatwg


@pytest.mark.parametrize("name", ["whatwg-hosts-dev.json", "whatwg-toascii-dev.json"])
def test_whatwg_hosts_agree(name: str) -> None:
    cases = json.loads(corpus(name).read_text(encoding="utf-8"))
    misses = []
    for case in cases:
        expected = None if case.get("failure") else case["expected_host"]
        got = _host_of(case["input"])
        if got != expected:
            misses.append(f"{case['input']!r}: expected {expected!r}, got {got!r}")
    passed = len(cases) - len(misses)
    assert not misses, report(name, passed, len(cases), misses)


def test_whatwg_ports_agree() -> None:
    cases = json.loads(corpus("whatwg-hosts-dev.json").read_text(encoding="utf-8"))
    defaults = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}
    misses = []
    for case in cases:
        if case.get("failure"):
            continue
        url = parse_reported_url(case["input"])
        port = str(url.port) if url.port != defaults[url.scheme] else ""
        if port != case["expected_port"]:
            misses.append(f"{case['input']!r}: expected {case['expected_port']!r}, got {port!r}")
    assert not misses, report("ports", len(cases) - len(misses), len(cases), misses)
