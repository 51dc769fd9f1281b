"""Start-up cost: the import tree of the parser and the locator, and whole commands.

Prints, best of N runs each, side by side:

* the import time (``python -X importtime``) of ``import hostlocate.parse`` and
  ``import hostlocate.locator``, with the heaviest packages under each;
* the wall time of processes: ``python -c pass`` (the floor), one call of
  ``parse_reported_url`` (the parser and its suffix list alone), ``hostlocate
  parse URL`` and ``hostlocate locate --no-rdap http://1.1.1.1/`` (an IP
  literal: no DNS query; no RDAP: no traffic at all), with their ratio to the
  floor; wall time and CPU time (user + system, steadier on a busy machine).

Run: ``python benchmarks/bench_startup.py [--runs N]``. Every process gets this
checkout's ``src`` first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
IMPORTS = ("hostlocate.parse", "hostlocate.locator")
PARSE_URL = "hxxps://www.example[.]co.uk/gallery"
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
    (
        "hostlocate locate --no-rdap http://1.1.1.1/",
        ("-m", "hostlocate", "locate", "--no-rdap", "http://1.1.1.1/"),
    ),
)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(SRC), env.get("PYTHONPATH"))))
    return env


def import_tree(module: str, env: dict[str, str]) -> tuple[int, dict[str, int]]:
    """Microseconds to import *module* in a fresh interpreter, and per top package.

    Per package: the cumulative time of its outermost entry in the tree (what
    importing it, and what it imports, cost at the point it was first needed).
    """
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
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
    args = parser.parse_args(argv)
    env = _env()
    print(f"python {sys.version.split()[0]}, best of {args.runs} runs\n")

    print(f"{'import':<24}{'ms':>8}   heaviest packages under it (cumulative ms)")
    for module in IMPORTS:
        best: tuple[int, dict[str, int]] | None = None
        for _ in range(args.runs):
            found = import_tree(module, env)
            if best is None or found[0] < best[0]:
                best = found
        assert best is not None
        heavy = sorted(best[1].items(), key=lambda item: -item[1])[: args.top]
        shown = ", ".join(f"{name} {micros / 1000:.1f}" for name, micros in heavy)
        print(f"{module:<24}{best[0] / 1000:>8.1f}   {shown}")

    print(f"\n{'process':<48}{'wall ms':>9}{'x floor':>9}{'cpu ms':>9}{'x floor':>9}")
    floor: tuple[float, float] | None = None
    for label, command in COMMANDS:
        wall, cpu = best_process(command, env, args.runs)
        floor = floor or (wall, cpu)
        print(
            f"{label:<48}{wall * 1000:>9.1f}{wall / floor[0]:>8.1f}x"
            f"{cpu * 1000:>9.1f}{cpu / floor[1]:>8.1f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
