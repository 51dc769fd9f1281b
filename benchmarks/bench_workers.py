"""Four workers on the same reports: no shared cache, SQLite, Redis, side by side.

Everything runs on loopback: the RDAP lab (``tests/rdaplab``), whose RIPE
service limits its client to ``--limit`` requests in any ``--window`` seconds
(20 in 10 s by default) and answers 429 beyond, as a registry limits one
client address (all workers come from 127.0.0.1); and a redis-server of its
own (``tests/redislab``). Nothing leaves 127.0.0.0/8.

Input: ``--records`` reported URLs on IP literals of ``--networks`` generated
RIPE /24s (no DNS), in a fixed order. Each row starts ``--workers`` ``hostlocate
batch`` processes at once on the same file, each with ``--rdap-rate
ripe=RATE`` (1.5 a second by default) and a per-record budget long enough
that records wait for the budget rather than fail:

* **none**: ``--no-cache``: each worker its own memory and its own budget;
* **sqlite**: ``--cache FILE``, one file: answers shared, budgets not;
* **redis**: ``--cache redis://...``: answers and the budget shared;
* **redis+locks** (library workers): the same store with the look-ups under
  way shared too (:class:`hostlocate.redis_shared.SharedLookups` around the RDAP
  client), one process per worker as an exchange service's pool would run it.

Printed per row: RDAP network requests (against the distinct networks), 429
answers drawn, verdicts whose RDAP part failed, and records/s (all workers'
records over the wall time from start to the last worker's end).

Run: ``python benchmarks/bench_workers.py`` (about two minutes);
``--quick`` for a smaller run. See docs/scale.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from tests.rdaplab import RdapLab, start_rdap_lab  # noqa: E402
from tests.redislab import RedisLab, start_redis_lab  # noqa: E402

SEED = 14


def reports(records: int, networks: int) -> list[str]:
    """URLs on addresses of 193.10.N.0/24 (N < networks), every network at least once."""
    rng = random.Random(SEED)
    hosts = [f"193.10.{n}.{rng.randrange(1, 255)}" for n in range(networks)]
    hosts += [
        f"193.10.{rng.randrange(networks)}.{rng.randrange(1, 255)}"
        for _ in range(records - networks)
    ]
    rng.shuffle(hosts)
    return [f"http://{host}/r{i}" for i, host in enumerate(hosts)]


def child_env(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), *filter(None, [env.get("PYTHONPATH")])])
    env["XDG_CACHE_HOME"] = str(work / "xdg-cache")
    return env


def run_batches(
    work: Path, name: str, src: Path, workers: int, cache: list[str], common: list[str]
) -> float:
    """``workers`` batch processes at once; the wall time until the last one ends."""
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hostlocate",
                "batch",
                str(src),
                "-o",
                str(work / f"{name}-{n}.jsonl"),
                "--no-progress",
                *cache,
                *common,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=child_env(work),
            cwd=work,
        )
        for n in range(workers)
    ]
    for process in processes:
        _, err = process.communicate(timeout=900)
        if process.returncode != 0:
            raise SystemExit(f"{name}: a worker failed:\n{err.decode()}")
    return time.perf_counter() - started


def rdap_failures(work: Path, name: str, workers: int) -> int:
    failed = 0
    for n in range(workers):
        for line in (work / f"{name}-{n}.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if any(not a.get("network") for a in record.get("addresses", ())):
                failed += 1
    return failed


def _library_worker(
    url: str,
    bootstrap: str,
    addresses: list[str],
    rate: float,
    start_at: float,
    out: multiprocessing.Queue[int],
) -> None:
    """One worker of a pool: an RDAP client on the shared store, one record at a time
    per task, eight tasks."""
    from hostlocate.redis_store import RedisStore
    from hostlocate.sources._rdap_ratelimit import limits_from
    from hostlocate.sources.rdap import RdapClient

    async def run() -> int:
        store = RedisStore(url)
        client = RdapClient(
            bootstrap_dir=bootstrap,
            cache=store,
            budget=store.budget(limits_from({"ripe": rate})),
        )
        shared = store.share(client)
        slots = asyncio.Semaphore(8)
        await asyncio.sleep(max(0.0, start_at - time.time()))
        deadline = time.monotonic() + 600

        async def one(ip: str) -> int:
            async with slots:
                found = await shared.lookup_ip(ip, deadline=deadline)
            return 0 if found.network is not None else 1

        failed = sum(await asyncio.gather(*(one(ip) for ip in addresses)))
        await shared.aclose()
        store.close()
        return failed

    out.put(asyncio.run(run()))


def run_library(
    redis: RedisLab, lab: RdapLab, lines: list[str], workers: int, rate: float
) -> tuple[float, int]:
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[int] = context.Queue()
    addresses = [line.split("/")[2] for line in lines]
    start_at = time.time() + 3.0
    processes = [
        context.Process(
            target=_library_worker,
            args=(redis.url(db=2), str(lab.bootstrap_dir), addresses, rate, start_at, results),
        )
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    failed = sum(results.get(timeout=900) for _ in processes)
    ended = time.time()
    for process in processes:
        process.join(10)
    return ended - start_at, failed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--records", type=int, default=57)
    parser.add_argument("--networks", type=int, default=20)
    parser.add_argument("--rate", type=float, default=1.5, help="--rdap-rate ripe=RATE")
    parser.add_argument("--limit", type=int, default=20, help="the lab's RIPE requests ...")
    parser.add_argument("--window", type=float, default=10.0, help="... in this many seconds")
    parser.add_argument("--quick", action="store_true", help="8 networks, 24 records")
    args = parser.parse_args(argv)
    if args.quick:
        args.records, args.networks = 24, 8
    lines = reports(args.records, args.networks)
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        work = Path(tmp)
        src = work / "urls.txt"
        src.write_text("\n".join(lines) + "\n", encoding="utf-8")
        redis = start_redis_lab(work / "redis")
        try:
            with start_rdap_lab(work / "rdap") as lab:
                common = [
                    "--rdap-bootstrap",
                    str(lab.bootstrap_dir),
                    "--rdap-rate",
                    f"ripe={args.rate}",
                    "--timeout",
                    "600",
                    "--nameserver",
                    "127.0.0.1:9",
                ]
                rows = {
                    "none": ["--no-cache"],
                    "sqlite": ["--cache", str(work / "shared.sqlite3")],
                    "redis": ["--cache", redis.url(db=1)],
                }
                table: list[tuple[str, float, int, int, int]] = []
                for name, cache in rows.items():
                    lab.reset()
                    lab.throttle("ripe", requests=args.limit, seconds=args.window)
                    elapsed = run_batches(work, name, src, args.workers, cache, common)
                    failed = rdap_failures(work, name, args.workers)
                    table.append((name, elapsed, *_lab_counts(lab), failed))
                lab.reset()
                lab.throttle("ripe", requests=args.limit, seconds=args.window)
                elapsed, failed = run_library(redis, lab, lines, args.workers, args.rate)
                table.append(("redis+locks", elapsed, *_lab_counts(lab), failed))
        finally:
            redis.stop()
    total = args.workers * len(lines)
    print(
        f"{args.workers} workers x {len(lines)} records over {args.networks} networks; "
        f"--rdap-rate ripe={args.rate}; the lab's RIPE: {args.limit} requests / {args.window:g} s"
    )
    print(f"{'cache':<12} {'requests':>9} {'429s':>6} {'rdap failed':>12} {'records/s':>10}")
    for name, elapsed, requests, refused, failed in table:
        print(f"{name:<12} {requests:>9} {refused:>6} {failed:>12} {total / elapsed:>10.2f}")


def _lab_counts(lab: RdapLab) -> tuple[int, int]:
    requests = sum(n for path, n in lab.path_counts().items() if "/ip/" in path)
    return requests, sum(lab.throttled().values())


if __name__ == "__main__":
    main()
