"""Start-up cost: the import tree of the parser, the locator and the command, and whole commands.

Prints, best of N runs each, side by side:

* the import time (``python -X importtime``) of ``import hostlocate.parse``,
  ``import hostlocate.locator`` and of the whole ``hostlocate locate --no-rdap
  http://1.1.1.1/`` command, with the heaviest packages under each;
* the wall time of processes: ``python -c pass`` (the floor), one call of
  ``parse_reported_url`` (the parser and its suffix list alone), ``hostlocate
  parse URL`` and ``hostlocate locate --no-rdap http://1.1.1.1/`` (an IP
  literal: no DNS query; no RDAP: no traffic at all), with their ratio to the
  floor; wall time and CPU time (user + system, steadier on a busy machine).

Every process runs as an installed package does, from compiled bytecode: the
first (uncounted) run of each compiles into a temporary folder
(``PYTHONPYCACHEPREFIX``), the rest load from it; nothing is written into the
checkout. ``--source`` measures instead a checkout run with
``PYTHONDONTWRITEBYTECODE``, which compiles the package at every start.

Run: ``python benchmarks/bench_startup.py [--runs N] [--source] [--src DIR]``.
Every process gets this checkout's ``src`` (or ``--src DIR``: another tree's,
e.g. an earlier commit's from ``git archive``, for a before/after in one run)
first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PARSE_URL = "hxxps://www.example[.]co.uk/gallery"
LOCATE = ("-m", "hostlocate", "locate", "--no-rdap", "http://1.1.1.1/")
IMPORTS: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    # (label, python arguments, the module whose subtree counts; None: every import)
    ("import hostlocate.parse", ("-c", "import hostlocate.parse"), "hostlocate.parse"),
    ("import hostlocate.locator", ("-c", "import hostlocate.locator"), "hostlocate.locator"),
    ("locate --no-rdap IP (all)", LOCATE, None),
)
COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("python -c pass", ("-c", "pass")),
    (
        "parse_reported_url(URL) (the parser alone)",
        (
            "-c",
            f"from hostlocate.parse import parse_reported_url; parse_reported_url({PARSE_URL!r})",
        ),
    ),
    ("hostlocate parse URL", ("-m", "hostlocate", "parse", PARSE_URL)),
    ("hostlocate locate --no-rdap http://1.1.1.1/", LOCATE),
)


def _env(src: Path, bytecode: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(src), env.get("PYTHONPATH"))))
    if bytecode is not None:
        # As installed (pip compiles the package): bytecode is read, not made at each start.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(bytecode)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def import_tree(
    args: Sequence[str], module: str | None, env: dict[str, str]
) -> tuple[int, dict[str, int]]:
    """Microseconds of imports in a fresh ``python ARGS``, and per top package.

    With ``module``, only its subtree counts (importing it, and what it
    imports); without, every import of the run. Per package: the cumulative
    time of its outermost entry in the tree (what importing it, and what it
    imports, cost at the point it was first needed).
    """
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    entries: list[tuple[int, int, str]] = []  # (depth, cumulative µs, name), children first
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _, cumulative, name = line.split("|")
        if cumulative.strip().isdigit():  # not the header line
            depth = (len(name) - len(name.lstrip()) - 1) // 2
            entries.append((depth, int(cumulative), name.strip()))
    if module is None:
        start, end = 0, len(entries)
        total = sum(micros for depth, micros, _ in entries if depth == 0)
    else:
        end = next(i for i, (depth, _, name) in enumerate(entries) if depth == 0 and name == module)
        start = end
        while start > 0 and entries[start - 1][0] > 0:  # the subtree precedes its root
            start -= 1
        total = entries[end][1]
    packages: dict[str, int] = {}
    for _, micros, name in entries[start:end]:
        root = name.split(".")[0]
        if root != "hostlocate":
            packages[root] = max(packages.get(root, 0), micros)
    return total, packages


def best_process(args: Sequence[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """The best wall time and the best CPU time (user + system) of *runs* runs of
    ``python ARGS``, in seconds. CPU time varies less on a busy machine."""
    best_wall = best_cpu = float("inf")
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=env, check=True,
        )  # fmt: skip
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        best_wall, best_cpu = min(best_wall, wall), min(best_cpu, cpu)
    return best_wall, best_cpu


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help="runs of each measurement (best kept)")
    parser.add_argument("--top", type=int, default=8, help="heaviest packages shown per import")
    parser.add_argument(
        "--source", action="store_true", help="no compiled bytecode: compile at every start"
    )
    parser.add_argument(
        "--src", type=Path, default=SRC, metavar="DIR", help="the sources measured (default: ours)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as work:
        env = _env(args.src.resolve(), None if args.source else Path(work))
        for _, command in COMMANDS:  # compiles the bytecode (uncounted)
            best_process(command, env, 1)
        _report(args, env)
    return 0


def _report(args: argparse.Namespace, env: dict[str, str]) -> None:
    mode = "from source, no bytecode" if args.source else "from compiled bytecode"
    print(f"python {sys.version.split()[0]}, best of {args.runs} runs, {mode}, {args.src}\n")

    print(f"{'import':<30}{'ms':>8}   heaviest packages under it (cumulative ms)")
    for label, command, module in IMPORTS:
        best: tuple[int, dict[str, int]] | None = None
        for _ in range(args.runs):
            found = import_tree(command, module, env)
            if best is None or found[0] < best[0]:
                best = found
        assert best is not None
        heavy = sorted(best[1].items(), key=lambda item: -item[1])[: args.top]
        shown = ", ".join(f"{name} {micros / 1000:.1f}" for name, micros in heavy)
        print(f"{label:<30}{best[0] / 1000:>8.1f}   {shown}")

    print(f"\n{'process':<48}{'wall ms':>9}{'x floor':>9}{'cpu ms':>9}{'x floor':>9}")
    floor: tuple[float, float] | None = None
    for label, command in COMMANDS:
        wall, cpu = best_process(command, env, args.runs)
        floor = floor or (wall, cpu)
        print(
            f"{label:<48}{wall * 1000:>9.1f}{wall / floor[0]:>8.1f}x"
            f"{cpu * 1000:>9.1f}{cpu / floor[1]:>8.1f}x"
        )


if __name__ == "__main__":
    raise SystemExit(main())
