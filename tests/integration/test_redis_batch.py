"""``hostlocate batch --cache redis://...``: the command against a real redis-server.

Several processes started together on the same reports share one Redis: the
DNS answers one worker got serve the others, a Redis that cannot be reached at
start stops the command with its URL named (password masked), and a Redis URL
never becomes a file.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_batch_cli import cli_env, read_jsonl
from tests.netlab import DnsLab
from tests.rdaplab import RdapLab
from tests.redislab import RedisLab, start_redis_lab

pytestmark = pytest.mark.integration

LAB_HOSTS = [
    "www.brand-shop.com",
    "rr.multi-host.com",
    "cdn.cf-site.com",
    "www.ovh-site.fr",
    "www.uk-site.co.uk",
    "nope.corp-site.com",
]


def batch(*args: str) -> list[str]:
    return [sys.executable, "-m", "hostlocate", "batch", *args, "--no-progress"]


def run_batch(tmp_path: Path, work: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """``hostlocate batch ARGS`` run to its end in ``work``, in a process of its own."""
    env = cli_env(tmp_path)
    return subprocess.run(batch(*args), capture_output=True, env=env, cwd=work, timeout=120)


def test_an_unreachable_redis_stops_the_command_and_creates_nothing(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "urls.txt").write_text("193.0.6.139\n", encoding="utf-8")
    done = run_batch(
        tmp_path, work, "urls.txt", "-o", "out.jsonl", "--cache", "redis://:hunter2@127.0.0.1:1/0"
    )
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert "redis://:***@127.0.0.1:1/0" in err
    assert "hunter2" not in err
    assert sorted(p.name for p in work.iterdir()) == ["urls.txt"]


def test_workers_share_dns_answers_through_redis(
    tmp_path: Path, redis_lab: RedisLab, dns_lab: DnsLab
) -> None:
    redis_lab.flush()
    work = tmp_path / "work"
    work.mkdir()
    (work / "urls.txt").write_text("\n".join(LAB_HOSTS * 2) + "\n", encoding="utf-8")
    url = redis_lab.url(db=3)

    def run(name: str) -> tuple[dict[str, Any], list[dict[str, Any]], int, str]:
        before = dns_lab.stats()["total.num.queries"]
        done = run_batch(
            tmp_path,
            work,
            "urls.txt",
            "-o",
            f"{name}.jsonl",
            "--summary-json",
            f"{name}.json",
            "--cache",
            url,
            "--no-rdap",
            "--nameserver",
            dns_lab.resolver,
        )
        assert done.returncode == 0, done.stderr.decode()
        asked = dns_lab.stats()["total.num.queries"] - before
        summary = json.loads((work / f"{name}.json").read_text())
        return summary, read_jsonl(work / f"{name}.jsonl"), asked, done.stderr.decode()

    first, first_records, first_asked, first_err = run("first")
    assert len(first_records) == 2 * len(LAB_HOSTS)
    assert first_asked > 0
    second, second_records, second_asked, second_err = run("second")
    assert second_asked == 0  # another process: every answer came from Redis
    assert [r["status"] for r in second_records] == [r["status"] for r in first_records]
    for summary, err in ((first, first_err), (second, second_err)):
        assert summary["cache"]["path"] == redis_lab.url(db=3).replace(redis_lab.password, "***")
        assert redis_lab.password not in err
        assert redis_lab.password not in json.dumps(summary)
    names = {p.name for p in work.iterdir()}
    assert names == {"urls.txt", "first.jsonl", "first.json", "second.jsonl", "second.json"}


def reports(networks: int = 8, seed: int = 14) -> list[str]:
    """Reported URLs on IP literals of the RDAP lab's generated RIPE /24s (no DNS)."""
    rng = random.Random(seed)
    out = [
        f"http://193.10.{n}.{rng.randrange(1, 255)}/r{i}" for n in range(networks) for i in range(3)
    ]
    out += [f"https://193.10.{rng.randrange(networks)}.{rng.randrange(1, 255)}/" for _ in range(9)]
    rng.shuffle(out)
    return out


def test_four_batch_processes_share_one_registry_budget(
    tmp_path: Path, redis_lab: RedisLab, lab: RdapLab
) -> None:
    """Four ``hostlocate batch`` processes started together on the same reports, one
    Redis: the RIPE lab limits its client to 20 requests in 10 s, the shared budget
    (``--rdap-rate ripe=1.5``: at most 16.5 requests in any 10 s) keeps all four
    under it: no 429, and every record of every output has its verdict, with its
    network."""
    redis_lab.flush()
    lab.reset()
    lab.throttle("ripe", requests=20, seconds=10)
    work = tmp_path / "work"
    work.mkdir()
    lines = reports()
    (work / "urls.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = [
        "--cache",
        redis_lab.url(db=7),
        "--rdap-bootstrap",
        str(lab.bootstrap_dir),
        "--rdap-rate",
        "ripe=1.5",
        "--timeout",
        "60",
        "--nameserver",
        "127.0.0.1:9",
    ]
    workers = [
        subprocess.Popen(
            batch("urls.txt", "-o", f"out{n}.jsonl", "--summary-json", f"s{n}.json", *args),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=cli_env(tmp_path),
            cwd=work,
        )
        for n in range(4)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err.decode()
    assert lab.throttled() == {}
    # Look-ups under way are shared too: each network is asked once by one worker.
    asked = sum(n for path, n in lab.path_counts().items() if "/ip/" in path)
    assert asked <= 8 + 2, lab.path_counts()
    for n in range(4):
        records = read_jsonl(work / f"out{n}.jsonl")
        assert [r["input"] for r in records] == lines
        for record in records:
            assert record["status"] == "located", record
            assert record["addresses"][0]["network"], record


def test_redis_killed_mid_batch(tmp_path: Path, lab: RdapLab) -> None:
    """Redis dies while a batch runs and comes back: every record gets one verdict,
    stderr says so once each way, and the summary counts the look-ups made alone."""
    work = tmp_path / "work"
    work.mkdir()
    lines = reports(networks=12, seed=3)
    (work / "urls.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    own = start_redis_lab(tmp_path / "redis")
    try:
        worker = subprocess.Popen(
            batch(
                "urls.txt",
                "-o",
                "out.jsonl",
                "--summary-json",
                "summary.json",
                "--cache",
                own.url(),
                "--rdap-bootstrap",
                str(lab.bootstrap_dir),
                "--rdap-rate",
                "ripe=1",
                "--timeout",
                "60",
                "--concurrency",
                "4",
                "--nameserver",
                "127.0.0.1:9",
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=cli_env(tmp_path),
            cwd=work,
        )
        out = work / "out.jsonl"
        end = time.monotonic() + 60
        while not (out.exists() and out.read_bytes().count(b"\n") >= 2):
            assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else ""
            assert time.monotonic() < end, "the batch wrote nothing"
            time.sleep(0.05)
        own.kill()
        time.sleep(2.0)
        own.start()
        _, err_bytes = worker.communicate(timeout=240)
    finally:
        own.stop()
    err = err_bytes.decode()
    assert worker.returncode == 0, err
    records = read_jsonl(out)
    assert [r["input"] for r in records] == lines  # none lost, none doubled
    assert all(r["status"] == "located" for r in records)
    assert err.count("is unreachable") == 1, err
    assert err.count("answers again") == 1, err
    assert "look-ups made without it" in err
    cache = json.loads((work / "summary.json").read_text())["cache"]
    assert cache["redis_lost"] == 1
    assert cache["reads_without_redis"] > 0
    assert cache["shared"] is True
