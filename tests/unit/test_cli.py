"""The command line's own rules: one version, one place for options and exit statuses."""

from __future__ import annotations

import json
import re
import socket
import tomllib
from pathlib import Path

import pytest

import hostlocate
from hostlocate.cli import build_parser, main

REPO = Path(__file__).resolve().parents[2]


def test_the_version_is_written_in_one_place() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    source = REPO / project["tool"]["hatch"]["version"]["path"]
    written = re.findall(r'^__version__ = "([^"]+)"$', source.read_text(), re.MULTILINE)
    assert written == [hostlocate.__version__]


def test_batch_options_are_parsed_by_the_command_line() -> None:
    args = build_parser().parse_args(["batch", "in.csv", "--inline-sources", "--concurrency", "3"])
    assert (args.input, args.inline_sources, args.concurrency) == ("in.csv", True, 3)
    batch_sources = (REPO / "src/hostlocate/batch").glob("*.py")
    for path in batch_sources:
        text = path.read_text(encoding="utf-8")
        assert "import argparse" not in text, path.name
        assert not re.search(r"\bEXIT_\w+ = \d", text), path.name


def test_a_registry_set_aside_is_said_once_on_stderr_naming_no_rdap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A bootstrap whose only service is a closed loopback port: the registry cannot
    # be reached, which the library logs once; the command prints it once.
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    services = [[["193.0.0.0/8"], [f"http://127.0.0.1:{port}/ripe/"]]]
    for kind in ("ipv4", "ipv6", "asn", "dns"):
        body = {"version": "1.0", "publication": "2026-12-01T00:00:00Z", "services": []}
        if kind == "ipv4":
            body["services"] = services
        (tmp_path / f"{kind}.json").write_text(json.dumps(body), encoding="utf-8")
    urls = [f"http://193.{n}.1.1/" for n in range(10, 18)]
    code = main(
        [
            "locate",
            "--json",
            "--nameserver",
            f"127.0.0.1:{port}",
            "--rdap-bootstrap",
            str(tmp_path),
            *urls,
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    verdicts = [json.loads(line) for line in captured.out.splitlines()]
    assert len(verdicts) == len(urls)
    assert {v["addresses"][0]["rdap_error"] for v in verdicts} == {"rdap_unreachable"}
    said = [line for line in captured.err.splitlines() if "--no-rdap" in line]
    assert len(said) == 1, captured.err
