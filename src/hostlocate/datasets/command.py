"""The ``hostlocate data`` subcommand: its options, its output and its exit codes.

Only the command line needs argument parsing and terminal output; the library
calls it wraps stay usable from Python without them. Building the parser (which
every ``hostlocate`` command does) loads no download, update or export code:
those are imported by the action that runs them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TextIO

import msgspec

from hostlocate.datasets.resolution import resolve, stale_warnings, status
from hostlocate.datasets.sets import (
    DATASETS,
    DEFAULT_TIMEOUT,
    LICENCE_KEY_ENV,
    SOURCES,
    UPDATABLE,
    VENDORS,
)
from hostlocate.errors import ConfigError, DataError


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def _add_pairs(parser: argparse.ArgumentParser, flag: str, metavar: str, help: str) -> None:
    """A repeatable ``NAME=VALUE`` option, read into a list of pairs."""
    parser.add_argument(flag, action="append", type=_pair, default=[], metavar=metavar, help=help)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``hostlocate data``."""
    sub = parser.add_subparsers(dest="data_action", required=True, metavar="ACTION")

    p = sub.add_parser("status", help="each data set: date, age, origin, licence")
    p.add_argument("--data-dir", metavar="DIR", help="report a pinned data folder instead")
    p.add_argument("--dir", metavar="DIR", help="the user data folder (default: the platform's)")
    p.add_argument("--json", action="store_true", help="one JSON document")
    _add_pairs(p, "--max-age", "NAME=DAYS", "warn when a data set is older than DAYS (repeatable)")

    p = sub.add_parser("update", help="download fresh data into the user data folder")
    p.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"data sets to update (default: {' '.join(UPDATABLE)})",
    )
    p.add_argument("--dir", metavar="DIR", help="the folder to update (default: the user's)")
    _add_pairs(
        p,
        "--source",
        "NAME=URL",
        f"download from URL instead of the publisher; NAME one of {', '.join(SOURCES)}",
    )
    p.add_argument(
        "--maxmind-licence-key",
        metavar="KEY",
        help=f"MaxMind licence key for GeoLite2 (default: ${LICENCE_KEY_ENV})",
    )
    p.add_argument(
        "--geoip-vendor",
        choices=VENDORS,
        help="GeoIP publisher (default: maxmind with a licence key, else dbip)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"network timeout (default {DEFAULT_TIMEOUT:.0f})",
    )
    p.add_argument("--json", action="store_true", help="one JSON document")

    p = sub.add_parser("export", help="copy the data in use into DIR, to pin it with --data-dir")
    p.add_argument("target", metavar="DIR", help="a new or empty folder")
    p.add_argument("--data-dir", metavar="DIR", help="export a pinned data folder instead")
    p.add_argument("--dir", metavar="DIR", help="the user data folder (default: the platform's)")


def run(args: argparse.Namespace) -> int:
    """Run ``hostlocate data ACTION``: 0 done, 1 a data set failed, 2 bad usage."""
    try:
        if args.data_action == "status":
            return _status_command(args, sys.stdout, sys.stderr)
        if args.data_action == "update":
            return _update_command(args, sys.stdout, sys.stderr)
        return _export_command(args, sys.stdout)
    except ConfigError as exc:
        sys.stderr.write(f"hostlocate: {exc}\n")
        return 2
    except DataError as exc:
        sys.stderr.write(f"hostlocate: {exc}\n")
        return 1


def _max_ages(pairs: Sequence[tuple[str, str]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for name, days in pairs:
        if name not in DATASETS:
            raise ConfigError(f"--max-age: unknown data set {name!r}")
        if not days.isdigit() or int(days) < 1:
            raise ConfigError(f"--max-age {name}: {days!r} is not a positive number of days")
        out[name] = int(days)
    return out


def _status_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    limits = _max_ages(args.max_age)
    resolved = resolve(args.data_dir, user_dir=args.dir)
    rows = status(resolved, max_age=limits)
    warnings = stale_warnings(rows)
    for warning in warnings:
        err.write(f"hostlocate: warning: {warning}\n")
    if args.json:
        doc = {
            "pinned": str(resolved.pinned) if resolved.pinned else None,
            "user_dir": str(resolved.user_dir) if resolved.user_dir else None,
            "datasets": msgspec.to_builtins(rows),
            "notes": dict(resolved.notes),
            "warnings": warnings,
        }
        out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return 0
    if resolved.pinned:
        out.write(f"pinned data folder: {resolved.pinned}\n")
    else:
        out.write(f"user data folder: {resolved.user_dir}\n")
    out.write(
        f"{'data set':15} {'origin':8} {'data date':10} {'age':>6} {'':5}  {'version':26} licence\n"
    )
    for row in rows:
        age = "-" if row.age_days is None else f"{row.age_days} d"
        stale = "STALE" if row.stale else ""
        out.write(
            f"{row.name:15} {row.origin or '-':8} {(row.build_date or '-')[:10]:10} {age:>6} "
            f"{stale:5}  {(row.version or '-')[:26]:26} {row.licence or '-'}\n"
        )
    for row in rows:
        if row.note:
            out.write(f"  {row.name}: {row.note}\n")
    if "user folder" in resolved.notes:
        out.write(f"  user folder: {resolved.notes['user folder']}\n")
    return 0


def _update_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from hostlocate.datasets.updating import update

    sources: dict[str, str] = {}
    for name, url in args.source:
        if name in sources:
            raise ConfigError(f"--source {name} given twice")
        sources[name] = url
    if not args.timeout > 0:
        raise ConfigError("--timeout must be positive")
    results = update(
        args.names,
        target=args.dir,
        sources=sources,
        licence_key=args.maxmind_licence_key or os.environ.get(LICENCE_KEY_ENV) or None,
        vendor=args.geoip_vendor,
        timeout=args.timeout,
    )
    bad = [r for r in results if r.outcome in ("refused", "failed")]
    for r in bad:
        err.write(f"hostlocate: data update {r.name} {r.outcome}: {r.message}\n")
    if args.json:
        out.write(json.dumps(msgspec.to_builtins(results), indent=2, ensure_ascii=False) + "\n")
    else:
        for r in results:
            if r not in bad:
                out.write(f"{r.name}: {r.outcome}: {r.message}\n")
    return 1 if bad else 0


def _export_command(args: argparse.Namespace, out: TextIO) -> int:
    from hostlocate.datasets.exporting import export

    resolved = resolve(args.data_dir, user_dir=args.dir)
    written = export(args.target, resolved)
    for name, found in written.sets.items():
        out.write(f"{name:15} {found.entry.build_date or '-':22} {found.path}\n")
    out.write(f"pin it with: --data-dir {written.pinned}\n")
    return 0
