"""The command at a real terminal and in real pipes: closed readers, Ctrl-C, a full disk.

Each test runs ``python -m hostlocate`` as a process, since what is proven is
about file descriptors and signals. No network: the inputs are IP literals and
names under ``.invalid``, and the resolver given (127.0.0.1:9) is never asked.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hostlocate.cli import main
from tests._need import absent
from tests.integration.test_batch_cli import (
    LOCATOR,
    QUIET,
    batch_on_a_pipe,
    cli_env,
    complete_lines,
    finished,
    mixed_inputs,
    read_jsonl,
    wait_for,
    write_lines,
)

TRACES = ("Traceback", "BrokenPipeError", "KeyboardInterrupt", "Exception ignored", "destroyed")


def hostlocate(*args: str) -> list[str]:
    return [sys.executable, "-m", "hostlocate", *args]


def assert_no_trace(stderr: str) -> None:
    for word in TRACES:
        assert word not in stderr, stderr


# -- a reader that goes away ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["schema"],
        ["parse", "-"],
        ["parse", "--json", "-"],
        ["locate", "-", *LOCATOR],
        ["locate", "--json", "-", *LOCATOR],
        ["batch", "-", *QUIET],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_a_closed_pipe_ends_the_command_quietly(args: list[str], tmp_path: Path) -> None:
    """``hostlocate ... | head`` once head has gone: status 141 (SIGPIPE's), no traceback."""
    proc = subprocess.Popen(
        hostlocate(*args),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(tmp_path),
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # the reader is gone before the first write
    inputs = "".join(f"http://193.0.{i % 250}.{i % 200 + 1}/{i}\n" for i in range(2000))
    _, err = proc.communicate(inputs.encode(), timeout=120)
    assert proc.returncode == 141, err.decode()
    assert_no_trace(err.decode())
    if args[0] == "batch":
        assert "the output was closed" in err.decode()


def test_head_of_a_pipe_through_a_shell(tmp_path: Path) -> None:
    """The shell's own ``| head -c 100``: what the reader asked for arrives, nothing else."""
    if shutil.which("bash") is None or shutil.which("head") is None:
        absent("needs bash and head")
    line = " ".join(hostlocate("locate", "-", *LOCATOR))
    script = f"set -o pipefail; yes 193.0.6.139 | head -n 3000 | {line} | head -c 100"
    done = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        env=cli_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert len(done.stdout) == 100
    assert done.returncode in (0, 141), done.stderr.decode()
    assert_no_trace(done.stderr.decode())


# -- Ctrl-C --------------------------------------------------------------------------------------


@pytest.fixture
def waiting_locate(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        hostlocate("locate", "-", "--json", *LOCATOR),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(tmp_path),
        cwd=tmp_path,
    )
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=30)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def test_ctrl_c_on_locate_exits_130_without_a_traceback(
    waiting_locate: subprocess.Popen[bytes],
) -> None:
    proc = waiting_locate
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"193.0.6.139\n")
    proc.stdin.flush()
    assert json.loads(proc.stdout.readline())["status"] == "located"  # it waits for more
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130  # stdin still open: Ctrl-C does not wait for it
    assert proc.stderr is not None
    err = proc.stderr.read()
    assert_no_trace(err.decode())
    assert "interrupted" in err.decode()


def test_ctrl_c_on_batch_exits_130_and_the_summary_says_interrupted(tmp_path: Path) -> None:
    inputs = mixed_inputs(40)
    out = tmp_path / "out.jsonl"
    summary = tmp_path / "summary.json"
    with batch_on_a_pipe(tmp_path, "-o", str(out), "--summary-json", str(summary)) as proc:
        assert proc.stdin is not None and proc.stderr is not None
        proc.stdin.write("".join(f"{u}\n" for u in inputs[:20]).encode())
        proc.stdin.flush()
        wait_for(lambda: complete_lines(out) >= 20, "the header and 19 verdicts")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)  # stdin still open: Ctrl-C does not wait for it
        err = proc.stderr.read()
    assert proc.returncode == 130, err.decode()
    assert_no_trace(err.decode())
    assert "INTERRUPTED (continue with --resume)" in err.decode()
    data = json.loads(summary.read_text())
    assert data["interrupted"] is True
    assert data["records"] == len(read_jsonl(out)) >= 19


# -- a full disk ---------------------------------------------------------------------------------


def fails_for_a_full_disk(tmp_path: Path, *args: str) -> str:
    """Run the command with stdout on /dev/full; check it fails cleanly; its stderr."""
    with open("/dev/full", "wb") as full:
        done = finished(tmp_path, *args, stdout=full, argv=hostlocate)
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert "No space left on device" in err
    assert_no_trace(err)
    return err


def test_batch_to_a_full_device_stops_with_a_message_and_counts_nothing(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        absent("needs /dev/full")
    src = tmp_path / "urls.txt"
    write_lines(src, mixed_inputs(50))
    summary = tmp_path / "summary.json"
    for target in (["-o", "/dev/full"], []):
        fails_for_a_full_disk(
            tmp_path, "batch", str(src), "--summary-json", str(summary), *target, *QUIET
        )
        data = json.loads(summary.read_text())
        assert data["records"] == 0
        assert data["stopped"].endswith("No space left on device")


def test_locate_to_a_full_device_stops_with_a_message(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        absent("needs /dev/full")
    fails_for_a_full_disk(tmp_path, "locate", "193.0.6.139", *LOCATOR)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs, where this process may mount one (root); else the test is skipped
    (a failure under CI, which runs as root)."""
    mount = shutil.which("mount")
    where = tmp_path / "tiny"
    where.mkdir()
    if mount is None:
        absent("needs the mount command (util-linux)")
    done = subprocess.run(
        [mount, "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        absent(f"cannot mount a tmpfs here (root needed): {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


def test_a_disk_that_fills_midway_leaves_a_summary_of_what_the_file_holds(
    tiny_disk: Path, tmp_path: Path
) -> None:
    inputs = mixed_inputs(400)
    src = tmp_path / "urls.txt"
    write_lines(src, inputs)
    out = tiny_disk / "out.jsonl"
    summary = tmp_path / "summary.json"
    err = fails_for_a_full_disk(
        tmp_path, "batch", str(src), "-o", str(out), "--summary-json", str(summary), *QUIET
    )
    data = out.read_bytes()
    whole = data[: data.rfind(b"\n") + 1]
    held = len(whole.splitlines()) - 1  # less the header record
    assert 0 < held < len(inputs)
    assert json.loads(summary.read_text())["records"] == held
    assert f"{held:,} records" in err


# -- what a person reads -------------------------------------------------------------------------


def test_an_unknown_registry_rate_is_a_usage_error_naming_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["locate", "--rdap-rate", "nosuch=1", "193.0.6.139", *LOCATOR]) == 2
    err = capsys.readouterr().err
    assert "no registry 'nosuch'" in err
    for known in ("afrinic", "apnic", "arin", "lacnic", "ripe"):
        assert known in err
    assert main(["batch", "-", "--rdap-rate", "RIPE=0.5", "--rdap-rate", "*=2", "--help"]) == 0


def test_parse_shows_errors_as_text_and_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "http://[1:2", "hxxp://bücher[.]example/"]) == 0
    out = capsys.readouterr().out
    assert "error                    bad_ip_literal: " in out
    assert "{'code'" not in out and "None" not in out and "True" not in out
    assert "host_unicode             bücher.example" in out
    assert main(["parse", "--json", "http://[1:2"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["error"]["code"] == "bad_ip_literal"


def test_readable_locate_shows_reasons_and_the_unicode_host(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["locate", "http://bücher.invalid/", *LOCATOR]) == 0
    out = capsys.readouterr().out
    assert "  host       bücher.invalid  (xn--bcher-kva.invalid)" in out
    assert "  reason     a special-use name" in out
