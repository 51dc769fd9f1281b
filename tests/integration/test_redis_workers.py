"""Several worker processes, one Redis: one budget, one cache, one look-up per network.

Each worker is a process of its own with an RDAP client whose cache and
budget are the Redis store's, wrapped in :class:`SharedLookups`; they start
at the same moment on the same addresses, through the RDAP lab, whose RIPE
service limits its client (every worker: all come from 127.0.0.1) to 20
requests in any 10 seconds, answering 429 beyond. The shared budget (1.5 a
second) keeps under that limit; the shared look-ups ask each network once.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import random
import time
from pathlib import Path
from typing import Any

import pytest

from hostlocate.redis_shared import SharedLookups
from hostlocate.redis_store import RedisStore
from hostlocate.sources._rdap_ratelimit import limits_from
from hostlocate.sources.rdap import RdapClient
from tests.rdaplab import RdapLab
from tests.redislab import RedisLab

pytestmark = pytest.mark.integration

WORKERS = 4
NETWORKS = 12
"""Generated RIPE /24s of the lab (193.10.N.0/24): one RDAP network each."""


def addresses() -> list[str]:
    rng = random.Random(14)
    out = [f"193.10.{n}.{rng.randrange(1, 255)}" for n in range(NETWORKS) for _ in range(3)]
    out += [f"193.10.{rng.randrange(NETWORKS)}.{rng.randrange(1, 255)}" for _ in range(10)]
    rng.shuffle(out)
    return out


def _worker(
    url: str, bootstrap: str, start_at: float, seed: int, out: multiprocessing.Queue[Any]
) -> None:
    async def run() -> tuple[list[tuple[str, str | None, str | None]], dict[str, Any]]:
        store = RedisStore(url)
        client = RdapClient(
            bootstrap_dir=bootstrap,
            cache=store,
            budget=store.budget(limits_from({"ripe": 1.5})),
        )
        shared = SharedLookups(client, store)
        order = addresses()
        random.Random(seed).shuffle(order)
        slots = asyncio.Semaphore(8)
        deadline = time.monotonic() + 120 + max(0.0, start_at - time.time())

        async def one(ip: str) -> tuple[str, str | None, str | None]:
            async with slots:
                found = await shared.lookup_ip(ip, deadline=deadline)
            handle = found.network.handle if found.network is not None else None
            return ip, handle, found.error

        await asyncio.sleep(max(0.0, start_at - time.time()))
        results = await asyncio.gather(*(one(ip) for ip in order))
        stats = shared.stats()
        await shared.aclose()
        store.close()
        return list(results), stats

    out.put(asyncio.run(run()))


def collect(results: multiprocessing.Queue[Any], workers: list[Any]) -> list[Any]:
    """Every worker's answer; fails at once when a worker died without one."""
    answers: list[Any] = []
    end = time.monotonic() + 180
    while len(answers) < len(workers):
        try:
            answers.append(results.get(timeout=0.5))
        except queue.Empty:
            dead = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            assert not dead, f"a worker failed: exit codes {dead}"
            assert time.monotonic() < end, "the workers did not finish in time"
    for worker in workers:
        worker.join(10)
    return answers


def test_workers_share_one_budget_one_cache_and_their_lookups(
    lab: RdapLab, redis_lab: RedisLab, tmp_path: Path
) -> None:
    redis_lab.flush()
    lab.throttle("ripe", requests=20, seconds=10)
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[Any] = context.Queue()
    start_at = time.time() + 4.0
    workers = [
        context.Process(
            target=_worker,
            args=(redis_lab.url(db=5), str(lab.bootstrap_dir), start_at, seed, results),
        )
        for seed in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    answers = collect(results, workers)
    wanted = sorted(addresses())
    for found, _ in answers:
        assert sorted(ip for ip, _, _ in found) == wanted  # one answer per address, each worker
        assert [error for _, _, error in found if error] == []
        assert all(handle for _, handle, _ in found)
    asked = sum(n for path, n in lab.path_counts().items() if "/ip/" in path)
    assert asked <= NETWORKS + 2, lab.path_counts()
    assert lab.throttled() == {}
    joins = sum(stats["shared_joins"] for _, stats in answers)
    assert joins > 0
