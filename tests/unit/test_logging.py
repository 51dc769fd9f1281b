"""Privacy: what hostlocate writes to logs, what it contacts, and what it keeps on disk.

Reported URLs point at abuse material and are evidence: no log record above
DEBUG may carry one, its path or its query; the library contacts the DNS
resolvers and RDAP services it is given and nothing else (never the reported
host, no telemetry); importing it does nothing; a ``Locator`` keeps what it
learns in memory unless it is given a persistent store, which holds host
names and registry answers, never paths or queries.

Every record is captured from every logger (hostlocate's, httpx's, asyncio's)
at every level while verdicts are made for inputs whose path, query and
fragment hold a marker. What the process contacts and writes is recorded in a
child process by an audit hook (``sys.addaudithook``): every socket
connection and datagram, every file opened for writing, every SQLite
connection, every process started. The tests that need the loopback test
internet are marked ``integration``.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hostlocate import Locator
from hostlocate._log import ROOT, get_logger, input_ref
from hostlocate.cli import main
from hostlocate.store import SqliteStore
from tests.netlab import DnsLab
from tests.rdaplab import NO_RATE_LIMITS, RdapLab

REPO = Path(__file__).resolve().parents[2]
MARK = "q7Zmark"
"""In every path, query and fragment below: a record holding it leaked a URL."""


LAB_URLS = [
    f"https://www.brand-shop.com/{MARK}/a?token={MARK}#{MARK}",
    f"hxxp://www.ovh-site[.]fr/{MARK}?q={MARK}",
    f"www.kr-site.com/{MARK}",  # its registry answers 500 below
    f"http://185.10.3.4/{MARK}",  # the abuse contact is fetched by link
    f"cdn.cf-site.com/{MARK}",
    f"half.corp-site.com/{MARK}",
    f"nope.corp-site.com/{MARK}",
    f"www.broken-site.com/{MARK}",
    f"loop1.corp-site.com/{MARK}",
]
LOCAL_URLS = [
    f"http://193.0.6.139/{MARK}?{MARK}",
    f"http://[2a00:2381:ffff::1]:8443/{MARK}",
    f"http://10.0.0.1/{MARK}",
    f"http://localhost/{MARK}",
    f"hxxp://abcdefghijklmnop[.]onion/{MARK}",
    f"http://[1::2::3]/{MARK}",
    f"javascript:alert('{MARK}')",
    f"http://example.fr:99999/{MARK}",
    f"http://{'a' * 64}.com/{MARK}",  # a name DNS cannot carry
    f"{MARK} " * 3000,  # too long
    "",
]


def leaks(records: list[logging.LogRecord], secrets: list[str]) -> list[str]:
    """Records above DEBUG whose text, arguments or exception hold a secret."""
    found = []
    for record in records:
        if record.levelno <= logging.DEBUG:
            continue
        text = record.getMessage() + repr(record.args)
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        text += record.exc_text or ""
        if any(secret in text for secret in secrets):
            found.append(f"{record.name} {record.levelname}: {record.getMessage()[:200]}")
    return found


def secrets_of(urls: list[str]) -> list[str]:
    return [MARK, *(u for u in urls if u and u.strip())]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every record of every logger, DEBUG and up (read ``.records`` after the fact)."""
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
def lab(rdap_lab: RdapLab) -> Iterator[RdapLab]:
    rdap_lab.reset()
    yield rdap_lab
    rdap_lab.reset()


# -- logs ----------------------------------------------------------------------------------


def test_inputs_that_need_no_network_log_no_url(logs: pytest.LogCaptureFixture) -> None:
    with Locator(["127.0.0.1:9"], rdap=False, timeout=1.0) as loc:
        verdicts = [loc.locate(u) for u in LOCAL_URLS]
        verdicts += list(loc.locate_many(LOCAL_URLS, concurrency=4))
    assert {v.status for v in verdicts} >= {"located", "not_routable", "invalid"}
    assert leaks(logs.records, secrets_of(LOCAL_URLS)) == []


@pytest.mark.integration
def test_locating_on_the_test_internet_logs_no_url_above_debug(
    dns_lab: DnsLab, lab: RdapLab, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    lab.server_error("apnic", times=None)
    urls = LAB_URLS + LOCAL_URLS
    with (
        SqliteStore(tmp_path / "cache.sqlite3") as store,
        Locator(
            [dns_lab.resolver],
            rdap_bootstrap=lab.bootstrap_dir,
            rdap_options=NO_RATE_LIMITS,
            cache=store,
        ) as loc,
    ):
        verdicts = [loc.locate(u) for u in urls] + list(loc.locate_many(urls, concurrency=8))
    assert {v.status for v in verdicts} == {"located", "unresolved", "not_routable", "invalid"}
    assert logs.records, "nothing was logged at all: the capture is not working"
    assert leaks(logs.records, secrets_of(urls)) == []


@pytest.mark.integration
def test_the_batch_command_logs_and_prints_no_url(
    dns_lab: DnsLab,
    lab: RdapLab,
    tmp_path: Path,
    logs: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    urls = LAB_URLS + LOCAL_URLS
    source = tmp_path / "reports.txt"
    source.write_text("\n".join(u.replace("\n", " ") for u in urls) + "\n", encoding="utf-8")
    rates = [arg for r in NO_RATE_LIMITS["rate_limits"] for arg in ("--rdap-rate", f"{r}=1000")]
    code = main(
        [
            "batch",
            str(source),
            "-o",
            str(tmp_path / "verdicts.jsonl"),
            "--nameserver",
            dns_lab.resolver,
            "--rdap-bootstrap",
            str(lab.bootstrap_dir),
            *rates,
            "--cache",
            str(tmp_path / "cache.sqlite3"),
            "--no-progress",
            "--summary-json",
            str(tmp_path / "summary.json"),
        ]
    )
    assert code == 0
    out, err = capsys.readouterr()
    assert MARK not in out + err
    assert MARK not in (tmp_path / "summary.json").read_text(encoding="utf-8")
    assert leaks(logs.records, secrets_of(urls)) == []
    # The output is the user's own record of each input: it does hold them.
    assert MARK in (tmp_path / "verdicts.jsonl").read_text(encoding="utf-8")


def test_the_check_would_see_a_leak(logs: pytest.LogCaptureFixture) -> None:
    url = LOCAL_URLS[0]
    get_logger("hostlocate.example").debug("looking at %s", url)
    assert leaks(logs.records, secrets_of([url])) == []
    get_logger("hostlocate.example").warning("failed on %s", url)
    assert len(leaks(logs.records, secrets_of([url]))) == 1
    try:
        raise ValueError(url)
    except ValueError:
        get_logger("hostlocate.example").exception("internal error")
    assert len(leaks(logs.records, secrets_of([url]))) == 2


# -- the logging helper ----------------------------------------------------------------------


def test_loggers_live_under_hostlocate() -> None:
    assert get_logger("hostlocate.locator").name == "hostlocate.locator"
    assert get_logger("batch").name == "hostlocate.batch"
    assert get_logger(ROOT) is logging.getLogger("hostlocate")
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger(ROOT).handlers)


def test_an_input_reference_names_an_input_without_revealing_it() -> None:
    url = f"https://www.brand-shop.com/{MARK}?x=1"
    ref = input_ref(url)
    assert ref == input_ref(url) != input_ref(url + " ")
    assert ref.startswith("input-") and len(ref) == len("input-") + 12
    assert MARK not in ref and "brand" not in ref
    assert input_ref("\ud800") != input_ref("")  # any str, lone surrogates too


# -- what is contacted, written and started: recorded in a child process -----------------------

_AUDITED = r"""
import json, os, sys

EVENTS = []
WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def hook(event, args):
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        address = args[1]
        EVENTS.append([event, list(address) if isinstance(address, tuple) else repr(address)])
    elif event == "socket.getaddrinfo":
        EVENTS.append([event, [repr(args[0]), repr(args[1])]])
    elif event == "open":
        path, mode, flags = args
        writes = isinstance(mode, str) and any(c in mode for c in "wax+")
        if writes or (isinstance(flags, int) and flags & WRITE):
            EVENTS.append(["open-write", str(path)])
    elif event in ("sqlite3.connect", "subprocess.Popen", "os.system", "os.posix_spawn",
                   "os.exec", "os.fork", "os.spawn", "urllib.Request"):
        EVENTS.append([event, repr(args)[:200]])


sys.addaudithook(hook)
import hostlocate
import hostlocate.batch
import hostlocate.cli
import hostlocate.locator

hostlocate.parse_reported_url("hxxps://www.example[.]com/a?b")
print(json.dumps(EVENTS))
EVENTS.clear()
if len(sys.argv) > 1:
    setup = json.loads(sys.argv[1])
    with hostlocate.Locator(
        [setup["resolver"]],
        rdap_bootstrap=setup["bootstrap"],
        rdap_options={"rate_limits": {k: 1000.0 for k in setup["registries"]}},
    ) as loc:
        statuses = [loc.locate(u).status for u in setup["urls"]]
        statuses += [v.status for v in loc.locate_many(setup["urls"])]
    print(json.dumps(EVENTS))
    print(json.dumps(statuses))
"""


def _audited(*args: str) -> list[Any]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONDONTWRITEBYTECODE": "1",  # the interpreter's own .pyc writes are not ours
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
    }
    done = subprocess.run(
        [sys.executable, "-c", _AUDITED, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_importing_contacts_nothing_writes_nothing_starts_nothing() -> None:
    (at_import,) = _audited()
    assert at_import == []


@pytest.mark.integration
def test_only_the_given_resolvers_and_registry_services_are_contacted(
    dns_lab: DnsLab, lab: RdapLab
) -> None:
    urls = [
        f"http://www.ch-site.com/{MARK}",  # 130.59.31.80
        f"http://193.0.6.139/{MARK}",
        f"hxxps://www.brand-shop[.]com/{MARK}",  # 88.198.1.1, through two CNAMEs
        f"http://[2a00:2381:ffff::1]/{MARK}",
        f"http://cdn.cf-site.com/{MARK}",
        "http://10.0.0.1/",
        "http://lo.corp-site.com/",
    ]
    setup = {
        "resolver": dns_lab.resolver,
        "bootstrap": str(lab.bootstrap_dir),
        "registries": list(NO_RATE_LIMITS["rate_limits"]),
        "urls": urls,
    }
    at_import, events, statuses = _audited(json.dumps(setup))
    assert at_import == []
    assert set(statuses) == {"located", "not_routable"}
    resolver = dns_lab.resolver.rsplit(":", 1)
    registry = lab.base_url.removeprefix("http://").rsplit(":", 1)
    allowed = {(resolver[0], int(resolver[1])), (registry[0], int(registry[1]))}
    sockets = [e for e in events if e[0] in ("socket.connect", "socket.sendto", "socket.sendmsg")]
    assert sockets, events
    assert {(host, port) for _, (host, port) in sockets} <= allowed, events
    # Name look-ups, if any, are only of the addresses given (no system resolver involved).
    assert all(e[1][0].strip("'") in ("127.0.0.1", "b'127.0.0.1'") for e in events
               if e[0] == "socket.getaddrinfo"), events  # fmt: skip
    # Memory only: no file written, no SQLite opened, no process started.
    assert [e for e in events if e[0] not in ("socket.connect", "socket.sendto",
            "socket.sendmsg", "socket.getaddrinfo")] == []  # fmt: skip


@pytest.mark.integration
def test_the_persistent_cache_holds_host_names_never_paths(
    dns_lab: DnsLab, lab: RdapLab, tmp_path: Path
) -> None:
    path = tmp_path / "cache.sqlite3"
    with (
        SqliteStore(path) as store,
        Locator(
            [dns_lab.resolver],
            rdap_bootstrap=lab.bootstrap_dir,
            rdap_options=NO_RATE_LIMITS,
            cache=store,
        ) as loc,
    ):
        for url in LAB_URLS:
            loc.locate(url)
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("cache"))
    assert b"www.brand-shop.com" in stored  # host names are kept: say so in the docs
    assert MARK.encode() not in stored
    assert b"token=" not in stored
