"""Start and stop the DNS half of the loopback test internet.

NSD serves the zones of `zones.py`; unbound resolves recursively over them; two
small relays (`relays.py`) give a port that never answers and a port that
answers late. Everything binds 127.0.0.1 on free high ports and keeps its
configuration, logs and PID files in one working folder.

Unbound cannot follow referrals to NSD by themselves (a referral carries an
address, never a port, so it would ask port 53). It gets one `stub-zone` per
hosted zone instead, each pointing at NSD's port: it then asks each zone with
its own query, scrubs what is out of that zone, and chases every CNAME target
as on the internet. The delegation records (NS and glue) are real and
consistent all the same, and a delegation to a zone nobody serves is followed
like any referral.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import dataclasses
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode

from tests.netlab.zones import (
    BROKEN_DELEGATIONS,
    HOSTED_ZONES,
    SCENARIOS,
    Scenario,
    render_zones,
    zone_file_name,
)

__all__ = ["DnsLab", "LabError", "LabUnavailable", "find_binary", "start_dns_lab"]

HOST = "127.0.0.1"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 3.0
INSTALL_HINT = "apt-get install nsd unbound"
_SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")
_RELAYS = Path(__file__).with_name("relays.py")


class LabError(RuntimeError):
    """The lab could not start or a server misbehaved; the message holds its logs."""


class LabUnavailable(LabError):
    """A server program the lab needs is not installed."""


def find_binary(name: str) -> str | None:
    """Path of a server program, looking in the sbin folders that PATH may lack."""
    found = shutil.which(name)
    if found:
        return found
    for folder in _SBIN_DIRS:
        candidate = Path(folder, name)
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _binaries() -> dict[str, str]:
    names = ("nsd", "unbound", "unbound-control")
    found = {name: find_binary(name) for name in names}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise LabUnavailable(f"{', '.join(missing)} not installed: {INSTALL_HINT}")
    return {name: path for name, path in found.items() if path is not None}


def _free_port() -> int:
    """A port free for both UDP and TCP on loopback at the time of asking."""
    for _ in range(50):
        with (
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
        ):
            tcp.bind((HOST, 0))
            port: int = tcp.getsockname()[1]
            try:
                udp.bind((HOST, port))
            except OSError:
                continue
            return port
    raise LabError("no free loopback port")


def split_address(address: str) -> tuple[str, int]:
    """("127.0.0.1", 5353) from "127.0.0.1:5353"."""
    host, _, port = address.rpartition(":")
    return host, int(port)


def _nsd_conf(work: Path, port: int, *, ratelimit_options: bool) -> str:
    d = work / "nsd"
    rrl = (
        # Every query comes from 127.0.0.1: rate limiting would drop answers.
        "    rrl-ratelimit: 0\n    rrl-whitelist-ratelimit: 0\n" if ratelimit_options else ""
    )
    zones = "".join(
        f'zone:\n    name: "{zone}"\n    zonefile: "{zone_file_name(zone)}"\n'
        f"    provide-xfr: {HOST} NOKEY\n"
        for zone in HOSTED_ZONES
    )
    return (
        "server:\n"
        f"    ip-address: {HOST}@{port}\n"
        "    do-ip6: no\n"
        "    server-count: 1\n"
        '    username: ""\n'
        '    chroot: ""\n'
        f'    zonesdir: "{work / "zones"}"\n'
        '    database: ""\n'
        f'    zonelistfile: "{d / "zone.list"}"\n'
        f'    xfrdfile: "{d / "xfrd.state"}"\n'
        f'    xfrdir: "{d}"\n'
        f'    pidfile: "{d / "nsd.pid"}"\n'
        f'    logfile: "{d / "nsd.log"}"\n'
        "    verbosity: 1\n"
        "    zonefiles-write: 0\n"
        "    reuseport: no\n"
        "    tcp-count: 256\n"
        "    round-robin: no\n"
        f"{rrl}"
        "remote-control:\n"
        "    control-enable: no\n"
        f"{zones}"
    )


def _unbound_conf(work: Path, port: int, control_port: int, nsd_port: int) -> str:
    d = work / "unbound"
    refused = "".join(
        f'    local-zone: "{s.name.split(".", 1)[1]}." refuse\n'
        for s in SCENARIOS.values()
        if s.rcode == "REFUSED"
    )
    stubs = "".join(
        f'stub-zone:\n    name: "{zone}"\n    stub-addr: {HOST}@{nsd_port}\n'
        for zone in HOSTED_ZONES
    )
    return (
        "server:\n"
        f"    interface: {HOST}@{port}\n"
        f"    port: {port}\n"
        "    do-ip4: yes\n"
        "    do-ip6: no\n"
        "    do-udp: yes\n"
        "    do-tcp: yes\n"
        "    do-daemonize: no\n"
        "    use-systemd: no\n"
        '    username: ""\n'
        '    chroot: ""\n'
        f'    directory: "{d}"\n'
        f'    pidfile: "{d / "unbound.pid"}"\n'
        f'    logfile: "{d / "unbound.log"}"\n'
        "    use-syslog: no\n"
        "    verbosity: 1\n"
        "    log-servfail: yes\n"
        "    num-threads: 1\n"
        "    so-reuseport: no\n"
        f"    access-control: {HOST}/8 allow\n"
        # NSD listens on loopback: the default refuses to send queries there.
        "    do-not-query-localhost: no\n"
        # No DNSSEC in the lab: iterator only, no validator.
        '    module-config: "iterator"\n'
        "    qname-minimisation: no\n"
        # The default (11) fails chain0.corp-site.com, whose 12 CNAMEs are meant
        # to reach the library; loop1/loop2 still fail once this is spent.
        "    max-query-restarts: 16\n"
        "    prefetch: no\n"
        "    serve-expired: no\n"
        "    rrset-roundrobin: yes\n"
        # The DNS flag day size: big.corp-site.com does not fit, so it truncates.
        "    edns-buffer-size: 1232\n"
        "    max-udp-size: 1232\n"
        "    msg-cache-size: 8m\n"
        "    rrset-cache-size: 16m\n"
        "    num-queries-per-thread: 2048\n"
        "    outgoing-range: 4096\n"
        '    local-zone: "test." nodefault\n'
        f"{refused}"
        "remote-control:\n"
        "    control-enable: yes\n"
        f"    control-interface: {HOST}\n"
        f"    control-port: {control_port}\n"
        "    control-use-cert: no\n"
        f"{stubs}"
    )


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the process that started the lab dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclasses.dataclass
class _Process:
    name: str
    popen: subprocess.Popen[bytes]
    logs: tuple[Path, ...]

    def alive(self) -> bool:
        return self.popen.poll() is None

    def errors(self) -> list[str]:
        """Lines the server logged as errors (NSD and unbound write "error:")."""
        found = []
        for log in self.logs:
            with contextlib.suppress(OSError):
                found += [
                    ln for ln in log.read_text(errors="replace").splitlines() if "error:" in ln
                ]
        return found

    def log_tail(self, lines: int = 40) -> str:
        parts = []
        for log in self.logs:
            with contextlib.suppress(OSError):
                text = log.read_text(errors="replace").splitlines()
                errors = [ln for ln in text[:-lines] if "error:" in ln]
                parts.append(f"--- {log.name} ---\n" + "\n".join(errors + text[-lines:]))
        return "\n".join(parts) or f"--- {self.name}: no log ---"

    def stop(self) -> None:
        if self.popen.stdin is not None:
            with contextlib.suppress(OSError):
                self.popen.stdin.close()
        if self.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(STOP_TIMEOUT)
        else:
            # The leader is gone; its children (NSD's server and xfrd) may not be.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGKILL)
        if self.popen.stdout is not None:
            self.popen.stdout.close()


def _spawn(
    name: str, argv: Sequence[str], log: Path, extra_logs: Sequence[Path] = (), *, pipe: bool
) -> _Process:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE if pipe else subprocess.DEVNULL,
            stdout=subprocess.PIPE if pipe else out,
            stderr=out,
            start_new_session=True,
            preexec_fn=(
                _die_with_parent if threading.current_thread() is threading.main_thread() else None
            ),
        )
    return _Process(name=name, popen=popen, logs=(log, *extra_logs))


def _query(
    address: tuple[str, int], qname: str, rdtype: str, timeout: float
) -> dns.message.Message:
    query = dns.message.make_query(qname, rdtype)
    return dns.query.udp(query, address[0], port=address[1], timeout=timeout)


def _wait_until(
    check: Callable[[], bool], processes: Sequence[_Process], what: str, deadline: float
) -> None:
    delay = 0.005
    while True:
        for proc in processes:
            if not proc.alive():
                raise LabError(
                    f"{proc.name} exited with {proc.popen.returncode} while {what}\n"
                    + proc.log_tail()
                )
        with contextlib.suppress(OSError, dns.exception.DNSException):
            if check():
                return
        if time.monotonic() > deadline:
            raise LabError(f"timed out while {what}\n" + "\n".join(p.log_tail() for p in processes))
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def _read_port(proc: _Process, deadline: float) -> int:
    assert proc.popen.stdout is not None
    fd = proc.popen.stdout.fileno()
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(remaining, 0))
        if not ready:
            raise LabError(f"{proc.name} printed no port in time\n{proc.log_tail()}")
        chunk = os.read(fd, 64)
        if not chunk:
            raise LabError(f"{proc.name} exited before printing its port\n{proc.log_tail()}")
        line += chunk
    return int(line)


class DnsLab:
    """A running DNS lab. Addresses are "127.0.0.1:PORT" strings.

    resolver: unbound, recursive, the one the library under test should ask.
    authoritative: NSD, serving every hosted zone (no recursion).
    blackhole: reads UDP and TCP queries and never answers.
    slow: a forwarder to the resolver that delays each answer (None unless
    started with latency_ms > 0 or by start_forwarder()).
    names: scenario key -> host name (see zones.SCENARIOS for the expected data).
    """

    scenarios: Mapping[str, Scenario] = SCENARIOS

    def __init__(
        self,
        *,
        workdir: Path,
        binaries: Mapping[str, str],
        nsd: _Process,
        unbound: _Process,
        blackhole: _Process,
        ports: Mapping[str, int],
    ) -> None:
        self.workdir = workdir
        self._binaries = dict(binaries)
        self._processes: list[_Process] = [nsd, unbound, blackhole]
        self._ports = dict(ports)
        self.resolver = f"{HOST}:{ports['unbound']}"
        self.authoritative = f"{HOST}:{ports['nsd']}"
        self.blackhole = f"{HOST}:{ports['blackhole']}"
        self.slow: str | None = None
        self.forwarders: dict[float, str] = {}
        self._odd_forwarders: dict[tuple[float, float, bool, bool], str] = {}
        self.names: dict[str, str] = {key: s.name for key, s in SCENARIOS.items()}
        self.broken_delegations = dict(BROKEN_DELEGATIONS)
        self._stopped = False
        atexit.register(self.stop)

    def __enter__(self) -> DnsLab:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running"
        return f"<DnsLab {state} resolver={self.resolver} authoritative={self.authoritative}>"

    def start_forwarder(
        self,
        latency_ms: float,
        *,
        loss: float = 0.0,
        drop_first: bool = False,
        garbage: bool = False,
    ) -> str:
        """Start a forwarder to the resolver that delays each answer; its address.

        ``loss``, ``drop_first`` and ``garbage`` make its UDP side misbehave
        (see relays.py). One forwarder per combination, started once.
        """
        key = (latency_ms, loss, drop_first, garbage)
        plain = key[1:] == (0.0, False, False)
        if plain and latency_ms in self.forwarders:
            return self.forwarders[latency_ms]
        if key in self._odd_forwarders:
            return self._odd_forwarders[key]
        deadline = time.monotonic() + START_TIMEOUT
        extra = [f"--loss={loss}"] if loss else []
        extra += ["--drop-first"] if drop_first else []
        extra += ["--garbage"] if garbage else []
        label = " ".join([f"{latency_ms:g} ms", *extra])
        proc = _spawn(
            f"forwarder({label})",
            [
                sys.executable,
                str(_RELAYS),
                "forward",
                "--upstream",
                self.resolver,
                "--latency-ms",
                str(latency_ms),
                *extra,
            ],
            self.workdir / "relays" / f"forward-{label.replace(' ', '_')}.log",
            pipe=True,
        )
        self._processes.append(proc)
        address = f"{HOST}:{_read_port(proc, deadline)}"
        if not plain:
            self._odd_forwarders[key] = address
            return address
        self.forwarders[latency_ms] = address
        if self.slow is None:
            self.slow = address
        return address

    def control(self, *command: str) -> str:
        """Run an unbound-control command against the lab's unbound; its output."""
        argv = [
            self._binaries["unbound-control"],
            "-c",
            str(self.workdir / "unbound" / "unbound.conf"),
            "-s",
            f"{HOST}@{self._ports['control']}",
            *command,
        ]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
        if done.returncode != 0:
            output = done.stdout + done.stderr
            raise LabError(f"unbound-control {' '.join(command)} failed: {output}")
        return done.stdout

    def flush(self) -> None:
        """Empty unbound's caches so that the next queries go to NSD again."""
        self.control("flush_zone", ".")
        self.control("flush_infra", "all")
        self.control("flush_requestlist")

    def stats(self) -> dict[str, float]:
        """unbound's counters (e.g. "total.num.cachemiss"), without resetting them."""
        out = self.control("stats_noreset")
        pairs = (line.split("=", 1) for line in out.splitlines() if "=" in line)
        return {key: float(value) for key, value in pairs}

    def logs(self) -> str:
        """The tail of every server's log, for failure messages."""
        return "\n".join(p.log_tail() for p in self._processes)

    def stop(self) -> None:
        """Stop every process of the lab (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        for proc in reversed(self._processes):
            proc.stop()
        atexit.unregister(self.stop)


def _write_config(work: Path, ports: Mapping[str, int]) -> None:
    zones_dir = work / "zones"
    zones_dir.mkdir(parents=True, exist_ok=True)
    (work / "nsd").mkdir(exist_ok=True)
    (work / "unbound").mkdir(exist_ok=True)
    for zone, text in render_zones(serial=int(time.time())).items():
        (zones_dir / zone_file_name(zone)).write_text(text)
    conf = work / "nsd" / "nsd.conf"
    conf.write_text(_nsd_conf(work, ports["nsd"], ratelimit_options=True))
    checkconf = find_binary("nsd-checkconf")
    if checkconf is not None:
        check = subprocess.run([checkconf, str(conf)], capture_output=True, text=True, check=False)
        if check.returncode != 0 and "rrl" in check.stdout + check.stderr:
            # Built without rate limiting: nothing to turn off, and no such options.
            conf.write_text(_nsd_conf(work, ports["nsd"], ratelimit_options=False))
    (work / "unbound" / "unbound.conf").write_text(
        _unbound_conf(work, ports["unbound"], ports["control"], ports["nsd"])
    )


def _start_once(work: Path, binaries: Mapping[str, str], latency_ms: float) -> DnsLab:
    ports = {"nsd": _free_port(), "unbound": _free_port(), "control": _free_port()}
    _write_config(work, ports)
    deadline = time.monotonic() + START_TIMEOUT
    nsd_log = work / "nsd" / "nsd.log"
    unbound_log = work / "unbound" / "unbound.log"
    for log in (nsd_log, unbound_log):
        log.unlink(missing_ok=True)
    started: list[_Process] = []
    try:
        nsd = _spawn(
            "nsd",
            [binaries["nsd"], "-d", "-c", str(work / "nsd" / "nsd.conf")],
            work / "nsd" / "nsd.stderr",
            (nsd_log,),
            pipe=False,
        )
        started.append(nsd)
        unbound = _spawn(
            "unbound",
            [binaries["unbound"], "-d", "-c", str(work / "unbound" / "unbound.conf")],
            work / "unbound" / "unbound.stderr",
            (unbound_log,),
            pipe=False,
        )
        started.append(unbound)
        blackhole = _spawn(
            "blackhole",
            [sys.executable, str(_RELAYS), "blackhole"],
            work / "relays" / "blackhole.log",
            pipe=True,
        )
        started.append(blackhole)
        ports["blackhole"] = _read_port(blackhole, deadline)

        nsd_address = (HOST, ports["nsd"])
        pending = set(HOSTED_ZONES)

        def zones_loaded() -> bool:
            for zone in sorted(pending):
                reply = _query(nsd_address, zone, "SOA", 0.2)
                if reply.rcode() == dns.rcode.NOERROR and reply.flags & dns.flags.AA:
                    pending.discard(zone)
            return not pending

        def zones_loaded_or_failed() -> bool:
            if zones_loaded():
                return True
            if nsd.errors():
                raise LabError(f"NSD does not serve {sorted(pending)}\n{nsd.log_tail()}")
            return False

        _wait_until(zones_loaded_or_failed, [nsd], "waiting for NSD to serve every zone", deadline)

        def resolver_ready() -> bool:
            reply = _query((HOST, ports["unbound"]), ".", "SOA", 0.5)
            return reply.rcode() == dns.rcode.NOERROR and bool(reply.answer)

        _wait_until(resolver_ready, [nsd, unbound], "waiting for unbound to answer", deadline)
        lab = DnsLab(
            workdir=work,
            binaries=binaries,
            nsd=nsd,
            unbound=unbound,
            blackhole=blackhole,
            ports=ports,
        )
    except BaseException:
        for proc in reversed(started):
            proc.stop()
        raise
    try:
        if latency_ms > 0:
            lab.start_forwarder(latency_ms)
        lab.flush()
    except BaseException:
        lab.stop()
        raise
    return lab


def start_dns_lab(workdir: Path, *, latency_ms: float = 0) -> DnsLab:
    """Start NSD, unbound, the blackhole and (latency_ms > 0) a slow forwarder.

    Raises LabUnavailable when a server program is missing, LabError (with the
    servers' logs) when they do not come up. Stop it with stop() or `with`.
    """
    binaries = _binaries()
    work = Path(workdir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    attempts = 3
    for attempt in range(attempts):
        try:
            return _start_once(work, binaries, latency_ms)
        except LabError as exc:
            # A port taken between probing and binding: try fresh ports.
            if attempt == attempts - 1 or "in use" not in str(exc).lower():
                raise
    raise AssertionError("unreachable")
