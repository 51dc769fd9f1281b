"""Public Suffix List matching on the bundled snapshot, private section included."""

from __future__ import annotations

import gc
import random
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import ada_url
import pytest
import tldextract

from hostlocate import psl
from hostlocate.errors import DataError
from hostlocate.psl import PublicSuffixes, SuffixMatch
from tests.conformance import corpus

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


# -- the matcher against its reference, tldextract ------------------------------------------


def _reference() -> Callable[[str], SuffixMatch]:
    """tldextract over the bundled list, its answers read as ``PublicSuffixes`` gives them."""
    engine = tldextract.TLDExtract(
        cache_dir=None,
        suffix_list_urls=(psl.default().path.resolve().as_uri(),),
        fallback_to_snapshot=False,
        include_psl_private_domains=True,
    )
    with warnings.catch_warnings():  # its file: adapter leaves the file to the GC
        warnings.simplefilter("ignore", ResourceWarning)
        engine.extract_str("example.com")
        gc.collect()

    def match(domain: str) -> SuffixMatch:
        name = domain.lower().removesuffix(".")
        labels = name.split(".")
        if not name or "" in labels or any(ch in name for ch in "/\\:@?#[]% \t"):
            return SuffixMatch(None, None, None, None)
        found = engine.extract_str(name, include_psl_private_domains=True)
        suffix = min(found.suffix.count(".") + 1 if found.suffix else 1, len(labels))
        icann = found.registry_suffix
        icann_len = min(icann.count(".") + 1 if icann else 1, len(labels))

        def tail(count: int) -> str | None:
            return ".".join(labels[-count:]) if count <= len(labels) else None

        return SuffixMatch(tail(suffix + 1), tail(suffix), tail(icann_len + 1), tail(icann_len))

    return match


def _sample(size: int) -> list[str]:
    """Names around every rule of the list (wildcards filled, exceptions, A-labels,
    case, trailing dots, deeper names) and random names under random rules."""
    text = psl.default().path.read_text(encoding="utf-8")
    rules = [
        line.split()[0] for line in text.splitlines() if line.strip() and not line.startswith("//")
    ]
    rng = random.Random(20261204)
    words = ["www", "a", "shop", "xn--bcher-kva", "b-c", "city", "mail", "0"]
    names: list[str] = []
    for rule in rules:
        base = rule.lstrip("!").replace("*", rng.choice(words))
        names += [base, "x." + base, "www.x." + base, base.upper() + "."]
        if not base.isascii():
            ascii_form = ada_url.idna.encode(base).decode("ascii")
            if ascii_form:
                names += [ascii_form, "www." + ascii_form]
        parent = base.partition(".")[2]
        if parent:
            names.append(f"{rng.choice(words)}.{parent}")
    while len(names) < size:
        rule = rng.choice(rules).lstrip("!")
        labels = [rng.choice(words) for _ in range(rng.randint(0, 3))]
        names.append(".".join([*labels, rule.replace("*", rng.choice(words))]))
    names += ["com", "x.y.notatld", "1.2.3.4", "xn--zz.com", "a.xn--", "!www.ck", "*.ck"]
    return names


def test_matcher_agrees_with_tldextract() -> None:
    """The flat table gives tldextract's answers over the PSL's own cases and a sample of
    names drawn around every rule of the bundled list."""
    reference = _reference()
    corpus_cases = [
        line.split("'")[1]
        for line in corpus("psl-dev.txt").read_text(encoding="utf-8").splitlines()
        if line.startswith("checkPublicSuffix('")
    ]
    names = corpus_cases + _sample(60_000)
    assert len(names) >= 60_000
    matcher = PublicSuffixes()
    misses = [
        f"{name!r}: {mine} != {theirs}"
        for name in names
        if (mine := matcher.match(name)) != (theirs := reference(name))
    ]
    assert matcher.prebuilt
    assert not misses, f"{len(misses)} of {len(names)} differ:\n" + "\n".join(misses[:20])


def test_prebuilt_table_is_the_bundled_lists() -> None:
    """The shipped table is what ``compile_nodes`` makes of the shipped list, and it is used."""
    nodes = psl.default().path.with_suffix(psl.NODES_SUFFIX)
    assert nodes.read_text(encoding="utf-8") == psl.compile_nodes(psl.default().path)
    fresh = PublicSuffixes()
    assert not fresh.prebuilt
    fresh.match("www.example.co.uk")
    assert fresh.prebuilt


def test_a_table_of_another_list_is_not_used(tmp_path: Path) -> None:
    """A list changed after its table was built is read again (by tldextract's parser)."""
    listing = tmp_path / "public_suffix_list.dat"
    bundled = psl.default().path
    listing.write_bytes(bundled.read_bytes().replace(b"\nco.uk\n", b"\n"))
    shutil.copy(bundled.with_suffix(psl.NODES_SUFFIX), tmp_path)
    changed = PublicSuffixes(listing)
    assert changed.registered_domain("www.example.co.uk") == "co.uk"
    assert not changed.prebuilt
    same = tmp_path / "same"
    same.mkdir()
    shutil.copy(bundled, same)
    shutil.copy(bundled.with_suffix(psl.NODES_SUFFIX), same)
    copied = PublicSuffixes(same / bundled.name)
    assert copied.registered_domain("www.example.co.uk") == "example.co.uk"
    assert copied.prebuilt


def test_default_path_imports_neither_tldextract_nor_requests() -> None:
    """Parsing on the bundled list loads the prebuilt table, not tldextract (and requests)."""
    code = (
        "import sys\n"
        "from hostlocate.parse import parse_reported_url\n"
        "url = parse_reported_url('https://a.b.example.co.uk/x')\n"
        "assert url.registered_domain == 'example.co.uk', url\n"
        "loaded = sorted({'tldextract', 'requests'} & set(sys.modules))\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
