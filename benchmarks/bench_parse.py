"""Reported-URL parsing throughput against a naive baseline, on one core.

Builds a deterministic mixed corpus of 100,000 reported URLs drawn, with a
skewed (Zipf-like) choice, from a pool of hosts, so hosts repeat as they do in
real batches: ASCII names (some under PSL private suffixes), Unicode IDNs,
punycode, IPv4 in dotted, hexadecimal and 32-bit forms, IPv6 literals,
defanged reports, and junk. It then times, in alternating passes on the same
corpus:

* ``hostlocate``: :func:`hostlocate.parse.parse_reported_url`, its caches
  cleared before each pass (so each pass pays for its first sight of a host);
* ``baseline``: ``urllib.parse.urlsplit`` then ``idna.encode(host, uts46=True)``
  (what a script would do; it does less: no refanging, no PSL, no WHATWG
  host rules).

Run: ``python benchmarks/bench_parse.py [--urls N] [--passes N] [--check]``.
``--check`` exits 1 when hostlocate is under 3x the baseline's URLs/second.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import idna

from hostlocate import parse
from hostlocate.errors import InvalidURLError

SEED = 20261128
TARGET_RATIO = 3.0

_WORDS = tuple(
    [
        "shop",
        "news",
        "mail",
        "cdn",
        "static",
        "img",
        "video",
        "forum",
        "wiki",
        "blog",
        "secure",
        "login",
        "pay",
        "bank",
        "cloud",
        "files",
        "upload",
        "share",
        "media",
        "stream",
        "portal",
        "account",
        "update",
        "service",
        "app",
    ]
)
_TLDS = ("com", "net", "org", "de", "fr", "nl", "ru", "info", "io", "co.uk", "com.au", "jp", "xyz")
_PRIVATE = ("github.io", "blogspot.com", "herokuapp.com", "netlify.app", "s3.amazonaws.com")
_IDN_WORDS = ("bücher", "münchen", "straße", "españa", "пример", "例え", "παράδειγμα", "مثال")
_IDN_TLDS = ("de", "com", "рф", "中国", "jp", "net")
_PATH_WORDS = ("index.php", "a/b/c", "img/1.png", "dl", "login", "x", "gallery/2024", "view")


def _zipf_pick(rng: random.Random, pool: Sequence[str]) -> str:
    """A skewed choice: a few hosts dominate, as in real report batches."""
    index = min(int(rng.paretovariate(1.1)) - 1, len(pool) - 1)
    return pool[index]


def _host_pools(rng: random.Random) -> dict[str, list[str]]:
    def name() -> str:
        labels = [rng.choice(_WORDS) + str(rng.randrange(1000))]
        if rng.random() < 0.5:
            labels.insert(0, rng.choice(_WORDS))
        return ".".join(labels)

    ascii_hosts = [f"{name()}.{rng.choice(_TLDS)}" for _ in range(1500)]
    ascii_hosts += [f"{name()}.{rng.choice(_PRIVATE)}" for _ in range(200)]
    idn = [
        f"{rng.choice(_IDN_WORDS)}{rng.randrange(500)}.{rng.choice(_IDN_TLDS)}" for _ in range(400)
    ]
    punycode = [idna.encode(h, uts46=True).decode() for h in idn[:150]]
    ipv4 = [".".join(str(rng.randrange(1, 255)) for _ in range(4)) for _ in range(300)]
    ipv6 = [f"2001:db8:{rng.randrange(65536):x}::{rng.randrange(65536):x}" for _ in range(150)]
    ipv6 += [f"2a00:{rng.randrange(65536):x}:{rng.randrange(65536):x}::1" for _ in range(100)]
    return {"ascii": ascii_hosts, "idn": idn, "punycode": punycode, "ipv4": ipv4, "ipv6": ipv6}


def _path(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.3:
        return "/"
    tail = "/" + rng.choice(_PATH_WORDS)
    if roll < 0.6:
        tail += f"?id={rng.randrange(10**6)}"
    if roll > 0.9:
        tail += f"#s{rng.randrange(100)}"
    return tail


def _ipv4_form(rng: random.Random, dotted: str) -> str:
    parts = [int(p) for p in dotted.split(".")]
    roll = rng.random()
    if roll < 0.7:
        return dotted
    if roll < 0.8:
        return str((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3])
    if roll < 0.9:
        return ".".join(hex(p) for p in parts)
    return f"{parts[0]}.{(parts[1] << 16) | (parts[2] << 8) | parts[3]}"


def _defang(rng: random.Random, url: str) -> str:
    url = url.replace("http", rng.choice(("hxxp", "hXXp", "h**p")), 1)
    dot = rng.choice(("[.]", "(.)", "{.}", "[dot]"))
    head, sep, tail = url.partition("://")
    host, slash, rest = tail.partition("/")
    url = head + (rng.choice(("[://]", "[:]//")) if rng.random() < 0.3 else sep)
    return url + host.replace(".", dot) + slash + rest


_JUNK = (
    "",
    "   ",
    "not a url",
    "[::1",
    "http://",
    "javascript:alert(1)",
    "mailto:abuse@example.net",
    "http://exa mple.com/",
    "\U0001f600\U0001f600",
    "http://256.256.256.256/",
    "http://example.com:99999/",
    "zero\u200bwidth.example",
    "data:text/plain,hello",
)


def build_corpus(count: int, seed: int = SEED) -> list[str]:
    """*count* reported URLs, the same for a given seed."""
    rng = random.Random(seed)
    pools = _host_pools(rng)
    corpus: list[str] = []
    for _ in range(count):
        roll = rng.random()
        scheme = rng.choice(("http://", "https://", "https://", "http://", ""))
        port = f":{rng.choice((8080, 8443, 81))}" if rng.random() < 0.1 else ""
        if roll < 0.45:
            host = _zipf_pick(rng, pools["ascii"])
        elif roll < 0.57:
            host = _zipf_pick(rng, pools["idn"])
        elif roll < 0.62:
            host = _zipf_pick(rng, pools["punycode"])
        elif roll < 0.73:
            host = _ipv4_form(rng, _zipf_pick(rng, pools["ipv4"]))
        elif roll < 0.81:
            host = "[" + _zipf_pick(rng, pools["ipv6"]) + "]"
        elif roll < 0.91:
            host = _zipf_pick(rng, pools["ascii"])
            corpus.append(_defang(rng, "http://" + host + port + _path(rng)))
            continue
        else:
            junk = rng.choice(_JUNK)
            wrapped = rng.choice(('"{}"', "<{}>", "see {} now", "{}.", "{}"))
            host = _zipf_pick(rng, pools["ascii"])
            corpus.append(wrapped.format(rng.choice((junk, "https://" + host + "/x"))))
            continue
        corpus.append(scheme + host + port + _path(rng))
    return corpus


def run_hostlocate(corpus: Sequence[str]) -> int:
    """Parse every URL; return how many gave a host."""
    parse.clear_caches()
    ok = 0
    parse_url = parse.parse_reported_url
    for text in corpus:
        try:
            parse_url(text)
        except InvalidURLError:
            continue
        ok += 1
    return ok


def run_baseline(corpus: Sequence[str]) -> int:
    """``urlsplit`` + ``idna.encode(uts46=True)``; return how many gave a host."""
    urllib.parse.clear_cache()
    ok = 0
    for text in corpus:
        try:
            url = text if "://" in text else "http://" + text
            host = urllib.parse.urlsplit(url).hostname
            if not host:
                continue
            idna.encode(host, uts46=True)
        except (ValueError, idna.IDNAError, UnicodeError):
            continue
        ok += 1
    return ok


def _time(func: Callable[[Sequence[str]], int], corpus: Sequence[str]) -> tuple[float, int]:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        ok = func(corpus)
        return time.perf_counter() - start, ok
    finally:
        gc.enable()


def _pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity)"


def main(argv: Sequence[str] | None = None) -> int:
    """Build the corpus, time both candidates, print URLs/second and the ratio."""
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--urls", type=int, default=100_000)
    options.add_argument("--passes", type=int, default=3)
    options.add_argument("--check", action="store_true", help=f"exit 1 under {TARGET_RATIO}x")
    args = options.parse_args(argv)

    pinned = _pin_one_core()
    corpus = build_corpus(args.urls)
    parse.parse_reported_url("https://www.example.co.uk/")  # loads the PSL once, untimed
    print(f"corpus: {len(corpus):,} reported URLs (seed {SEED}), {pinned}")

    times: dict[str, list[float]] = {"hostlocate": [], "baseline": []}
    found: dict[str, int] = {}
    for _ in range(args.passes):
        for name, func in (("hostlocate", run_hostlocate), ("baseline", run_baseline)):
            elapsed, ok = _time(func, corpus)
            times[name].append(elapsed)
            found[name] = ok

    rates = {name: len(corpus) / statistics.median(ts) for name, ts in times.items()}
    for name, rate in rates.items():
        per_url = 1e6 / rate
        print(
            f"{name:<11} {rate:>10,.0f} URLs/s  {per_url:6.2f} µs/URL  "
            f"(median of {args.passes} passes; {found[name]:,} gave a host)"
        )
    ratio = rates["hostlocate"] / rates["baseline"]
    verdict = "meets" if ratio >= TARGET_RATIO else "BELOW"
    print(f"ratio       {ratio:.2f}x the baseline ({verdict} the {TARGET_RATIO:.0f}x target)")
    return 1 if args.check and ratio < TARGET_RATIO else 0


if __name__ == "__main__":
    raise SystemExit(main())
