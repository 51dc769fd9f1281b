"""Properties of the parser over any text.

1. It returns a ReportedURL or raises InvalidURLError: nothing else.
2. The normalised URL parses back to itself (same URL, same host).

CI runs the ``parse-ci`` profile (10,000 examples); elsewhere ``parse-dev``
runs fewer. ``HOSTLOCATE_HYPOTHESIS_PROFILE`` picks one by name.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostlocate.errors import InvalidURLError
from hostlocate.models import ReportedURL
from hostlocate.parse import parse_reported_url, refang

settings.register_profile(
    "parse-ci",
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "parse-dev", max_examples=1_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
PROFILE = os.environ.get(
    "HOSTLOCATE_HYPOTHESIS_PROFILE",
    "parse-ci" if os.environ.get("CI") == "true" else "parse-dev",
)


def _join(parts: list[str]) -> str:
    return "".join(parts)


_SCHEMES = st.sampled_from(
    [
        "http://", "https://", "HTTP://", "ftp://", "ws://", "wss://", "", "//", "\\\\",
        "hxxp://", "hXXps[:]//", "h**p://", "http[://]", "[https]://", "http ://", "http__",
        "xxxxs://", "fxp://", "http[s]://", "http:", "javascript:", "mailto:", "foo:",
        "http%3A%2F%2F", "--~Chttps://",
    ]
)  # fmt: skip
_LABEL = st.lists(
    st.sampled_from(
        [*"abcxyz09-_AZ", "é", "ß", "ü", "中", "\u200d", "ا", "%41", "%", "0x", "xn--"]
    ),
    max_size=8,
).map(_join)
_SEPARATOR = st.sampled_from(
    [
        "\u3002",
        " ",
        "😀",
        ".",
        "[.]",
        "(.)",
        "{.}",
        "[dot]",
        "-dot-",
        "DOT",
        " .",
        "..",
        "\\.",
        "].[",
        ",",
        " [.] ",
    ]
)
_HOST = st.one_of(
    st.lists(st.tuples(_LABEL, _SEPARATOR), min_size=1, max_size=4).map(
        lambda pairs: "".join(label + sep for label, sep in pairs)[:-1]
    ),
    st.ip_addresses().map(str),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
    st.integers(0, 2**33).map(str),
)
_PORT = st.one_of(
    st.just(""), st.integers(0, 70_000).map(lambda p: f":{p}"), st.sampled_from([":", ":x"])
)
_PATH = st.lists(
    st.sampled_from(
        [
            *"/?#abc.[](){}\\^'\"<>` %&=:@!,;|~",
            "hxxp://",
            "[.]",
            "\t",
            "\n",
            "..",
            "é",
            "\x00",
            "\x1f",
            "\x7f",
        ]
    ),
    max_size=12,
).map(_join)
_WRAP = st.sampled_from(
    [("", ""), ('"', '"'), ("<", ">"), ("(", ")"), ("[", "]"), ("", "."), ("", ")"),
     ("see ", " now"), ("'", "'."), ("\u00a0", ""), ("“", "”")]
)  # fmt: skip
_URLISH = st.builds(
    lambda wrap, scheme, user, host, port, path: (
        wrap[0] + scheme + user + host + port + path + wrap[1]
    ),
    _WRAP,
    _SCHEMES,
    st.sampled_from(["", "user:pw@", "@"]),
    _HOST,
    _PORT,
    _PATH,
)
ANY_TEXT = st.one_of(st.text(), _URLISH)


@settings(settings.get_profile(PROFILE))
@given(ANY_TEXT)
def test_parse_returns_or_raises_invalid_url_and_is_a_fixed_point(text: str) -> None:
    try:
        url = parse_reported_url(text)
    except InvalidURLError as error:
        assert error.code.value and error.message
        return
    assert isinstance(url, ReportedURL)
    assert url.input == text
    again = parse_reported_url(url.normalized)
    assert again.normalized == url.normalized
    assert again.host == url.host
    assert again.registered_domain == url.registered_domain


@settings(max_examples=500, deadline=None)
@given(ANY_TEXT)
def test_refang_never_fails(text: str) -> None:
    out, changed = refang(text)
    assert isinstance(out, str)
    assert changed == (out != text)
