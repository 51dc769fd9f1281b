"""Platforms and redirectors: the bundled table, its sources, and the pure matchers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hostlocate import _resources
from hostlocate.errors import DataError
from hostlocate.parse import parse_reported_url
from hostlocate.platforms import KINDS, REDIRECTOR, PlatformRecord, PlatformTable
from hostlocate.providers import ProviderTable


@pytest.fixture(scope="module")
def table() -> PlatformTable:
    return PlatformTable.load()


def _records(table: PlatformTable) -> list[PlatformRecord]:
    return [*table.platforms, *table.redirectors]


# -- the table ------------------------------------------------------------------------

REQUIRED_PLATFORMS = {
    "github_pages", "blogger", "wordpress_com", "tumblr", "imgur", "cloudflare_pages",
    "cloudflare_r2", "cloudflare_workers", "firebase_hosting", "heroku", "wix", "netlify",
    "vercel",
}  # fmt: skip
REQUIRED_REDIRECTORS = {
    "bitly", "x_tco", "tinyurl", "google_goo_gl", "hootsuite_owly", "isgd", "buffer_buffly",
    "rebrandly", "cuttly", "shorturl_at", "tly",
}  # fmt: skip


def test_table_covers_what_the_issue_names(table: PlatformTable) -> None:
    assert {r.id for r in table.platforms} >= REQUIRED_PLATFORMS
    assert {r.id for r in table.redirectors} >= REQUIRED_REDIRECTORS
    kinds = {r.kind for r in table.platforms}
    assert {"image_host", "file_host", "blog", "page_host", "hosting_platform"} <= kinds


def test_ids_unique_and_kinds_known(table: PlatformTable) -> None:
    ids = [r.id for r in _records(table)]
    assert len(ids) == len(set(ids))
    assert all(r.kind in KINDS for r in table.platforms)
    assert all(r.kind == REDIRECTOR for r in table.redirectors)


def test_every_fact_cites_a_source_and_the_unsourced_are_marked(table: PlatformTable) -> None:
    doc = json.loads(_resources.data_path("platforms.json").read_text("utf-8"))
    references = doc["references"]
    assert all(ref["cite"] and ref["refresh"] for ref in references.values())
    for r in _records(table):
        assert r.match_ref, r.id
        assert r.legal_seat_country is None or r.legal_seat_ref, r.id
        assert not (r.report_url or r.abuse_email) or r.abuse_ref, r.id
        assert r.front_ends is None or r.front_ends_ref, r.id
        # A fact resting on no consulted source is listed as unconfirmed, and the reverse.
        for field, refs in (
            ("legal_seat_country", r.legal_seat_ref),
            ("match", r.match_ref),
            ("front_ends", r.front_ends_ref),
        ):
            if "unverified" in refs:
                assert field in r.unconfirmed, (r.id, field)
        if r.legal_seat_country is None:
            assert "legal_seat_country" in r.unconfirmed, r.id
        if not (r.report_url or r.abuse_email):
            assert {"report_url", "abuse_email"} & set(r.unconfirmed), r.id
        for name in (*r.psl_suffixes, *r.domains, *r.cname_suffixes):
            assert "." in name and name == name.lower().strip("."), (r.id, name)


def test_psl_suffixes_are_in_the_bundled_list_private_section(table: PlatformTable) -> None:
    text = _resources.data_path("psl/public_suffix_list.dat").read_text("utf-8")
    private = text.split("===BEGIN PRIVATE DOMAINS===", 1)[1].splitlines()
    rules = {line.strip() for line in private if line and not line.startswith("//")}
    for r in table.platforms:
        for suffix in r.psl_suffixes:
            assert suffix in rules, (r.id, suffix)


def test_source_info(table: PlatformTable) -> None:
    assert table.source_info() == _resources.source_info("platforms")
    assert table.source_info().origin == "bundled"


# -- matching ---------------------------------------------------------------------------

BY_URL = [
    # (reported URL, platform, matched by)
    ("https://someuser.github.io/page", "github_pages", "psl_private_suffix"),
    ("hxxps://a.b.github[.]io/", "github_pages", "psl_private_suffix"),
    ("github.io", "github_pages", "psl_private_suffix"),
    ("https://raw.githubusercontent.com/u/r/main/f", "github_usercontent", "psl_private_suffix"),
    ("http://someblog.blogspot.com/2026/01/x.html", "blogger", "psl_private_suffix"),
    ("https://proj.pages.dev/", "cloudflare_pages", "psl_private_suffix"),
    ("https://pub-0123.r2.dev/file.jpg", "cloudflare_r2", "psl_private_suffix"),
    ("https://w.acct.workers.dev/", "cloudflare_workers", "psl_private_suffix"),
    ("https://proj.web.app/", "firebase_hosting", "psl_private_suffix"),
    ("https://proj.firebaseapp.com/", "firebase_hosting", "psl_private_suffix"),
    ("https://app-1.herokuapp.com/", "heroku", "psl_private_suffix"),
    ("https://user.wixsite.com/site", "wix", "psl_private_suffix"),
    ("https://site.netlify.app/", "netlify", "psl_private_suffix"),
    ("https://app.vercel.app/", "vercel", "psl_private_suffix"),
    ("https://i.imgur.com/abc.jpg", "imgur", "domain"),
    ("imgur.com/gallery/x", "imgur", "domain"),
    ("https://someone.wordpress.com/", "wordpress_com", "domain"),
    ("https://someone.tumblr.com/post/1", "tumblr", "domain"),
    ("https://www.dropbox.com/s/x/f.zip", "dropbox", "domain"),
    ("https://mega.nz/file/abc", "mega", "domain"),
    ("https://www.mediafire.com/file/abc/f.zip", "mediafire", "domain"),
    ("https://i.ibb.co/abc/x.jpg", "imgbb", "domain"),
    ("https://cdn.discordapp.com/attachments/1/2/a.png", "discord_cdn", "domain"),
]


@pytest.mark.parametrize(("text", "pid", "how"), BY_URL, ids=[b[0] for b in BY_URL])
def test_match_by_url(table: PlatformTable, text: str, pid: str, how: str) -> None:
    platform = table.match(parse_reported_url(text))
    assert platform is not None
    assert (platform.id, platform.matched_by) == (pid, how)
    record = table.get(pid)
    assert record is not None
    assert (platform.name, platform.kind) == (record.name, record.kind)
    assert platform.legal_seat_country == record.legal_seat_country
    assert (platform.report_url, platform.abuse_email) == (record.report_url, record.abuse_email)


@pytest.mark.parametrize(
    "text",
    [
        "https://x.notgithub.io/",
        "https://github.io.evil.example/",
        "https://notimgur.com/a.jpg",
        "https://imgur.com.evil.example/",
        "https://blogspot.com.example.net/",
        "https://www.example.com/",
        "http://192.0.2.1/",
        "http://[2001:db8::1]/",
        "https://bit.ly/abc",  # a redirector, not a platform
        "https://discordapp.com/channels/1/2",  # Discord's chat, not its attachment hosts
    ],
)
def test_no_match_off_label_boundaries(table: PlatformTable, text: str) -> None:
    assert table.match(parse_reported_url(text)) is None


def test_private_suffix_only_when_the_psl_says_so(table: PlatformTable) -> None:
    # A PSL copy without the private section: the suffix is still found on the host,
    # but as a domain, since the list did not name it.
    parsed = parse_reported_url("user.github.io")
    older = table.match(msgspec.structs.replace(parsed, public_suffix="io"))
    assert older is not None and (older.id, older.matched_by) == ("github_pages", "domain")
    # A private suffix the table does not list is no platform.
    other = parse_reported_url("x.unknown-host.example")
    assert table.match(msgspec.structs.replace(other, public_suffix="unknown-host.example")) is None


CNAMES = [
    # (host, chain, platform)
    ("www.shop.example", ("www.shop.example", "someone.github.io"), "github_pages"),
    ("www.shop.example", ("www.shop.example", "cname.vercel-dns-0.com"), "vercel"),
    ("shop.example", ("shop.example", "x.y.vercel-dns.com"), "vercel"),
    ("www.shop.example", ("www.shop.example", "site.netlify.app"), "netlify"),
]


@pytest.mark.parametrize(("host", "chain", "pid"), CNAMES, ids=[c[2] + c[1][1] for c in CNAMES])
def test_match_by_cname(table: PlatformTable, host: str, chain: tuple[str, ...], pid: str) -> None:
    platform = table.match(parse_reported_url(host), chain)
    assert platform is not None and (platform.id, platform.matched_by) == (pid, "cname")


def test_cname_needs_a_label_boundary_and_the_host_comes_first(table: PlatformTable) -> None:
    url = parse_reported_url("www.shop.example")
    assert table.match(url, ("www.shop.example", "x.notvercel-dns.com")) is None
    assert table.match(url, ("www.shop.example", "vercel-dns.com.evil.example")) is None
    pages = table.match(parse_reported_url("a.github.io"), ("a.github.io", "x.vercel-dns.com"))
    assert pages is not None and pages.matched_by == "psl_private_suffix"
    assert table.match(url, ()) is None


REDIRECTS = {
    "https://bit.ly/3abc": "bitly",
    "bitly.com/x": "bitly",
    "https://t.co/xyz": "x_tco",
    "https://tinyurl.com/abc": "tinyurl",
    "https://goo.gl/abc": "google_goo_gl",
    "http://ow.ly/abc": "hootsuite_owly",
    "https://is.gd/abc": "isgd",
    "https://v.gd/abc": "isgd",
    "https://buff.ly/abc": "buffer_buffly",
    "https://rebrand.ly/abc": "rebrandly",
    "https://cutt.ly/abc": "cuttly",
    "https://shorturl.at/abc": "shorturl_at",
    "https://t.ly/abc": "tly",
    "https://www.bit.ly/abc": "bitly",
}


@pytest.mark.parametrize("text", sorted(REDIRECTS))
def test_redirector(table: PlatformTable, text: str) -> None:
    rid = REDIRECTS[text]
    found = table.redirector(parse_reported_url(text))
    assert found is not None
    assert (found.id, found.kind, found.matched_by) == (rid, "redirector", "domain")


@pytest.mark.parametrize(
    "text",
    [
        "https://notbit.ly/x",
        "https://bit.ly.evil.example/x",
        "https://someuser.github.io/",
        "https://ly/",
        "http://192.0.2.1/",
    ],
)
def test_not_a_redirector(table: PlatformTable, text: str) -> None:
    assert table.redirector(parse_reported_url(text)) is None


def test_front_ends_only_where_a_source_says(table: PlatformTable) -> None:
    assert table.serves_from_front_ends("github_pages")
    assert table.serves_from_front_ends("cloudflare_pages")
    assert table.serves_from_front_ends("vercel")
    assert not table.serves_from_front_ends("heroku")  # apps run in AWS regions
    assert not table.serves_from_front_ends("imgur")  # no source says
    assert not table.serves_from_front_ends("no_such_platform")


def test_channels_put_the_operators_choice_first(table: PlatformTable) -> None:
    # Cloudflare's own products take notices the way Cloudflare the proxy does: form first.
    proxy = ProviderTable.load().channels("cloudflare")
    for pid in ("cloudflare_pages", "cloudflare_r2", "cloudflare_workers"):
        assert table.channels(pid) == proxy, pid
    assert proxy[0].kind == "form"
    assert [c.kind for c in table.channels("rebrandly")] == ["email"]
    assert table.channels("imgur") == ()
    assert table.channels("no_such_platform") == ()


def test_matches_reuse_their_records(table: PlatformTable) -> None:
    url = parse_reported_url("https://a.github.io/")
    assert table.match(url) is table.match(url)


# -- other tables ---------------------------------------------------------------------


def _copy_with(tmp_path: Path, change: Callable[[dict[str, Any]], object]) -> Path:
    """The bundled table written to ``tmp_path`` after ``change`` edits its JSON."""
    doc = json.loads(_resources.data_path("platforms.json").read_text("utf-8"))
    change(doc)
    target = tmp_path / "platforms.json"
    target.write_text(json.dumps(doc), encoding="utf-8")
    return target


def test_user_table_is_loaded_with_path_origin(tmp_path: Path) -> None:
    loaded = PlatformTable.load(_copy_with(tmp_path, lambda doc: doc.update(updated="2027-01-02")))
    assert loaded.source_info().origin == "path"
    assert loaded.source_info().build_date == "2027-01-02"
    found = loaded.match(parse_reported_url("x.github.io"))
    assert found is not None and found.id == "github_pages"


def _first(doc: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = doc["platforms"][0]  # github_pages: seat, form, front ends
    return first


BROKEN: dict[str, Callable[[dict[str, Any]], object]] = {
    "unknown_ref": lambda d: _first(d).update(legal_seat_ref=["no-such-reference"]),
    "seat_without_ref": lambda d: _first(d).update(legal_seat_ref=[]),
    "channel_without_ref": lambda d: _first(d).update(abuse_ref=[]),
    "front_ends_without_ref": lambda d: _first(d).update(front_ends_ref=[]),
    "nothing_to_match": lambda d: _first(d).update(psl_suffixes=[], domains=[], cname_suffixes=[]),
    "bare_name": lambda d: _first(d).update(domains=["io"]),
    "suffix_twice": lambda d: d["platforms"][1].update(psl_suffixes=["github.io"]),
    "duplicate_id": lambda d: d["platforms"][1].update(id=_first(d)["id"]),
    "bad_kind": lambda d: _first(d).update(kind="social_network"),
    "redirector_kind": lambda d: d["redirectors"][0].update(kind="image_host"),
    "preferred_missing": lambda d: _first(d).update(abuse_preferred="email", abuse_email=None),
    "bad_seat": lambda d: _first(d).update(legal_seat_country="usa"),
    "unknown_unconfirmed": lambda d: _first(d).update(unconfirmed=["colour"]),
    "not_an_object": lambda d: d.update(platforms="none"),
}


@pytest.mark.parametrize("change", sorted(BROKEN))
def test_inconsistent_table_is_refused(tmp_path: Path, change: str) -> None:
    with pytest.raises(DataError, match=r"platforms\.json"):
        PlatformTable.load(_copy_with(tmp_path, BROKEN[change]))


def test_missing_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"absent\.json"):
        PlatformTable.load(tmp_path / "absent.json")


def test_record_is_plain_data(table: PlatformTable) -> None:
    record = table.get("github_pages")
    assert record is not None
    again = msgspec.json.decode(msgspec.json.encode(record), type=PlatformRecord)
    assert again == record
