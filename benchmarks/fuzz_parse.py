"""Fuzz the reported-URL parser: for any ``str`` it returns or raises InvalidURLError.

Reported text is written by whoever made the report, sometimes to trip tools
up. :func:`hostlocate.parse.parse_reported_url` promises to raise nothing but
:class:`~hostlocate.InvalidURLError` (with an input error code) for any
string, and that a URL it accepts is usable: a host, a web scheme, a port in
range, and a normalised form that parses back to itself. This script checks
those promises on as many inputs as it is given.

Engines:

* ``atheris`` (default when installed: ``pip install atheris``): coverage-guided
  libFuzzer over the parser's own Python code, started from the seeds below
  (and, when present, the inputs of the shared conformance files, read in
  place). Each input's first byte picks how the rest is decoded: UTF-8 with
  undecodable bytes as lone surrogates, UTF-16 with lone surrogates kept, or
  UTF-32 (any code point).
* ``hypothesis``: random text from Hypothesis strategies, seeds first.

Run: ``python benchmarks/fuzz_parse.py --runs 1000000 [--engine E] [--corpus DIR]
[--src DIR]`` (further ``-flag=value`` arguments go to libFuzzer). A failing
input is also saved as a ``crash-*`` file in the corpus folder.
It prints ``inputs run: N`` at the end (and progress every 100,000 inputs) and
exits 1 on the first input that breaks a promise, after printing it.
``tests/unit/test_fuzz_parse.py`` runs the same check briefly in CI.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# Error codes the parser may give; any other code is a bug.
INPUT_CODES = frozenset(
    {
        "empty_input",
        "no_host",
        "bad_idna",
        "bad_ip_literal",
        "bad_port",
        "unsupported_scheme",
        "too_long",
        "bad_url",
        "bad_host",
    }
)
WEB_SCHEMES = frozenset({"http", "https", "ftp", "ws", "wss"})

SEEDS: tuple[str, ...] = (
    # plain and defanged
    "http://example.com/a?b=c#d",
    "hxxps://www[.]example[.]co[.]uk/a b",
    "hxxp[:]//bad[.]example(.)com[/]x",
    "h**ps://evil{.}org",
    "fxp://files[dot]example[dot]net/",
    "http[s]://example[.]com",
    "example[.com/path",
    "bad-dot-com",
    "www example . com",
    "\\x68ttp://a.b",
    "http%3A%2F%2Fexample.com%2Fpath",
    '"<https://example.com/x>",',
    "(see hxxps://example[.]org/a).",
    "//example.com",
    "mailto:a@example.com",
    "javascript:alert(1)",
    "user:pass@example.com:8080/p",
    # IDNA
    "http://bücher.de/",
    "http://xn--bcher-kva.de/",
    "http://xn--a.com/",
    "http://xn--.com/",
    "http://straße.de",
    "http://例え.テスト/",
    "http://пример.рф",
    "http://i❤.ws",
    "http://a\u200db.com",
    "http://a\u00adb.com",
    "http://ＥＸＡＭＰＬＥ．ｃｏｍ",
    "http://example\u3002com",
    # right to left
    "http://مثال.إختبار/",
    "http://\u05d0\u05d1.com",
    "http://a\u202eb.com/\u202e",
    "http://\u0627\u0661.com",
    # IP forms
    "http://0x7f.1/",
    "http://127.1",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://1.2.3.4.5/",
    "http://256.0.0.1/",
    "http://[::1]/",
    "http://[1::2::3]/",
    "http://[::ffff:192.0.2.1]:65535/",
    "http://[fe80::1%25eth0]/",
    "http://[v1.x]/",
    "2001:db8::1",
    "[2001:db8::1]:80/x",
    "193.0.6.139",
    "193,0,6,139",
    "http://example.com:99999/",
    "http://example.com:-1/",
    # sizes
    "http://" + "a" * 64 + ".com/",
    "http://" + ".".join(["a" * 63] * 5) + "/",
    "http://" + "a." * 130 + "com/",
    "http://example.com/" + "p" * 9000,
    "x" * 8193,
    "[" * 4000 + "]" * 4000,
    "hxxp://" + "a[.]" * 1000 + "com",
    # control characters, NULs, surrogates
    "",
    " \t\r\n",
    "\x00",
    "http://exa\x00mple.com/",
    "http://example.com\x00.evil.net/",
    "http://ex\tam\nple.com/",
    "\x01\x02http://example.com\x7f",
    "http://\ud800.com/",
    "http://a.com/\udfff",
    "\udc80\udc81",
    "http://%00.com",
    "http://%zz.com",
    "http://a%2eb.com",
    "http://\ufffd.com",
    "http://\U0001f600.com",
)


class Broken(AssertionError):
    """A URL the parser accepted breaks one of its promises (not a crash)."""

    def __init__(self, kind: str, text: str, detail: str) -> None:
        self.kind = kind
        super().__init__(f"{kind}: {text!r}: {detail}")


def check(text: str) -> None:
    """Parse *text*; raise :class:`Broken` if an accepted URL breaks a promise.

    An exception other than InvalidURLError (a crash) propagates as it is.
    """
    from hostlocate.errors import InvalidURLError
    from hostlocate.parse import parse_reported_url

    try:
        url = parse_reported_url(text)
    except InvalidURLError as exc:
        if exc.code.value not in INPUT_CODES:
            raise Broken("unknown error code", text, exc.code.value) from exc
        return
    if not (url.input is text and url.host and url.scheme in WEB_SCHEMES):
        raise Broken("unusable result", text, repr(url))
    if not 0 <= url.port <= 65535:
        raise Broken("port out of range", text, str(url.port))
    try:
        again = parse_reported_url(url.normalized)
    except InvalidURLError as exc:
        raise Broken("normalised URL refused", text, f"{url.normalized!r}: {exc}") from exc
    if (again.normalized, again.host) != (url.normalized, url.host):
        raise Broken("not a fixed point", text, f"{url.normalized!r} -> {again.normalized!r}")


# -- input decoding (atheris) ---------------------------------------------------------


def decode(data: bytes) -> str:
    """The text an input stands for; its first byte chooses the decoding."""
    if not data:
        return ""
    mode, body = data[0] % 3, data[1:]
    if mode == 0:
        return body.decode("utf-8", "surrogateescape")
    if mode == 1:
        return body[: len(body) & ~1].decode("utf-16-le", "surrogatepass")
    return body[: len(body) & ~3].decode("utf-32-le", "replace")


def encode(text: str) -> bytes:
    """An input that decodes to *text* (the inverse of :func:`decode`)."""
    try:
        return b"\x00" + text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return b"\x01" + text.encode("utf-16-le", "surrogatepass")


def shared_inputs() -> Iterator[str]:
    """Inputs of the shared conformance files, read in place, when they exist."""
    folder = ROOT.parent / "shared" / "conformance"
    for path in sorted(folder.glob("*.json")):
        try:
            cases = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for case in cases if isinstance(cases, list) else ():
            value = case.get("input") if isinstance(case, dict) else None
            if isinstance(value, str):
                yield value


# -- engines ------------------------------------------------------------------------


class Runner:
    """Runs :func:`check`, counts inputs and broken promises, keeps the slowest input.

    A crash propagates. A broken promise stops the run when ``strict``; else it
    is counted, and each kind printed once, so that a known parser bug does not
    hide crashes further on.
    """

    def __init__(self, *, strict: bool, runs: int, every: int = 100_000) -> None:
        self.strict = strict
        self.runs = runs
        self.exit_when_done = False
        self.reported = False
        self.every = every
        self.count = 0
        self.violations = 0
        self.kinds: set[str] = set()
        """Kinds of broken promise seen; the first input of each is printed."""
        self.slowest = (0.0, "")
        self.started = time.monotonic()

    def __call__(self, text: str) -> None:
        self.count += 1
        started = time.perf_counter()
        try:
            check(text)
        except Broken as exc:
            if self.strict:
                raise
            self.violations += 1
            if exc.kind not in self.kinds:
                self.kinds.add(exc.kind)
                print(f"promise broken: {exc}"[:500], file=sys.stderr, flush=True)
        except BaseException:
            print(f"crashing input: {text!r}", file=sys.stderr, flush=True)
            raise
        finally:
            spent = time.perf_counter() - started
            if spent > self.slowest[0]:
                self.slowest = (spent, text)
        if self.count % self.every == 0:
            rate = self.count / (time.monotonic() - self.started)
            print(f"inputs run: {self.count:,} ({rate:,.0f}/s)", file=sys.stderr, flush=True)
        if self.count == self.runs and self.exit_when_done:
            # libFuzzer would end the process with exit(): no atexit hooks, no report.
            self.report()
            os._exit(0)

    def report(self) -> None:
        if self.reported:
            return
        self.reported = True
        seconds, text = self.slowest
        print(f"slowest input: {seconds:.3f} s, {len(text)} chars: {text[:60]!r}", flush=True)
        kinds = ", ".join(sorted(self.kinds)) or "none"
        print(f"promises broken: {self.violations} ({kinds})", flush=True)
        elapsed = time.monotonic() - self.started
        print(f"inputs run: {self.count} in {elapsed:.0f} s", flush=True)


def run_atheris(runner: Runner, corpus: Path | None, extra: list[str]) -> int:
    import atexit

    import atheris

    with atheris.instrument_imports(include=["hostlocate"]):
        from hostlocate import parse  # noqa: F401

    check("http://example.com/")  # load the suffix list before anything is timed
    folder = corpus or Path(tempfile.mkdtemp(prefix="fuzz-parse-"))
    folder.mkdir(parents=True, exist_ok=True)
    for index, text in enumerate((*SEEDS, *shared_inputs())):
        (folder / f"seed-{index:05d}").write_bytes(encode(text))
    atexit.register(runner.report)
    runner.exit_when_done = True
    argv = [
        sys.argv[0],
        "-max_len=9000",
        "-timeout=10",
        f"-artifact_prefix={folder}/",
        *extra,
        str(folder),
    ]
    atheris.Setup(argv, lambda data: runner(decode(data)))
    atheris.Fuzz()
    return 0


def run_hypothesis(runner: Runner, runs: int) -> int:
    from hypothesis import HealthCheck, given, seed, settings

    @seed(20261128)
    @settings(
        max_examples=max(runs - len(SEEDS), 1),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(text_strategy())
    def fuzz(text: str) -> None:
        runner(text)

    check("http://example.com/")
    try:
        for text in SEEDS:
            runner(text)
        fuzz()
    finally:
        runner.report()
    return 0


def text_strategy() -> Any:
    """Hypothesis text: any code point (lone surrogates too), and URL-like pieces.

    The long seeds are left out of the pieces: a few of them joined cost more
    than a short run can afford (the long run and the seeds themselves cover them).
    """
    from hypothesis import strategies as st

    alphabet = st.characters(codec=None)
    pieces = st.one_of(
        st.sampled_from([seed for seed in SEEDS if len(seed) <= 200]),
        st.text(alphabet, max_size=40),
        st.sampled_from(
            ["http://", "hxxps[:]//", "[.]", "(.)", ".", ",", ":", "/", "@", "[", "]", "%", "xn--"]
        ),
    )
    return st.one_of(st.text(alphabet, max_size=300), st.lists(pieces, max_size=12).map("".join))


def bytes_strategy() -> Any:
    """Hypothesis bytes shaped like the long run's inputs (a decoding byte first)."""
    from hypothesis import strategies as st

    return st.binary(max_size=400)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=("atheris", "hypothesis"), default=None)
    parser.add_argument("--corpus", type=Path, help="libFuzzer corpus folder (atheris)")
    parser.add_argument(
        "--src", type=Path, default=ROOT / "src", help="the source tree to fuzz (default: ./src)"
    )
    parser.add_argument(
        "--strict", action="store_true", help="stop at the first broken promise, not only a crash"
    )
    args, extra = parser.parse_known_args(argv)
    sys.path.insert(0, str(args.src.resolve()))
    engine = args.engine
    if engine is None:
        engine = "atheris" if importlib.util.find_spec("atheris") else "hypothesis"
    spec = importlib.util.find_spec("hostlocate")  # not imported yet: atheris instruments it
    print(f"engine: {engine}, runs: {args.runs:,}, code: {spec.origin if spec else '?'}")
    runner = Runner(strict=args.strict, runs=args.runs)
    if engine == "atheris":
        return run_atheris(runner, args.corpus, extra)
    return run_hypothesis(runner, args.runs)


if __name__ == "__main__":
    sys.exit(main())
