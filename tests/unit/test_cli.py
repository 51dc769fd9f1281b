"""The command line's own rules: one version, one place for options and exit statuses."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import hostlocate
from hostlocate.cli import build_parser

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
