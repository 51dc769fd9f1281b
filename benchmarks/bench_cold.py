"""The cold path at the wire: hostlocate against dnspython's own resolver, and under load.

Everything runs on the loopback test internet (``tests/netlab``): NSD and
unbound, behind a forwarder that holds every answer back ``--latency-ms`` (30
ms), like a resolver across the internet. Nothing leaves 127.0.0.0/8. Every
run asks names nobody asked before, under the lab's wildcard
``*.bulk.bench-lab.com`` (A: the address of h0; AAAA: NODATA), so unbound
must ask NSD for each: every run is cold.

Throughput, ``--rounds`` interleaved rounds, best of them per contender, each
over ``--names`` fresh names (A and AAAA each) at ``--concurrency`` in flight:

* (a) **ceiling**: ``dns.asyncresolver.Resolver`` (no cache), one name's A and
  AAAA together, ``--concurrency`` names at a time, in a process of its own;
* (b) **DnsClient**: hostlocate's DNS client alone, the same way;
* (c) **batch**: ``python -m hostlocate batch --no-rdap --no-cache
  --concurrency N`` as a whole process over ``--records`` records of those
  names (each name 1-5 times, shuffled); its rate is names over the command's
  own elapsed time (``--summary-json``), and the process's wall time is shown
  beside it.

Load: ``hostlocate batch --no-rdap`` at ``--load`` in flight (512 and 2,048)
over ``--load-records`` records, each a fresh name that exists; an answer is
*lost* when its record comes out ``dns_timeout`` (or any DNS failure). The
ceiling runs the same names at the same concurrency for comparison.

Run: ``python benchmarks/bench_cold.py`` (about two minutes), ``--quick`` for
a smoke run. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO)]

WILDCARD = "bulk.bench-lab.com"
SEED = 20261204


def fresh_names(tag: str, count: int) -> list[str]:
    """Names under the lab's wildcard that no earlier run asked."""
    return [f"{tag}-{i}.{WILDCARD}" for i in range(count)]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO)])
    return env


# -- children: one contender each, in a process of its own ---------------------------------------


async def _ceiling(names: list[str], nameserver: str, concurrency: int) -> dict[str, Any]:
    import dns.asyncresolver
    import dns.exception
    import dns.resolver

    host, _, port = nameserver.rpartition(":")
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = int(port)
    resolver.cache = None
    resolver.timeout = 2.0
    resolver.lifetime = 5.0
    slots = asyncio.Semaphore(concurrency)
    outcomes: Counter[str] = Counter()

    async def one(rdtype: str, name: str) -> None:
        try:
            await resolver.resolve(name, rdtype, raise_on_no_answer=False)
            outcomes["ok"] += 1
        except dns.resolver.LifetimeTimeout:
            outcomes["timeout"] += 1
        except dns.exception.DNSException as exc:
            outcomes[type(exc).__name__] += 1

    async def name_task(name: str) -> None:
        async with slots:
            await asyncio.gather(one("A", name), one("AAAA", name))

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(name_task(n) for n in names))
    return {
        "elapsed_s": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu,
        "outcomes": dict(outcomes),
    }


async def _client(names: list[str], nameserver: str, concurrency: int) -> dict[str, Any]:
    from hostlocate.sources.dns import DnsClient

    client = DnsClient([nameserver])
    slots = asyncio.Semaphore(concurrency)
    outcomes: Counter[str] = Counter()

    async def name_task(name: str) -> None:
        async with slots:
            deadline = time.monotonic() + 5.0
            parts = await asyncio.gather(
                client.resolve_part(name, "A", deadline=deadline),
                client.resolve_part(name, "AAAA", deadline=deadline),
            )
            for part in parts:
                outcomes[part.error or "ok"] += 1

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(name_task(n) for n in names))
    elapsed = time.perf_counter() - started
    path = next(iter(client.transport.paths.values()))
    return {
        "elapsed_s": elapsed,
        "cpu_s": time.process_time() - cpu,
        "outcomes": dict(outcomes),
        "losses": path.losses,
        "window": round(path.window, 1),
        "ignored": client.transport.ignored,
    }


def child_main(argv: list[str]) -> None:
    kind, nameserver, concurrency, names_file = argv
    names = Path(names_file).read_text().split()
    run = _ceiling if kind == "ceiling" else _client
    print(json.dumps(asyncio.run(run(names, nameserver, int(concurrency)))))


def run_child(kind: str, names: list[str], nameserver: str, concurrency: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
        f.write("\n".join(names))
        f.flush()
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, __file__, "--child", kind, nameserver, str(concurrency), f.name],
            capture_output=True,
            text=True,
            env=child_env(),
            cwd=REPO,
            check=False,
        )
        wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{done.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    out["wall_s"] = wall
    out["hosts_per_s"] = len(names) / out["elapsed_s"]
    return out


def run_batch(
    records: list[str], nameserver: str, concurrency: int, work: Path, tag: str
) -> dict[str, Any]:
    """``hostlocate batch --no-rdap`` as a whole process; its verdicts tallied."""
    source = work / f"{tag}.txt"
    output = work / f"{tag}.jsonl"
    summary = work / f"{tag}.summary.json"
    source.write_text("".join(f"http://{r}/\n" for r in records))
    options = {
        "--output": str(output),
        "--nameserver": nameserver,
        "--concurrency": str(concurrency),
        "--summary-json": str(summary),
    }
    flags = ["--no-rdap", "--no-cache", "--no-progress"]
    argv = [sys.executable, "-m", "hostlocate", "batch", str(source), *flags]
    for option, value in options.items():
        argv += [option, value]
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        argv, capture_output=True, text=True, env=child_env(), cwd=REPO, check=False
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if done.returncode != 0:
        raise RuntimeError(f"batch failed ({done.returncode}):\n{done.stderr[-3000:]}")
    codes: Counter[str] = Counter()
    with output.open() as f:
        for line in f:
            verdict = json.loads(line)
            error = verdict.get("error")
            codes[error["code"] if error else verdict["status"]] += 1
    elapsed = json.loads(summary.read_text())["elapsed_s"]
    names = len(set(records))
    return {
        "elapsed_s": elapsed,
        "wall_s": wall,
        "cpu_s": cpu,
        "records": len(records),
        "names": names,
        "hosts_per_s": names / elapsed,
        "outcomes": dict(codes),
    }


def batch_records(names: list[str], count: int, seed: int) -> list[str]:
    """``count`` records over ``names``: each name at least once, shuffled."""
    rng = random.Random(seed)
    records = list(names) + [rng.choice(names) for _ in range(count - len(names))]
    rng.shuffle(records)
    return records


def lost(outcomes: dict[str, int]) -> int:
    """Records or queries of names that exist which did not get their answer."""
    failures = ("dns_timeout", "dns_error", "dns_refused", "servfail", "unresolved", "timeout")
    return sum(n for code, n in outcomes.items() if code in failures)


# -- the run ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from tests.netlab import start_dns_lab

    results: dict[str, Any] = {"options": vars(args), "rounds": [], "load": []}
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        work = Path(tmp)
        with start_dns_lab(work / "lab", latency_ms=args.latency_ms) as lab:
            assert lab.slow is not None
            ns = lab.slow
            print(
                f"resolver {lab.resolver} behind a {args.latency_ms:g} ms forwarder at {ns}; "
                f"{args.names:,} fresh names (A and AAAA) a run, {args.concurrency} in flight",
                flush=True,
            )
            # Warm the lab's own paths (root, com, bench-lab.com) and the interpreters' caches.
            run_child("ceiling", fresh_names("warmup", 200), ns, args.concurrency)
            for r in range(args.rounds):
                row: dict[str, Any] = {}
                order = ["ceiling", "client", "batch"]
                random.Random(SEED + r).shuffle(order)
                for kind in order:
                    names = fresh_names(f"r{r}{kind[:2]}", args.names)
                    if kind == "batch":
                        records = batch_records(names, args.records, SEED + r)
                        row[kind] = run_batch(records, ns, args.concurrency, work, f"r{r}")
                    else:
                        row[kind] = run_child(kind, names, ns, args.concurrency)
                results["rounds"].append(row)
                print(
                    f"round {r + 1}: "
                    + ", ".join(f"{k} {row[k]['hosts_per_s']:,.0f}/s" for k in order),
                    flush=True,
                )
            for n in args.load:
                names = fresh_names(f"load{n}", args.load_records)
                batch = run_batch(names, ns, n, work, f"load{n}")
                ceiling = run_child("ceiling", fresh_names(f"loadc{n}", args.load_records), ns, n)
                results["load"].append({"concurrency": n, "batch": batch, "ceiling": ceiling})
                print(f"load {n}: batch lost {lost(batch['outcomes'])}", flush=True)
    report(results, args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    rounds = results["rounds"]
    best = {k: max(r[k]["hosts_per_s"] for r in rounds) for k in ("ceiling", "client", "batch")}
    print()
    print(
        f"Cold, {args.names:,} fresh names a run (A and AAAA), {args.concurrency} in flight, "
        f"{args.latency_ms:g} ms resolver; best of {len(rounds)} interleaved rounds"
    )
    print(f"{'contender':<44} {'best hosts/s':>12} {'rounds':>26} {'x (a)':>7}")
    labels = {
        "ceiling": "(a) dns.asyncresolver (the ceiling)",
        "client": "(b) hostlocate DnsClient alone",
        "batch": "(c) hostlocate batch --no-rdap (process)",
    }
    for k in ("ceiling", "client", "batch"):
        each = " ".join(f"{r[k]['hosts_per_s']:,.0f}" for r in rounds)
        print(f"{labels[k]:<44} {best[k]:>12,.0f} {each:>26} {best[k] / best['ceiling']:>6.2f}x")
    walls = " ".join(f"{r['batch']['wall_s']:.2f}" for r in rounds)
    elapsed = " ".join(f"{r['batch']['elapsed_s']:.2f}" for r in rounds)
    print(
        f"(c) over {args.records:,} records: command's elapsed {elapsed} s; process wall {walls} s"
    )
    client = [r["client"] for r in rounds]
    print(
        "(b) retransmits (losses) per round: "
        + " ".join(str(c["losses"]) for c in client)
        + "; final window: "
        + " ".join(str(c["window"]) for c in client)
    )
    queries = 2 * args.names
    cpu = {k: min(r[k]["cpu_s"] for r in rounds) * 1e6 / queries for k in best}
    print(
        "CPU per query (A or AAAA), least of the rounds: "
        f"(a) {cpu['ceiling']:,.0f} µs, (b) {cpu['client']:,.0f} µs, "
        f"(c) {cpu['batch']:,.0f} µs (the whole process: start-up, {args.records:,} records)"
    )
    print(f"ratio (c)/(a): {best['batch'] / best['ceiling']:.2f}x (target 1.0x, aim 1.5x)")
    if results["load"]:
        print()
        print(f"Load: {args.load_records:,} records, each a fresh name that exists")
        print(
            f"{'in flight':>9} {'batch lost':>10} {'batch s':>8} {'batch outcomes':<36} "
            f"{'ceiling lost':>12} {'ceiling s':>9}"
        )
        for row in results["load"]:
            b, c = row["batch"], row["ceiling"]
            outcomes = ", ".join(f"{k} {v}" for k, v in sorted(b["outcomes"].items()))
            print(
                f"{row['concurrency']:>9,} {lost(b['outcomes']):>10} {b['elapsed_s']:>8.2f} "
                f"{outcomes:<36} {lost(c['outcomes']):>12} {c['elapsed_s']:>9.2f}"
            )
        print("(ceiling lost counts queries, A and AAAA; batch lost counts records)")
    print()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=1000, help="fresh names a run (1,000)")
    parser.add_argument("--records", type=int, default=3000, help="records of the batch run")
    parser.add_argument("--concurrency", type=int, default=64, help="in flight (64)")
    parser.add_argument("--latency-ms", type=float, default=30.0, help="resolver delay (30)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument(
        "--load", type=int, nargs="*", default=[512, 2048], help="in flight for the load runs"
    )
    parser.add_argument("--load-records", type=int, default=4000, help="records a load run")
    parser.add_argument("--quick", action="store_true", help="smoke run: small and one round")
    parser.add_argument("--json", help="also write every figure here as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.names, args.records, args.rounds, args.load_records = 200, 600, 1, 500
    return args


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
    else:
        main()
