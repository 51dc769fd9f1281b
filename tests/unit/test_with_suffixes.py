"""Parsing with another Public Suffix List snapshot (pinned or downloaded data)."""

from __future__ import annotations

from pathlib import Path

import msgspec

from hostlocate import psl
from hostlocate.parse import parse_reported_url


def _list(tmp_path: Path, text: str) -> psl.PublicSuffixes:
    path = tmp_path / "public_suffix_list.dat"
    path.write_text(
        "// ===BEGIN ICANN DOMAINS===\n" + "com\nfr\n"
        "// ===END ICANN DOMAINS===\n// ===BEGIN PRIVATE DOMAINS===\n"
        + text
        + "// ===END PRIVATE DOMAINS===\n",
        encoding="utf-8",
    )
    return psl.PublicSuffixes(path)


def test_private_rule_of_another_list_applies(tmp_path: Path) -> None:
    url = parse_reported_url("hxxp://evil.shop-platform[.]com/x")
    assert url.registered_domain == "shop-platform.com"
    other = parse_reported_url(
        "hxxp://evil.shop-platform[.]com/x", suffixes=_list(tmp_path, "shop-platform.com\n")
    )
    assert other.registered_domain == "evil.shop-platform.com"
    assert other.public_suffix == "shop-platform.com"
    assert other.icann_registered_domain == "shop-platform.com"
    assert other.icann_public_suffix == "com"
    assert (other.host, other.normalized) == (url.host, url.normalized)


def test_a_labels_are_kept_in_ascii(tmp_path: Path) -> None:
    other = parse_reported_url(
        "http://bücher.shop-platform.com/", suffixes=_list(tmp_path, "shop-platform.com\n")
    )
    assert other.registered_domain == "xn--bcher-kva.shop-platform.com"


def test_ip_literals_are_untouched(tmp_path: Path) -> None:
    url = parse_reported_url("http://193.0.6.139/")
    assert parse_reported_url("http://193.0.6.139/", suffixes=_list(tmp_path, "")) == url


def test_another_list_changes_only_the_suffix_fields(tmp_path: Path) -> None:
    other = _list(tmp_path, "shop-platform.com\n")
    for text in [
        "hxxp://evil.shop-platform[.]com/x",
        "http://bücher.shop-platform.com/",
        "http://a.b.shop-platform.com:8080/p?q",
        "shop-platform.com",
        "http://193.0.6.139/",
        "http://[2001:db8::1]/",
        "http://example.fr/",
    ]:
        parsed = parse_reported_url(text, suffixes=other)
        bundled = parse_reported_url(text)
        assert bundled == msgspec.structs.replace(
            parsed,
            registered_domain=bundled.registered_domain,
            public_suffix=bundled.public_suffix,
            icann_registered_domain=bundled.icann_registered_domain,
            icann_public_suffix=bundled.icann_public_suffix,
        )
    # The bundled list is still what the default gives: the two do not mix.
    assert parse_reported_url("http://evil.shop-platform.com/").registered_domain == (
        "shop-platform.com"
    )
    assert parse_reported_url(
        "http://evil.shop-platform.com/", suffixes=other
    ).registered_domain == ("evil.shop-platform.com")
