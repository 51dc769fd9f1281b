"""``hostlocate data``: what data the verdicts rest on, and refreshing it."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``hostlocate data``."""
    parser.add_argument("action", choices=["status"], help="what to do")


def run(args: argparse.Namespace) -> int:
    """Print each bundled data set with its date, licence and where it was loaded from."""
    import sys

    from hostlocate import _resources

    folder = _resources.bundled()
    for relative, entry in folder.entries().items():
        info = folder.source_info(relative)
        sys.stdout.write(
            f"{entry.name:16} {info.build_date or '-':22} {info.licence or '-':12} {relative}\n"
        )
    return 0
