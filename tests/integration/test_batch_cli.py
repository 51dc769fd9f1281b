"""``hostlocate batch`` end to end: the real command, the real locator, no network.

The inputs are IP literals and invalid text, which need no DNS (the resolver
given, 127.0.0.1:9, is never asked) and, with ``--no-rdap``, no registry; the
verdicts come from the bundled databases. A run is killed with SIGKILL midway
and resumed to prove that every input record ends up with exactly one verdict.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import pytest

from hostlocate.cli import main

REPO = Path(__file__).resolve().parents[2]
LOCATOR = ["--no-rdap", "--nameserver", "127.0.0.1:9"]
QUIET = [*LOCATOR, "--no-progress", "--no-cache"]

PUBLIC = [
    "193.0.6.139",
    "http://[2001:67c:2e8:22::c100:68b]/",
    "https://193.0.6.139:8443/x?y=1",
    "hxxp://193.0.6[.]139/defanged",
]
NON_PUBLIC = ["http://10.0.0.1/", "127.0.0.1", "http://[::1]/", "http://192.168.1.1/a"]
INVALID = ["", "   ", "not a url at all", "http://256.1.1.1/", "http://[1:2:3/"]
EXPECTED = {
    **dict.fromkeys(PUBLIC, "located"),
    **dict.fromkeys(NON_PUBLIC, "not_routable"),
    **dict.fromkeys(INVALID, "invalid"),
}


def mixed_inputs(n: int, seed: int = 7) -> list[str]:
    """n inputs of every kind, in a fixed random order (no DNS needed for any)."""
    rng = random.Random(seed)
    kinds = list(EXPECTED)
    out = []
    for i in range(n):
        pick = rng.random()
        if pick < 0.6:
            out.append(f"http://193.0.{rng.randrange(256)}.{rng.randrange(1, 255)}/r{i}")
        else:
            out.append(rng.choice(kinds))
    return out


def write_lines(path: Path, lines: Sequence[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def verdict_lines(data: bytes) -> list[dict[str, Any]]:
    """The verdicts of JSON lines output: the header record, first and only once, left out."""
    assert data == b"" or data.endswith(b"\n")
    lines = [json.loads(line) for line in data.splitlines()]
    if lines:
        assert lines[0]["schema"] == "hostlocate.batch/1"
        assert lines[0]["sources"]
    assert all(line["schema"] == "hostlocate.verdict/2" for line in lines[1:])
    return lines[1:]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return verdict_lines(path.read_bytes())


def assert_one_verdict_per_input(records: list[dict[str, Any]], inputs: Sequence[str]) -> None:
    assert [r["line"] for r in records] == list(range(1, len(inputs) + 1))
    assert [r["input"] for r in records] == list(inputs)


def run_main(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["batch", *argv])
    return code, capsys.readouterr().err


def cli_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), *filter(None, [env.get("PYTHONPATH")])])
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")  # never the user's cache
    return env


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "hostlocate", "batch", *args]


def finished(
    tmp_path: Path,
    *args: str,
    stdin: bytes | None = None,
    stdout: IO[bytes] | None = None,
    timeout: float = 120,
    argv: Callable[..., list[str]] = command,
) -> subprocess.CompletedProcess[bytes]:
    """``hostlocate batch ARGS`` (or ``argv(*ARGS)``) run to its end; stderr and stdout
    captured unless ``stdout`` is given."""
    return subprocess.run(
        argv(*args),
        input=stdin,
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.PIPE,
        env=cli_env(tmp_path),
        cwd=tmp_path,
        timeout=timeout,
        check=False,
    )


def resume(src: Path, out: Path, tmp_path: Path, timeout: float = 120) -> str:
    """Run ``batch SRC -o OUT --resume`` to its end; its stderr (the summary)."""
    done = finished(tmp_path, str(src), "-o", str(out), "--resume", *QUIET, timeout=timeout)
    assert done.returncode == 0, done.stderr.decode()
    return done.stderr.decode()


@contextlib.contextmanager
def batch_on_a_pipe(tmp_path: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """``batch - ARGS`` reading a pipe the test feeds; killed at the end if still running."""
    proc = subprocess.Popen(
        command("-", *args, *QUIET),
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(tmp_path),
        cwd=tmp_path,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        for stream in (proc.stdin, proc.stderr):
            if stream is not None:
                stream.close()


def complete_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


# -- through main() ------------------------------------------------------------------------------


def test_plain_file_gives_one_verdict_per_line_in_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = list(EXPECTED) * 3
    src = tmp_path / "urls.txt"
    write_lines(src, inputs)
    out = tmp_path / "out.jsonl"
    summary = tmp_path / "summary.json"
    code, err = run_main(
        [str(src), "-o", str(out), "--summary-json", str(summary), "--concurrency", "5", *QUIET],
        capsys,
    )
    assert code == 0
    records = read_jsonl(out)
    assert_one_verdict_per_input(records, inputs)
    assert [r["status"] for r in records] == [EXPECTED[i] for i in inputs]
    assert all(r["jurisdiction"]["country"] == "NL" for r in records if r["status"] == "located")
    assert all("record" not in r for r in records)
    data = json.loads(summary.read_text())
    assert data["records"] == len(inputs)
    assert data["status"] == {
        "invalid": 3 * len(INVALID),
        "located": 3 * len(PUBLIC),
        "not_routable": 3 * len(NON_PUBLIC),
    }
    assert data["countries"] == {"NL": 3 * len(PUBLIC)}
    assert data["errors"]["empty_input"] == 6
    assert data["cache"] is None
    assert data["records_per_s"] > 0
    assert f"{len(inputs)} records in" in err
    assert "located 12" in err


def test_bad_utf8_and_overlong_lines_still_get_one_verdict_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "urls.txt"
    src.write_bytes(
        b"\xef\xbb\xbf193.0.6.139\n\xff\xfe\xfd\n"
        + b"http://193.0.6.139/"
        + b"a" * 100_000
        + b"\n\n127.0.0.1"
    )
    out = tmp_path / "out.jsonl"
    code, _ = run_main([str(src), "-o", str(out), *QUIET], capsys)
    assert code == 0
    records = read_jsonl(out)
    assert [r["line"] for r in records] == [1, 2, 3, 4, 5]
    assert [r["status"] for r in records] == [
        "located",
        "invalid",
        "invalid",
        "invalid",
        "not_routable",
    ]
    assert records[1]["input"] == "\ufffd\ufffd\ufffd"
    assert records[2]["error"]["code"] == "too_long"
    assert records[3]["error"]["code"] == "empty_input"


CSV_TEXT = (
    "\ufeffcase,link,note\r\n"
    '1,193.0.6.139,"plain, with a comma"\r\n'
    '2,"http://10.0.0.1/?a=1,2","two\nlines ""quoted"""\r\n'
    "3,,empty link\r\n"
    "4,http://[2001:67c:2e8:22::c100:68b]/,ünïcødé\r\n"
)
CSV_ROWS = [
    {"case": "1", "link": "193.0.6.139", "note": "plain, with a comma"},
    {"case": "2", "link": "http://10.0.0.1/?a=1,2", "note": 'two\nlines "quoted"'},
    {"case": "3", "link": "", "note": "empty link"},
    {"case": "4", "link": "http://[2001:67c:2e8:22::c100:68b]/", "note": "ünïcødé"},
]
CSV_STATUS = ["located", "not_routable", "invalid", "located"]


def test_csv_columns_are_carried_into_json_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "reports.csv"
    src.write_text(CSV_TEXT, encoding="utf-8", newline="")
    out = tmp_path / "out.jsonl"
    code, _ = run_main([str(src), "-o", str(out), "--column", "link", *QUIET], capsys)
    assert code == 0
    records = read_jsonl(out)
    assert_one_verdict_per_input(records, [row["link"] for row in CSV_ROWS])
    assert [r["record"] for r in records] == CSV_ROWS
    assert [r["status"] for r in records] == CSV_STATUS


def test_csv_columns_are_carried_into_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "reports.txt"  # not named .csv: --csv says so
    src.write_text(CSV_TEXT, encoding="utf-8", newline="")
    out = tmp_path / "out.csv"  # CSV output chosen by the name
    code, _ = run_main([str(src), "--csv", "--column", "link", "-o", str(out), *QUIET], capsys)
    assert code == 0
    with open(out, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [{k: row[k] for k in ("case", "link", "note")} for row in rows] == CSV_ROWS
    assert [row["line"] for row in rows] == ["1", "2", "3", "4"]
    assert [row["status"] for row in rows] == CSV_STATUS
    assert rows[0]["country"] == "NL"
    assert rows[0]["addresses"] == "193.0.6.139"
    assert rows[0]["hotline"] != ""
    assert rows[1]["flags"] == "non_public_address"
    assert rows[1]["next_step"] == "manual_review"
    assert rows[2]["error_code"] == "empty_input"
    assert list(rows[0])[:3] == ["case", "link", "note"]


def test_plain_input_to_csv_has_a_url_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "urls.txt"
    write_lines(src, PUBLIC[:2])
    out = tmp_path / "out.txt"
    code, _ = run_main([str(src), "-o", str(out), "--format", "csv", *QUIET], capsys)
    assert code == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert rows[0][:3] == ["url", "line", "status"]
    assert [r[:3] for r in rows[1:]] == [[PUBLIC[0], "1", "located"], [PUBLIC[1], "2", "located"]]


def test_progress_bar_on_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "urls.txt"
    write_lines(src, list(EXPECTED))
    code, err = run_main(
        [str(src), "-o", str(tmp_path / "o.jsonl"), "--progress", *LOCATOR, "--no-cache"], capsys
    )
    assert code == 0
    assert f"{len(EXPECTED)}/{len(EXPECTED)}" in err
    assert "rec/s" in err


def test_usage_errors_exit_2_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.csv"
    src.write_text("link\n193.0.6.139\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, err = run_main([str(src), "-o", str(out), *QUIET], capsys)
    assert (code, out.exists()) == (2, False)
    assert "no column 'url'" in err
    code, err = run_main([str(src), "--column", "link", "--resume", *QUIET], capsys)
    assert code == 2
    assert "--resume needs -o" in err
    code, err = run_main([str(tmp_path / "missing.txt"), "-o", str(out), *QUIET], capsys)
    assert (code, out.exists()) == (2, False)


def test_resume_refuses_the_output_of_another_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    write_lines(first, PUBLIC + NON_PUBLIC)
    write_lines(second, NON_PUBLIC + PUBLIC)
    out = tmp_path / "out.jsonl"
    assert run_main([str(first), "-o", str(out), *QUIET], capsys)[0] == 0
    before = out.read_bytes()
    code, err = run_main([str(second), "-o", str(out), "--resume", *QUIET], capsys)
    assert code == 2
    assert "not the output of this input" in err
    assert out.read_bytes() == before
    # the same input: nothing to add
    code, err = run_main([str(first), "-o", str(out), "--resume", *QUIET], capsys)
    assert code == 0
    assert out.read_bytes() == before
    assert "0 records" in err
    assert f"resumed after {len(PUBLIC + NON_PUBLIC)}" in err


def test_persistent_cache_is_opened_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "urls.txt"
    write_lines(src, PUBLIC)
    cache = tmp_path / "cache" / "hostlocate.sqlite3"
    summary = tmp_path / "summary.json"
    code, err = run_main(
        [
            str(src),
            "-o",
            str(tmp_path / "out.jsonl"),
            "--cache",
            str(cache),
            "--summary-json",
            str(summary),
            "--no-progress",
            *LOCATOR,
        ],
        capsys,
    )
    assert code == 0, err
    assert cache.exists()
    assert json.loads(summary.read_text())["cache"]["path"] == str(cache)


# -- through a separate process ------------------------------------------------------------------


def test_stdin_to_stdout_in_a_subprocess(tmp_path: Path) -> None:
    inputs = list(EXPECTED)
    done = finished(tmp_path, "-", *QUIET, stdin="".join(i + "\n" for i in inputs).encode())
    assert done.returncode == 0, done.stderr.decode()
    records = verdict_lines(done.stdout)
    assert_one_verdict_per_input(records, inputs)
    assert [r["status"] for r in records] == [EXPECTED[i] for i in inputs]
    assert b"records in" in done.stderr


def wait_for(predicate: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_stdout_opened_by_the_shell_to_append_is_appended_to(tmp_path: Path) -> None:
    """``hostlocate batch in.txt >> log.jsonl``: what the file held stays."""
    src = tmp_path / "urls.txt"
    write_lines(src, PUBLIC)
    log = tmp_path / "log.jsonl"
    log.write_bytes(b'{"earlier":"run"}\n')
    with open(log, "ab") as appended:
        done = finished(tmp_path, str(src), *QUIET, stdout=appended)
    assert done.returncode == 0, done.stderr.decode()
    earlier, *rest = log.read_bytes().splitlines(keepends=True)
    assert earlier == b'{"earlier":"run"}\n'
    assert_one_verdict_per_input(verdict_lines(b"".join(rest)), PUBLIC)


def test_killed_while_reading_a_slow_pipe_then_resumed(tmp_path: Path) -> None:
    inputs = mixed_inputs(120)
    out = tmp_path / "out.jsonl"
    with batch_on_a_pipe(tmp_path, "-o", str(out), "--concurrency", "1") as proc:
        assert proc.stdin is not None
        for line in inputs[:50]:
            proc.stdin.write(line.encode() + b"\n")
            proc.stdin.flush()
        wait_for(lambda: complete_lines(out) >= 31, "the header and 30 verdicts")
        assert proc.poll() is None  # still waiting for input: killed midway
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    written = read_jsonl(out)
    assert 30 <= len(written) <= 50
    assert_one_verdict_per_input(written, inputs[: len(written)])
    with open(out, "ab") as f:  # what a write cut by a crash would leave
        f.write(b'{"line":%d,"schema":"hostlocate.verd' % (len(written) + 1))

    src = tmp_path / "urls.txt"
    write_lines(src, inputs)
    err = resume(src, out, tmp_path)
    assert f"resumed after {len(written)}" in err
    records = read_jsonl(out)
    assert_one_verdict_per_input(records, inputs)
    assert records[: len(written)] == written


def test_csv_killed_and_resumed_keeps_rows_whole(tmp_path: Path) -> None:
    inputs = mixed_inputs(80, seed=11)
    rows = [
        {"id": str(i), "url": url, "note": f'row {i}\nsecond line, "quoted" {"é" * (i % 3)}'}
        for i, url in enumerate(inputs, 1)
    ]
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, ["id", "url", "note"])
    writer.writeheader()
    writer.writerows(rows)
    payload = buffer.getvalue().encode()
    head, body = payload.split(b"\r\n", 1)
    out = tmp_path / "out.csv"
    proc = subprocess.Popen(
        command("-", "--csv", "-o", str(out), "--concurrency", "1", *QUIET),
        stdin=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=cli_env(tmp_path),
        cwd=tmp_path,
    )
    assert proc.stdin is not None
    try:
        proc.stdin.write(head + b"\r\n" + body[: len(body) // 2])
        proc.stdin.flush()
        wait_for(lambda: complete_lines(out) >= 40, "20 rows")
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdin.close()
    with open(out, "ab") as f:  # a row torn inside its quoted, multi-line cell
        f.write(b'99,"http://193.0.6.139/,"torn\r\n')

    src = tmp_path / "reports.csv"
    src.write_bytes(payload)
    err = resume(src, out, tmp_path)
    assert "resumed after" in err
    with open(out, encoding="utf-8", newline="") as f:
        got = list(csv.DictReader(f))
    assert [{k: r[k] for k in ("id", "url", "note")} for r in got] == rows
    assert [r["line"] for r in got] == [str(i) for i in range(1, len(rows) + 1)]
    assert [r["status"] for r in got if r["url"] in EXPECTED] == [
        EXPECTED[r["url"]] for r in got if r["url"] in EXPECTED
    ]


def test_killed_at_an_arbitrary_moment_of_a_large_file_then_resumed(tmp_path: Path) -> None:
    inputs = mixed_inputs(6000, seed=3)
    src = tmp_path / "urls.txt"
    write_lines(src, inputs)
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        command(str(src), "-o", str(out), *QUIET),
        stderr=subprocess.DEVNULL,
        env=cli_env(tmp_path),
        cwd=tmp_path,
    )
    try:
        wait_for(lambda: complete_lines(out) >= 300, "300 verdicts")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    kept = complete_lines(out)
    assert kept < len(inputs), "the run finished before it was killed: make the input larger"
    resume(src, out, tmp_path, timeout=300)
    records = read_jsonl(out)
    assert_one_verdict_per_input(records, inputs)
    statuses = {r["input"]: r["status"] for r in records if r["input"] in EXPECTED}
    assert statuses == {k: EXPECTED[k] for k in statuses}


def test_a_second_run_on_the_same_output_refuses_at_once(tmp_path: Path) -> None:
    inputs = mixed_inputs(60)
    out = tmp_path / "out.jsonl"
    with batch_on_a_pipe(tmp_path, "-o", str(out), "--concurrency", "1") as first:
        assert first.stdin is not None
        first.stdin.write("".join(f"{u}\n" for u in inputs[:30]).encode())
        first.stdin.flush()
        wait_for(lambda: complete_lines(out) >= 11, "the first run's first verdicts")
        other = tmp_path / "other.txt"
        write_lines(other, PUBLIC)
        for extra in ([], ["--resume"]):
            started = time.monotonic()
            second = finished(tmp_path, str(other), "-o", str(out), *extra, *QUIET, timeout=60)
            assert second.returncode == 2, second.stderr.decode()
            assert "being written by another hostlocate batch" in second.stderr.decode()
            assert time.monotonic() - started < 30  # refused at once, not after waiting
        first.stdin.write("".join(f"{u}\n" for u in inputs[30:]).encode())
        first.stdin.close()
        assert first.wait(timeout=120) == 0
    assert_one_verdict_per_input(read_jsonl(out), inputs)  # the first run's file is whole


def test_a_stray_csv_quote_is_reported_and_loses_no_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [f"{i},http://193.0.6.{i % 250 + 1}/r{i}" for i in range(1, 1001)]
    rows[1] = '2,"http://193.0.6.3/stray'  # a quote opened and never closed
    src = tmp_path / "in.csv"
    src.write_text("id,url\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    summary = tmp_path / "summary.json"
    code, err = run_main([str(src), "-o", str(out), "--summary-json", str(summary), *QUIET], capsys)
    assert code == 0
    assert "line 3: a quote opened in this row is never closed" in err
    assert "1 CSV row(s) with a quote never closed: line 3" in err
    records = read_jsonl(out)
    assert [r["line"] for r in records] == list(range(1, 1001))
    assert records[1]["status"] == "invalid"
    assert records[1]["record"]["id"] == "2"
    assert [r["status"] for r in records[2:]] == ["located"] * 998
    data = json.loads(summary.read_text())
    assert (data["unclosed_quotes"], data["unclosed_quote_lines"]) == (1, [3])


def test_json_lines_write_the_sources_once_unless_asked_inline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = PUBLIC * 5
    src = tmp_path / "urls.txt"
    write_lines(src, inputs)
    shared, inline = tmp_path / "shared.jsonl", tmp_path / "inline.jsonl"
    assert run_main([str(src), "-o", str(shared), *QUIET], capsys)[0] == 0
    assert run_main([str(src), "-o", str(inline), "--inline-sources", *QUIET], capsys)[0] == 0
    header = json.loads(shared.read_bytes().splitlines()[0])
    lines = read_jsonl(shared)
    assert all(line["provenance"]["sources"] == {} for line in lines)
    full = [json.loads(line) for line in inline.read_bytes().splitlines()]
    assert [line["line"] for line in full] == list(range(1, len(inputs) + 1))
    assert all(line["provenance"]["sources"] == header["sources"] for line in full)
    assert all(line["schema"] == "hostlocate.verdict/2" for line in full)
    saved = (inline.stat().st_size - shared.stat().st_size) / len(inputs)
    assert saved > 500  # bytes a line; docs/batch.md gives the measured figure

    # resuming keeps the file's own choice: a header once, or the sources inline
    def shape(path: Path) -> list[tuple[Any, ...]]:
        lines = [json.loads(line) for line in path.read_bytes().splitlines()]
        return [
            (x.get("line"), x.get("input"), x.get("status"), x.get("provenance", x)["sources"])
            for x in lines
        ]

    for path in (shared, inline):
        whole = path.read_bytes()
        before = shape(path)
        path.write_bytes(whole[: whole.index(b"\n", len(whole) // 2) + 1])
        assert run_main([str(src), "-o", str(path), "--resume", *QUIET], capsys)[0] == 0
        assert shape(path) == before


# -- the persistent cache across runs, on the loopback test internet ----------------------------

LAB_HOSTS = [
    "hxxp://www.ovh-site[.]fr/x",
    "v6only.ovh-site.fr",
    "https://www.brand-shop.com/a",
    "rr.multi-host.com",
    "www.cn-site.com",
    "nope.corp-site.com",  # NXDOMAIN: negative answers are kept too
]


@pytest.mark.integration
def test_a_second_run_is_answered_from_the_persistent_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dns_lab: Any
) -> None:
    inputs = LAB_HOSTS * 3
    src = tmp_path / "urls.txt"
    write_lines(src, inputs)
    cache = tmp_path / "cache.sqlite3"

    def run(name: str) -> tuple[dict[str, Any], list[dict[str, Any]], float]:
        before = dns_lab.stats()["total.num.queries"]
        out, summary = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.json"
        argv = [str(src), "-o", str(out), "--cache", str(cache), "--summary-json", str(summary)]
        code, err = run_main(
            [*argv, "--no-rdap", "--nameserver", dns_lab.resolver, "--no-progress"], capsys
        )
        assert code == 0, err
        asked = dns_lab.stats()["total.num.queries"] - before
        return json.loads(summary.read_text()), read_jsonl(out), asked

    first, first_records, first_asked = run("first")
    assert_one_verdict_per_input(first_records, inputs)
    assert first_asked > 0
    assert first["cache"]["namespaces"]["dns-part"]["hits"] == 0
    assert first["status"] == {"located": 15, "unresolved": 3}

    second, second_records, second_asked = run("second")  # a new process would see the same
    assert second_asked == 0
    assert second["cache"]["namespaces"]["dns-part"] == {  # A and AAAA kept apart
        "hits": 2 * len(LAB_HOSTS),
        "misses": 0,
        "hit_rate": 1.0,
    }
    assert [(r["status"], r["jurisdiction"]) for r in second_records] == [
        (r["status"], r["jurisdiction"]) for r in first_records
    ]
