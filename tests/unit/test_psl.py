"""Public Suffix List matching on the bundled snapshot, private section included."""

from __future__ import annotations

from pathlib import Path

import pytest

from hostlocate import psl
from hostlocate.errors import DataError
from hostlocate.psl import PublicSuffixes, SuffixMatch

PRIVATE_CASES = [
    # host, registered (with private), public suffix, ICANN registered, ICANN suffix
    ("evil.github.io", "evil.github.io", "github.io", "github.io", "io"),
    ("a.b.evil.github.io", "evil.github.io", "github.io", "github.io", "io"),
    ("github.io", None, "github.io", "github.io", "io"),
    ("myblog.blogspot.com", "myblog.blogspot.com", "blogspot.com", "blogspot.com", "com"),
    ("x.herokuapp.com", "x.herokuapp.com", "herokuapp.com", "herokuapp.com", "com"),
    ("site.netlify.app", "site.netlify.app", "netlify.app", "netlify.app", "app"),
    ("example.uk.com", "example.uk.com", "uk.com", "uk.com", "com"),
    ("www.example.co.uk", "example.co.uk", "co.uk", "example.co.uk", "co.uk"),
    ("www.example.com", "example.com", "com", "example.com", "com"),
]


@pytest.mark.parametrize(
    ("host", "registered", "suffix", "icann_registered", "icann_suffix"),
    PRIVATE_CASES,
    ids=[c[0] for c in PRIVATE_CASES],
)
def test_private_and_icann_answers(
    host: str, registered: str | None, suffix: str, icann_registered: str | None, icann_suffix: str
) -> None:
    assert psl.match(host) == SuffixMatch(registered, suffix, icann_registered, icann_suffix)
    assert psl.registered_domain(host) == registered
    assert psl.registered_domain(host, private=False) == icann_registered
    assert psl.public_suffix(host, private=False) == icann_suffix


@pytest.mark.parametrize(
    ("host", "registered"),
    [
        ("EXAMPLE.COM", "example.com"),
        ("www.example.com.", "example.com"),
        (".example.com", None),
        ("a..example.com", None),
        ("", None),
        ("com", None),
        ("x.y.notatld", "y.notatld"),
        ("c.mm", None),
        ("b.c.mm", "b.c.mm"),
        ("www.ck", "www.ck"),
        ("bücher.de", "bücher.de"),
        ("www.xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("shop.例え.jp", "例え.jp"),
        ("user@example.com", None),
        ("example.com:80", None),
    ],
)
def test_rules_and_forms(host: str, registered: str | None) -> None:
    assert psl.registered_domain(host) == registered


def test_snapshot_version() -> None:
    assert psl.default().version == "2026-10-22_08-36-41_UTC"


def test_uses_the_given_list_not_tldextracts_own(tmp_path: Path) -> None:
    """A tiny list proves the engine reads our file (and nothing else)."""
    listing = tmp_path / "list.dat"
    listing.write_text(
        "// ===BEGIN ICANN DOMAINS===\nzz\n// ===END ICANN DOMAINS===\n"
        "// ===BEGIN PRIVATE DOMAINS===\nplatform.zz\n// ===END PRIVATE DOMAINS===\n",
        encoding="utf-8",
    )
    mine = PublicSuffixes(listing)
    assert mine.match("a.b.platform.zz") == SuffixMatch(
        "b.platform.zz", "platform.zz", "platform.zz", "zz"
    )
    # ``co.uk`` is not on this list: the implicit ``*`` rule applies.
    assert mine.registered_domain("www.example.co.uk") == "co.uk"
    assert mine.version is None


def test_missing_list_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError):
        PublicSuffixes(tmp_path / "absent.dat").match("example.com")


def test_answers_are_memoised_and_clearable() -> None:
    suffixes = PublicSuffixes()
    first = suffixes.match("www.example.org")
    assert suffixes.match("www.example.org") is first
    suffixes.clear_cache()
    assert suffixes.match("www.example.org") == first
