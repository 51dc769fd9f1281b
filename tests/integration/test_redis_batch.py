"""``hostlocate batch --cache redis://...``: the command against a real redis-server.

Several processes started together on the same reports share one Redis: the
DNS answers one worker got serve the others, a Redis that cannot be reached at
start stops the command with its URL named (password masked), and a Redis URL
never becomes a file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.netlab import DnsLab
from tests.redislab import RedisLab

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]

LAB_HOSTS = [
    "www.brand-shop.com",
    "rr.multi-host.com",
    "cdn.cf-site.com",
    "www.ovh-site.fr",
    "www.uk-site.co.uk",
    "nope.corp-site.com",
]


def env_for(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), *filter(None, [env.get("PYTHONPATH")])])
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")
    return env


def batch(*args: str) -> list[str]:
    return [sys.executable, "-m", "hostlocate", "batch", *args, "--no-progress"]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_an_unreachable_redis_stops_the_command_and_creates_nothing(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "urls.txt").write_text("193.0.6.139\n", encoding="utf-8")
    done = subprocess.run(
        batch("urls.txt", "-o", "out.jsonl", "--cache", "redis://:hunter2@127.0.0.1:1/0"),
        capture_output=True,
        env=env_for(tmp_path),
        cwd=work,
        timeout=60,
        check=False,
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
        done = subprocess.run(
            batch(
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
            ),
            capture_output=True,
            env=env_for(tmp_path),
            cwd=work,
            timeout=120,
            check=False,
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
