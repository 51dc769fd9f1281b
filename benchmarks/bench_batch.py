"""The exchange path, measured: hostlocate's batch against a naive per-record pipeline.

Everything runs on the loopback test internet (``tests/netlab``: NSD and
unbound, with a forwarder that holds every DNS answer back ``--latency-ms``,
30 ms by default, like a resolver across the internet; ``tests/rdaplab``: a
registry-shaped RDAP server that counts requests). Nothing leaves 127.0.0.0/8.

Input: ``--records`` (10,000) reported URLs over ``--hosts`` (2,000) distinct
lab names ``hN.bulk.bench-lab.com``, which the DNS lab spreads over 300 RIPE
NCC /24 networks. Hosts repeat with a skewed (Zipf-like) frequency in short
bursts, in a fixed order (seeded); paths, queries, ports, defanging and letter
case vary, so nearly every record differs as text.

Each measurement runs in a process of its own, so its peak memory
(``ru_maxrss``) is its own:

* **cold**: ``Locator.locate_many`` (library, in-memory caches), and the real
  ``python -m hostlocate batch`` with a fresh persistent cache; both with the
  RDAP budgets lifted as a user running against its own mirror would
  (``rdap_options={"rate_limits": {"*": inf}}``, ``--rdap-rate '*=inf'``),
  and once more the command with its default per-registry budgets (RIPE NCC:
  5 a second). Before each, unbound's cache is flushed and the RDAP lab's
  counters are reset. Counted: DNS queries (the sum of ``verdict.dns.queries``,
  and unbound's ``total.num.queries``) and RDAP requests (the lab's count, in
  network and domain look-ups), against the distinct names and networks;
* **warm**: right after each cold command run, ``hostlocate batch`` again with
  the same cache file, over the same input and over ``--warm-records``
  records of the same hosts (the difference of the two gives the rate without
  start-up), and ``Locator.locate_many`` again in the cold run's process; all
  on one core (``sched_setaffinity``). The lab's bulk names answer AAAA with
  NODATA whose negative TTL is 60 s, and the locator keeps a name for its
  shortest TTL, so a warm run must follow its cold run within the minute;
* **baseline**: ``_naive.py`` (getaddrinfo + geoip2 + maxminddb + ipwhois per
  record) on the first ``--baseline-sample`` records, in a private mount
  namespace whose resolv.conf names 127.0.0.1, where a forwarder with the same
  latency listens on port 53;
* optionally, ``--big-records 1000000``: one ``hostlocate batch`` run over a
  million records (lab names, IP literals and invalid lines), for its peak RSS.

Ratios are computed within one run: the machine is shared and noisy.

Run: ``python benchmarks/bench_batch.py`` (about two to three minutes; root
and ``unshare`` for the baseline), ``--quick`` for a smoke run under a minute.
See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import gc
import itertools
import json
import math
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from tests.netlab.zones import (  # noqa: E402
    BULK_COUNT,
    BULK_NETWORK_COUNT,
    NEGATIVE_TTL,
    bulk_address,
    bulk_name,
    bulk_network,
)

from hostlocate.locator import DEFAULT_TIMEOUT  # noqa: E402

SEED = 20261128
TARGET_COLD_RATIO = 50.0
TARGET_WARM_RATE = 20_000.0
TARGET_BIG_RSS_MB = 400.0
NAIVE = Path(__file__).resolve().with_name("_naive.py")
COUNTRY_DB = REPO / "data" / "geo" / "dbip-country.mmdb"
ASN_DB = REPO / "data" / "geo" / "asn.mmdb"
UNLIMITED = {"rate_limits": {"*": math.inf}}
"""RDAP budgets lifted, as a library user running against its own mirror would."""

# -- inputs ------------------------------------------------------------------------------------

_PATH_WORDS = ("img", "gallery", "view", "dl", "u", "files", "post", "media", "share", "x")


def _url(rng: random.Random, host: str, serial: int) -> str:
    path = f"/{rng.choice(_PATH_WORDS)}/{serial:x}"
    if rng.random() < 0.5:
        path += f"?id={rng.randrange(10**6)}"
    roll = rng.random()
    if roll < 0.60:
        return f"https://{host}{path}"
    if roll < 0.75:
        return f"http://{host}:8080{path}"
    if roll < 0.85:
        return "hxxp://" + host.replace(".", "[.]") + path
    if roll < 0.95:
        return host + path
    return f"HTTPS://{host.upper()}{path}"


def make_records(count: int, hosts: int, seed: int = SEED) -> list[str]:
    """``count`` URLs over lab names h0..h(hosts-1): each at least once, then skewed, in bursts."""
    hosts = min(hosts, count, BULK_COUNT)
    rng = random.Random(seed)
    by_rank = list(range(hosts))
    rng.shuffle(by_rank)
    counts = [1] * hosts
    weights = [1.0 / (rank + 1) for rank in range(hosts)]
    for rank in rng.choices(range(hosts), weights=weights, k=count - hosts):
        counts[by_rank[rank]] += 1
    runs: list[tuple[int, int]] = []
    for host, left in enumerate(counts):
        while left:
            size = min(left, rng.randint(1, 6))
            runs.append((host, size))
            left -= size
    rng.shuffle(runs)
    order = [host for host, size in runs for _ in range(size)]
    return [_url(rng, bulk_name(host), serial) for serial, host in enumerate(order)]


_JUNK = (
    "",
    "not a url",
    "http://",
    "javascript:alert(1)",
    "http://exa mple.com/",
    "http://256.256.256.256/",
    "http://example.com:99999/",
    "[::1",
)


def big_records(count: int, seed: int = SEED) -> Iterator[str]:
    """A long batch that finishes in minutes: lab names, IP literals, invalid lines."""
    rng = random.Random(seed + 1)
    for serial in range(count):
        roll = rng.random()
        tail = f"/p/{serial:x}"
        if roll < 0.40:
            yield f"https://{bulk_name(rng.randrange(BULK_COUNT))}{tail}"
        elif roll < 0.65:  # public, in the bulk networks: RDAP answers come from the cache
            prefix = bulk_network(rng.randrange(BULK_NETWORK_COUNT)).rsplit(".", 1)[0]
            yield f"http://{prefix}.{rng.randrange(1, 255)}{tail}"
        elif roll < 0.80:  # private: many distinct addresses, no look-up
            a, b, c = rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)
            yield f"http://10.{a}.{b}.{c}{tail}"
        elif roll < 0.85:
            yield f"http://[2001:db8:{rng.randrange(65536):x}::{rng.randrange(65536):x}]{tail}"
        else:
            yield rng.choice(_JUNK)


def write_lines(path: Path, lines: Iterable[str]) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")
            n += 1
    return n


# -- measuring child processes -----------------------------------------------------------------


@dataclass
class Measured:
    """A finished child process: its exit status, wall time, peak RSS and output."""

    returncode: int
    wall_s: float
    max_rss_kb: int
    stdout: str
    stderr: str

    def check(self, what: str) -> Measured:
        if self.returncode != 0:
            raise RuntimeError(f"{what} failed ({self.returncode}):\n{self.stderr[-4000:]}")
        return self


def run_measured(
    argv: list[str], *, cpu: int | None = None, env: dict[str, str] | None = None
) -> Measured:
    """Run a child to its end; ``os.wait4`` gives that child's own peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=REPO,
            env=env if env is not None else child_env(),
            preexec_fn=(lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            proc.returncode,
            wall,
            usage.ru_maxrss,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )


BYTECODE: Path | None = None
"""Where the children keep compiled bytecode (set once the work folder exists)."""


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO)])
    if BYTECODE is not None:
        # An installed package runs from compiled bytecode (pip compiles it); a
        # checkout run with PYTHONDONTWRITEBYTECODE would compile every module
        # at every start. The first run compiles into the work folder, the rest
        # load from it; nothing is written into the checkout.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(BYTECODE)
    return env


def one_cpu() -> int | None:
    """The CPU warm runs are pinned to (None where affinity cannot be set)."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    return max(os.sched_getaffinity(0))


def pin_all_threads(cpu: int | None) -> None:
    """Pin every thread of this process (the locator's loop thread too) to one CPU."""
    if cpu is None:
        return
    try:
        tids = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        tids = [0]
    for tid in tids:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(tid, {cpu})


# -- tallies -------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the verdicts of one run say: statuses, DNS queries, networks seen."""

    records: int = 0
    status: Counter[str] = field(default_factory=Counter)
    rdap_unavailable: int = 0
    dns_queries: int = 0
    queries_by_host: Counter[str] = field(default_factory=Counter)
    asked_at: dict[str, list[float]] = field(default_factory=dict)
    """When each name's verdicts that made queries were made (epoch seconds)."""
    networks: set[str] = field(default_factory=set)

    def add(
        self,
        status: str,
        flags: Iterable[str],
        queries: int,
        host: str | None,
        cidrs: Iterable[str],
        at: float | None = None,
    ) -> None:
        self.records += 1
        self.status[status] += 1
        if "rdap_unavailable" in flags:
            self.rdap_unavailable += 1
        self.dns_queries += queries
        if host:
            self.queries_by_host[host] += queries
            if queries and at is not None:
                self.asked_at.setdefault(host, []).append(at)
        self.networks.update(cidrs)

    def asked_again_early(self, shortest_ttl: float, budget: float) -> int:
        """Names asked again sooner than their shortest answer could have expired.

        A verdict's time is when it ended, up to ``budget`` after its queries:
        a gap under ``shortest_ttl - budget`` is a re-ask within the TTL for sure.
        """
        early = 0
        for times in self.asked_at.values():
            times.sort()
            if any(b - a < shortest_ttl - budget for a, b in itertools.pairwise(times)):
                early += 1
        return early

    def as_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "status": dict(self.status.most_common()),
            "rdap_unavailable": self.rdap_unavailable,
            "dns_queries": self.dns_queries,
            "distinct_hosts": len(self.queries_by_host),
            # A and AAAA once each is 2 queries; more means the name was asked again.
            "hosts_asked_again": sum(1 for n in self.queries_by_host.values() if n > 2),
            "hosts_asked_again_within_ttl": self.asked_again_early(NEGATIVE_TTL, DEFAULT_TIMEOUT),
            "distinct_networks": len(self.networks),
        }


def tally_jsonl(path: Path) -> Tally:
    import msgspec

    tally = Tally()
    with path.open("rb") as f:
        for line in f:
            v = msgspec.json.decode(line)
            if v.get("schema") == "hostlocate.batch/1":
                continue  # the header record: the run's data sources, not a verdict
            dns = v.get("dns") or {}
            url = v.get("url") or {}
            cidrs = [
                a["network"]["cidr"]
                for a in v.get("addresses") or ()
                if (a.get("network") or {}).get("cidr")
            ]
            at = (v.get("provenance") or {}).get("resolved_at")
            tally.add(
                v["status"],
                v["jurisdiction"]["flags"],
                dns.get("queries", 0),
                url.get("host"),
                cidrs,
                _dt.datetime.fromisoformat(at).timestamp() if at else None,
            )
    return tally


# -- the children --------------------------------------------------------------------------------


def child_library(args: argparse.Namespace) -> None:
    """Cold ``locate_many``, then warm passes on one core, in this one process."""
    from hostlocate.locator import Locator

    urls = Path(args.input).read_text(encoding="utf-8").splitlines()
    out: dict[str, Any] = {}
    with Locator(
        [args.nameserver], rdap_bootstrap=args.bootstrap, rdap_options=UNLIMITED
    ) as locator:
        tally = Tally()
        started = time.perf_counter()
        for v in locator.locate_many(urls, concurrency=args.concurrency):
            tally.add(
                v.status,
                v.jurisdiction.flags,
                v.dns.queries if v.dns else 0,
                v.url.host if v.url else None,
                [a.network.cidr for a in v.addresses if a.network and a.network.cidr],
            )
        out["cold_s"] = time.perf_counter() - started
        out["cold"] = tally.as_dict()
        out["cold_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out["stats"] = locator.stats()
        pin_all_threads(args.cpu)
        warm: list[float] = []
        queries = 0
        for _ in range(args.warm_passes):
            gc.collect()
            started = time.perf_counter()
            for v in locator.locate_many(urls, concurrency=args.concurrency):
                if v.dns is not None:
                    queries += v.dns.queries
            warm.append(time.perf_counter() - started)
        out["warm_s"] = warm
        out["warm_dns_queries"] = queries
    out["records"] = len(urls)
    out["max_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(out, default=str))


# -- the benchmark -------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the results table."""

    label: str
    records: int
    seconds: float
    """The measured part (the locate pass, or the command's own elapsed)."""
    wall_s: float | None = None
    """The whole child process, interpreter start-up included."""
    rss_kb: int | None = None
    dns_queries: int | None = None
    unbound_queries: int | None = None
    rdap_ip: int | None = None
    rdap_domain: int | None = None
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else float("nan")


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.rows: dict[str, Row] = {}
        self.facts: dict[str, Any] = {}
        self.cpu = one_cpu()
        self.warm_cache: Path | None = None

    # -- labs ---------------------------------------------------------------------------------

    def cold_start(self) -> dict[str, float]:
        """Empty unbound's cache and the RDAP counters; unbound's counters before."""
        self.dns_lab.flush()
        self.rdap_lab.reset()
        return self.dns_lab.stats()

    def network_counts(self, before: dict[str, float]) -> dict[str, int]:
        """What unbound and the RDAP lab saw since ``cold_start``."""
        import ipaddress

        after = self.dns_lab.stats()
        kinds: Counter[str] = Counter()
        per_network: Counter[str] = Counter()
        for path, n in self.rdap_lab.path_counts().items():
            if "/ip/" in path:
                kinds["ip"] += n
                address = path.rsplit("/", 1)[1]
                with contextlib.suppress(ValueError):
                    prefix = 24 if ":" not in address else 48
                    per_network[str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))] += n
            elif "/domain/" in path:
                kinds["domain"] += n
            else:
                kinds["other"] += n
        key = "total.num.queries"
        return {
            "unbound_queries": int(after.get(key, 0) - before.get(key, 0)),
            "rdap_ip": kinds["ip"],
            "rdap_domain": kinds["domain"],
            "rdap_other": kinds["other"],
            "rdap_networks_asked_again": sum(1 for n in per_network.values() if n > 1),
        }

    def hostlocate_batch(
        self, source: Path, output: Path, cache: Path, summary: Path, *, lifted: bool
    ) -> list[str]:
        """``python -m hostlocate batch`` with the lab's resolver, RDAP and a cache file."""
        argv = [
            sys.executable,
            "-m",
            "hostlocate",
            "batch",
            str(source),
            "-o",
            str(output),
            "--nameserver",
            self.forwarder,
            "--rdap-bootstrap",
            str(self.rdap_lab.bootstrap_dir),
            "--cache",
            str(cache),
            "--concurrency",
            str(self.args.concurrency),
            "--no-progress",
            "--summary-json",
            str(summary),
        ]
        if lifted:
            argv += ["--rdap-rate", "*=inf"]
        return argv

    # -- runs ---------------------------------------------------------------------------------

    def run(self) -> None:
        from tests.netlab import start_dns_lab
        from tests.rdaplab import start_rdap_lab

        args = self.args
        records = make_records(args.records, args.hosts)
        hosts = min(args.hosts, args.records, BULK_COUNT)
        self.facts.update(
            source=source_state(),
            records=len(records),
            distinct_inputs=len(set(records)),
            distinct_names=hosts,
            distinct_networks=len({bulk_network(i % BULK_NETWORK_COUNT) for i in range(hosts)}),
            distinct_addresses=len({bulk_address(i) for i in range(hosts)}),
            cname_targets=0,
            registered_domains=1,
        )
        self.input = self.work / "input.txt"
        write_lines(self.input, records)
        self.warm_input = self.work / "warm.txt"
        write_lines(self.warm_input, (records[i % len(records)] for i in range(args.warm_records)))
        sample = self.work / "sample.txt"
        write_lines(sample, records[: args.baseline_sample])

        with (
            start_dns_lab(self.work / "dns", latency_ms=args.latency_ms) as dns_lab,
            start_rdap_lab(self.work / "rdap") as rdap_lab,
        ):
            self.dns_lab = dns_lab
            self.rdap_lab = rdap_lab
            self.forwarder = dns_lab.slow or dns_lab.resolver
            self.step("Locator.locate_many, cold then warm", self.run_library)
            self.step("hostlocate batch, cold then warm, budgets lifted", self.run_command)
            self.step("hostlocate batch, cold, default budgets", self.run_command_default)
            self.step("naive baseline", lambda: self.run_baseline(sample))
            if args.big_records:
                self.step(f"{args.big_records:,} records through hostlocate batch", self.run_big)

    def step(self, what: str, action: Any) -> None:
        print(f"... {what}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        action()
        print(f"    done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)

    def run_library(self) -> None:
        before = self.cold_start()
        argv = [
            sys.executable,
            str(Path(__file__).resolve()),
            "_library",
            "--input",
            str(self.input),
            "--nameserver",
            self.forwarder,
            "--bootstrap",
            str(self.rdap_lab.bootstrap_dir),
            "--concurrency",
            str(self.args.concurrency),
            "--warm-passes",
            str(self.args.warm_runs),
        ]
        if self.cpu is not None:
            argv += ["--cpu", str(self.cpu)]
        m = run_measured(argv).check("Locator.locate_many")
        out = json.loads(m.stdout.strip().splitlines()[-1])
        counts = self.network_counts(before)
        cold = out["cold"]
        self.rows["cold_library"] = Row(
            "cold  Locator.locate_many",
            out["records"],
            out["cold_s"],
            wall_s=m.wall_s,
            rss_kb=out["cold_rss_kb"],
            dns_queries=cold["dns_queries"],
            unbound_queries=counts["unbound_queries"],
            rdap_ip=counts["rdap_ip"],
            rdap_domain=counts["rdap_domain"],
            notes=_status_note(cold),
            extra={"tally": cold, "counts": counts, "stats": out["stats"]},
        )
        warm = sorted(out["warm_s"])
        self.rows["warm_library"] = Row(
            "warm  Locator.locate_many, 1 core",
            out["records"],
            statistics.median(warm),
            rss_kb=m.max_rss_kb,
            dns_queries=out["warm_dns_queries"],
            notes=f"median of {len(warm)} passes; best {out['records'] / warm[0]:,.0f}/s",
            extra={"passes_s": out["warm_s"]},
        )

    def command_run(
        self, label: str, source: Path, cache: Path, *, lifted: bool, cpu: int | None = None
    ) -> Row:
        n = len(list(self.work.glob("out-*.jsonl")))
        output = self.work / f"out-{n}.jsonl"
        summary = self.work / f"summary-{n}.json"
        before = self.cold_start()
        m = run_measured(
            self.hostlocate_batch(source, output, cache, summary, lifted=lifted), cpu=cpu
        ).check(label)
        row = self.batch_row(label, m, output, summary, before)
        output.unlink()
        return row

    def run_command(self) -> None:
        """Cold with a fresh cache, then at once warm over the same hosts, ``--warm-runs`` times."""
        cold: list[Row] = []
        warm: list[Row] = []
        long: list[Row] = []
        for n in range(self.args.warm_runs):
            cache = self.work / f"cache-{n}.sqlite3"
            cold.append(self.command_run("cold  hostlocate batch", self.input, cache, lifted=True))
            warm.append(
                self.command_run(
                    "warm  hostlocate batch, 2nd run, 1 core",
                    self.input,
                    cache,
                    lifted=True,
                    cpu=self.cpu,
                )
            )
            long.append(
                self.command_run(
                    f"warm  hostlocate batch, {self.args.warm_records:,} rec., 1 core",
                    self.warm_input,
                    cache,
                    lifted=True,
                    cpu=self.cpu,
                )
            )
            self.warm_cache = cache
        self.rows["cold_cli"] = _median_row(cold)
        self.rows["warm_cli"] = _median_row(warm)
        self.rows["warm_cli_long"] = _median_row(long)
        # Start-up (interpreter, imports, data, cache) is the same for both lengths:
        # the difference of the medians is the rate of the records alone.
        short, longer = self.rows["warm_cli"], self.rows["warm_cli_long"]
        extra_records = longer.records - short.records
        extra_seconds = longer.seconds - short.seconds
        if extra_records > 0 and extra_seconds > 0:
            start_up = short.seconds - short.records * extra_seconds / extra_records
            self.rows["warm_cli_marginal"] = Row(
                "warm  hostlocate batch, without start-up",
                extra_records,
                extra_seconds,
                notes=f"({longer.records:,} - {short.records:,} records) / difference of medians; "
                f"start-up about {start_up:.2f} s",
            )
        for row in (self.rows["warm_cli"], self.rows["warm_cli_long"]):
            if row.dns_queries or row.rdap_ip or row.rdap_domain:
                row.notes = "NOT ALL CACHED (answers expired?); " + row.notes

    def run_command_default(self) -> None:
        self.rows["cold_cli_default"] = self.command_run(
            "cold  hostlocate batch, default budgets",
            self.input,
            self.work / "cache-default.sqlite3",
            lifted=False,
        )

    def batch_row(
        self, label: str, m: Measured, output: Path, summary_path: Path, before: dict[str, float]
    ) -> Row:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        tally = tally_jsonl(output)
        counts = self.network_counts(before)
        if tally.records != summary["records"]:
            raise RuntimeError(f"{label}: {tally.records} verdicts for {summary['records']}")
        return Row(
            label,
            summary["records"],
            summary["elapsed_s"],
            wall_s=m.wall_s,
            rss_kb=m.max_rss_kb,
            dns_queries=tally.dns_queries,
            unbound_queries=counts["unbound_queries"],
            rdap_ip=counts["rdap_ip"],
            rdap_domain=counts["rdap_domain"],
            notes=_status_note(tally.as_dict()),
            extra={"tally": tally.as_dict(), "counts": counts, "summary": summary},
        )

    def run_baseline(self, sample: Path) -> None:
        if self.args.baseline_sample <= 0:
            return
        unshare = shutil.which("unshare")
        if unshare is None or os.geteuid() != 0:
            self.facts["baseline_skipped"] = "needs root and unshare (util-linux)"
            return
        forwarder = subprocess.Popen(
            [
                sys.executable,
                str(NAIVE),
                "forward53",
                "--upstream",
                self.dns_lab.resolver,
                "--latency-ms",
                str(self.args.latency_ms),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=REPO,
            env=child_env(),
        )
        try:
            assert forwarder.stdout is not None
            line = forwarder.stdout.readline().decode().strip()
            if line != "53":
                self.facts["baseline_skipped"] = f"no forwarder on 127.0.0.1:53: {line or 'none'}"
                return
            resolv = self.work / "resolv.conf"
            resolv.write_text("nameserver 127.0.0.1\noptions attempts:1\n", encoding="utf-8")
            before = self.cold_start()
            m = run_measured(
                [
                    unshare,
                    "--mount",
                    "--propagation",
                    "private",
                    "sh",
                    "-c",
                    'mount --bind "$0" /etc/resolv.conf && exec "$@"',
                    str(resolv),
                    sys.executable,
                    str(NAIVE),
                    "run",
                    "--input",
                    str(sample),
                    "--rdap-base",
                    self.rdap_lab.base_url,
                    "--country-db",
                    str(COUNTRY_DB),
                    "--asn-db",
                    str(ASN_DB),
                ]
            ).check("naive baseline")
            out = json.loads(m.stdout.strip().splitlines()[-1])
            counts = self.network_counts(before)
            self.rows["baseline"] = Row(
                "base  naive: getaddrinfo+geoip2+ipwhois",
                out["records"],
                out["elapsed_s"],
                wall_s=m.wall_s,
                rss_kb=m.max_rss_kb,
                unbound_queries=counts["unbound_queries"],
                rdap_ip=counts["rdap_ip"],
                rdap_domain=counts["rdap_domain"],
                notes=", ".join(f"{k} {v}" for k, v in out["statuses"].items() if v),
                extra={**out, "counts": counts},
            )
        finally:
            if forwarder.stdin is not None:
                forwarder.stdin.close()
            try:
                forwarder.wait(timeout=10)
            except subprocess.TimeoutExpired:
                forwarder.kill()
                forwarder.wait()
            if forwarder.stdout is not None:
                forwarder.stdout.close()

    def run_big(self) -> None:
        """One long run from a file, for peak memory (cache sizes left at their defaults)."""
        source = self.work / "big.txt"
        n = write_lines(source, big_records(self.args.big_records))
        cache = self.work / "cache-big.sqlite3"
        if self.warm_cache is not None:  # the bulk networks known: no budget waits
            shutil.copyfile(self.warm_cache, cache)
        output = self.work / "out-big.jsonl"
        summary_path = self.work / "summary-big.json"
        before = self.cold_start()
        m = run_measured(
            self.hostlocate_batch(source, output, cache, summary_path, lifted=False)
        ).check("hostlocate batch (big)")
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        lines = 0
        with output.open("rb") as f:
            for _ in f:
                lines += 1
        counts = self.network_counts(before)
        if lines != n or summary["records"] != n:
            raise RuntimeError(f"big run: {lines} verdict lines, {summary['records']} for {n}")
        self.rows["big"] = Row(
            f"big   hostlocate batch, {n:,} records",
            n,
            summary["elapsed_s"],
            wall_s=m.wall_s,
            rss_kb=m.max_rss_kb,
            unbound_queries=counts["unbound_queries"],
            rdap_ip=counts["rdap_ip"],
            rdap_domain=counts["rdap_domain"],
            notes=", ".join(f"{k} {v:,}" for k, v in summary["status"].items()),
            extra={"summary": summary, "counts": counts, "output_bytes": output.stat().st_size},
        )
        output.unlink()
        source.unlink()


def _median_row(rows: list[Row]) -> Row:
    ordered = sorted(rows, key=lambda r: r.seconds)
    row = ordered[len(ordered) // 2]
    if len(rows) > 1:
        row.notes = (
            f"median of {len(rows)}; best {ordered[0].rate:,.0f}/s; "
            f"{row.records / row.wall_s:,.0f}/s with interpreter start; " + row.notes
        )
    elif row.wall_s:
        row.notes = f"{row.records / row.wall_s:,.0f}/s with interpreter start; " + row.notes
    row.extra["runs_s"] = [r.seconds for r in rows]
    row.extra["runs_wall_s"] = [r.wall_s for r in rows]
    return row


def _status_note(tally: dict[str, Any]) -> str:
    parts = [f"{k} {v:,}" for k, v in tally["status"].items()]
    if tally.get("rdap_unavailable"):
        parts.append(f"rdap_unavailable {tally['rdap_unavailable']:,}")
    return ", ".join(parts)


# -- report --------------------------------------------------------------------------------------


def _fmt(value: float | int | None, spec: str = ",.0f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


def source_state() -> str:
    """The commit measured, and whether src/ had uncommitted changes (the tree is shared)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (commit or "unknown") + (" with uncommitted changes in src/" if dirty else "")


def _short(row: Row) -> str:
    return row.label.split("  ", 1)[1]


def report(bench: Bench) -> dict[str, Any]:
    args, rows, facts = bench.args, bench.rows, bench.facts
    lines = [
        f"hostlocate batch benchmark, {_dt.datetime.now(_dt.UTC):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"hostlocate at {facts['source']}",
        f"input: {facts['records']:,} records ({facts['distinct_inputs']:,} distinct texts) over "
        f"{facts['distinct_names']:,} names, {facts['distinct_addresses']:,} addresses, "
        f"{facts['distinct_networks']:,} networks, 1 registered domain; resolver latency "
        f"{args.latency_ms:g} ms; concurrency {args.concurrency}; warm runs on CPU {bench.cpu}",
        "",
        f"{'run':<44} {'records':>9} {'seconds':>8} {'rec/s':>9} {'peak RSS':>9} "
        f"{'DNS q':>6} {'unbound':>7} {'RDAP ip':>7} {'dom':>4}  notes",
    ]
    for row in rows.values():
        rss = f"{row.rss_kb / 1024:,.0f} MB" if row.rss_kb else "-"
        lines.append(
            f"{row.label:<44} {row.records:>9,} {row.seconds:>8.2f} {_fmt(row.rate):>9} "
            f"{rss:>9} {_fmt(row.dns_queries):>6} {_fmt(row.unbound_queries):>7} "
            f"{_fmt(row.rdap_ip):>7} {_fmt(row.rdap_domain):>4}  {row.notes}"
        )
    lines += [
        "",
        "seconds: the locate pass (library) or the command's own elapsed time, which starts",
        "before it builds the locator and opens the cache (interpreter start-up not included);",
        "peak RSS: ru_maxrss of that process; DNS q: sum of verdict.dns.queries; unbound: its",
        "total.num.queries; RDAP ip / dom: requests the RDAP lab received for networks / domains.",
        "",
    ]
    verdicts: dict[str, Any] = {}
    base = rows.get("baseline")
    if base is not None:
        lines.append(
            f"baseline: {base.extra['geoip2_country_note']}; "
            f"{base.extra['loopback_connections_checked']:,} socket connects and sends checked, "
            "all to loopback (any other would have aborted it)"
        )
        for key in ("cold_library", "cold_cli", "cold_cli_default"):
            if key in rows:
                ratio = rows[key].rate / base.rate
                verdicts[f"ratio_{key}"] = ratio
                mark = "meets" if ratio >= TARGET_COLD_RATIO else "below"
                lines.append(
                    f"cold / baseline  {_short(rows[key]):<40} {ratio:>8,.1f}x  "
                    f"({mark} the target of {TARGET_COLD_RATIO:g}x)"
                )
    else:
        lines.append(f"baseline skipped: {facts.get('baseline_skipped', 'disabled')}")
    for key in ("warm_cli", "warm_cli_long", "warm_cli_marginal", "warm_library"):
        if key in rows:
            rate = rows[key].rate
            verdicts[f"rate_{key}"] = rate
            mark = "meets" if rate >= TARGET_WARM_RATE else "below"
            lines.append(
                f"warm rate        {_short(rows[key]):<40} {rate:>8,.0f}/s  "
                f"({mark} the target of {TARGET_WARM_RATE:,.0f}/s)"
            )
    names, networks = facts["distinct_names"], facts["distinct_networks"]
    dns_bound = 2 * (names + facts["cname_targets"])
    lines.append(
        f"bounds: DNS queries <= 2 (A, AAAA) x (names {names:,} + CNAME targets "
        f"{facts['cname_targets']}) = {dns_bound:,}; RDAP network requests <= networks "
        f"{networks:,}; domain requests <= registered domains {facts['registered_domains']}"
    )
    for key in ("cold_library", "cold_cli", "cold_cli_default"):
        row = rows.get(key)
        if row is None:
            continue
        tally, counts = row.extra["tally"], row.extra["counts"]
        dns_ok = (row.dns_queries or 0) <= dns_bound
        rdap_ok = (row.rdap_ip or 0) <= networks and (row.rdap_domain or 0) <= facts[
            "registered_domains"
        ]
        verdicts[f"bounds_{key}"] = dns_ok and rdap_ok
        dns_mark = "ok" if dns_ok else "OVER"
        if not dns_ok and tally["hosts_asked_again_within_ttl"] == 0:
            # Every name asked again had outlived its shortest TTL: correct, and
            # only in runs longer than that TTL (the bound counts one answer a name).
            dns_mark = "over by answers expired (TTL)"
            verdicts[f"bounds_{key}_within_ttls"] = rdap_ok
        lines.append(
            f"  {_short(row):<40} DNS {row.dns_queries:,} {dns_mark} "
            f"({tally['hosts_asked_again']:,} names asked again, "
            f"{tally['hosts_asked_again_within_ttl']:,} of them within their TTL); "
            f"RDAP {row.rdap_ip:,} + "
            f"{row.rdap_domain} {'ok' if rdap_ok else 'OVER'} "
            f"({counts['rdap_networks_asked_again']:,} networks asked again)"
        )
    big = rows.get("big")
    if big is not None and big.rss_kb:
        mb = big.rss_kb / 1024
        verdicts["big_rss_mb"] = mb
        mark = "meets" if mb < TARGET_BIG_RSS_MB else "misses"
        lines.append(
            f"bounded memory: {big.records:,} records, peak RSS {mb:,.0f} MB "
            f"({mark} the target of < {TARGET_BIG_RSS_MB:g} MB), {big.rate:,.0f} records/s"
        )
    print("\n".join(lines))
    return {
        "facts": facts,
        "options": vars(args),
        "rows": {k: {**vars(r), "rate": r.rate} for k, r in rows.items()},
        "verdicts": verdicts,
        "cpu": bench.cpu,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "finished_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }


# -- command line --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=None, help="records in the batch (10,000)")
    p.add_argument("--hosts", type=int, default=None, help="distinct lab names (2,000)")
    p.add_argument("--latency-ms", type=float, default=30.0, help="resolver latency (30)")
    p.add_argument(
        "--baseline-sample",
        type=int,
        default=None,
        help="records the naive baseline runs (200; 0 skips it)",
    )
    p.add_argument("--concurrency", type=int, default=64, help="look-ups in flight (64)")
    p.add_argument(
        "--warm-records", type=int, default=None, help="records of the long warm run (50,000)"
    )
    p.add_argument("--warm-runs", type=int, default=None, help="repeats of each warm run (3)")
    p.add_argument(
        "--big-records",
        type=int,
        default=0,
        metavar="N",
        help="also run N records (e.g. 1000000) through hostlocate batch for its peak RSS "
        "(off by default: it takes minutes)",
    )
    p.add_argument("--quick", action="store_true", help="small numbers: a smoke run")
    p.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    args = p.parse_args(argv)
    small = {"records": 1_000, "hosts": 60, "baseline_sample": 10, "warm_records": 5_000}
    full = {"records": 10_000, "hosts": 2_000, "baseline_sample": 200, "warm_records": 50_000}
    for key, value in (small if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.warm_runs is None:
        args.warm_runs = 1 if args.quick else 3
    if args.records < 1 or args.hosts < 1 or args.warm_runs < 1:
        p.error("--records, --hosts and --warm-runs must be at least 1")
    return args


def child_main(argv: list[str]) -> None:
    rest = argv[1:]
    p = argparse.ArgumentParser()
    p.add_argument("--input", required=True)
    p.add_argument("--nameserver", required=True)
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--warm-passes", type=int, default=3)
    p.add_argument("--cpu", type=int, default=None)
    child_library(p.parse_args(rest))


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_library":
        child_main(argv)
        return
    args = parse_args(argv)
    from tests.netlab import LabUnavailable as DnsLabUnavailable
    from tests.rdaplab import LabUnavailable as RdapLabUnavailable

    global BYTECODE
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    BYTECODE = work / "bytecode"
    try:
        bench = Bench(args, work)
        try:
            bench.run()
        except (DnsLabUnavailable, RdapLabUnavailable) as exc:
            raise SystemExit(f"bench_batch: the loopback lab cannot start: {exc}") from None
        data = report(bench)
        if args.json:
            Path(args.json).write_text(json.dumps(data, indent=2, default=str) + "\n")
    finally:
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
