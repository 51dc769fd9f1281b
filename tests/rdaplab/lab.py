"""Start, steer and stop the RDAP lab (a server process steered over HTTP)."""

from __future__ import annotations

import dataclasses
import json
import os
import selectors
import subprocess
import sys
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.rdaplab.catalogue import DEFAULT_GENERATED, GeneratedRange, shared_data_dir

__all__ = ["LabUnavailable", "RdapLab", "start_rdap_lab"]

_REPO = Path(__file__).resolve().parents[2]


class LabUnavailable(RuntimeError):
    """The recorded data the lab serves is not on this machine."""


class RdapLab:
    """A running RDAP lab: base URL, bootstrap folder, counters and fault knobs.

    Knobs take a registry name (``arin``, ``ripe``, ``apnic``, ``lacnic``,
    ``afrinic``, ``verisign``...) and act on that registry's next ``times``
    requests (None: until :meth:`reset`), in the order they were set.
    """

    def __init__(
        self, process: subprocess.Popen[bytes], base_url: str, bootstrap_dir: Path, workdir: Path
    ) -> None:
        self._process = process
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.base_url = base_url
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        self.bootstrap_dir = bootstrap_dir
        """An IANA-format bootstrap folder whose services are this lab's."""
        self.workdir = workdir
        """The lab's folder: bootstrap/, rdap-lab.pid, rdap-lab.log."""
        self.pid = process.pid

    def service(self, registry: str) -> str:
        """The base URL of one registry's service, as the bootstrap names it."""
        return f"{self.base_url}/{registry}/"

    def _control(self, action: str, payload: dict[str, Any] | None = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.base_url}/_lab/{action}",
            data=data,
            method="GET" if data is None else "POST",
            headers={"Content-Type": "application/json"},
        )
        with self._opener.open(request, timeout=10) as response:
            return json.loads(response.read())

    # -- counters ----------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Requests received per registry (first path segment) since the last reset."""
        counts: dict[str, int] = self._control("counts")["registries"]
        return counts

    def path_counts(self) -> dict[str, int]:
        """Requests received per path since the last reset."""
        paths: dict[str, int] = self._control("counts")["paths"]
        return paths

    def total(self) -> int:
        """All requests received since the last reset."""
        return sum(self.counts().values())

    def throttled(self) -> dict[str, int]:
        """``429`` answers the registries' own limits (:meth:`throttle`) gave, per registry."""
        throttled: dict[str, int] = self._control("counts")["throttled"]
        return throttled

    def reset(self) -> None:
        """Zero the counters and drop every fault and latency setting."""
        self._control("reset", {})

    # -- knobs -------------------------------------------------------------------------

    def rate_limit(
        self, registry: str, *, times: int | None = 1, retry_after: str | None = "1"
    ) -> None:
        """Answer 429 Too Many Requests, with ``Retry-After`` (seconds or an HTTP date)."""
        self._fault(registry, "429", times, retry_after=retry_after)

    def throttle(self, registry: str, *, requests: int, seconds: float) -> None:
        """Limit ``registry`` as a registry limits one client address: past ``requests``
        in any ``seconds``, answer 429 with the ``Retry-After`` that frees the window."""
        self._control("throttle", {"registry": registry, "requests": requests, "seconds": seconds})

    def server_error(self, registry: str, *, times: int | None = 1, status: int = 500) -> None:
        """Answer with an HTTP error status (5xx by default) and an RDAP error body."""
        self._fault(registry, "status", times, status=status)

    def malformed_json(self, registry: str, *, times: int | None = 1) -> None:
        """Answer 200 with a truncated JSON body."""
        self._fault(registry, "malformed", times)

    def wrong_content_type(self, registry: str, *, times: int | None = 1) -> None:
        """Answer 200 with an HTML page (``text/html``)."""
        self._fault(registry, "content_type", times)

    def oversized(
        self,
        registry: str,
        *,
        size: int = 2_000_000,
        declare_length: bool = True,
        times: int | None = 1,
    ) -> None:
        """Answer 200 with a JSON body of ``size`` bytes, with or without Content-Length."""
        self._fault(registry, "oversize", times, size=size, declare_length=declare_length)

    def redirect_loop(self, first: str, second: str) -> None:
        """``first`` redirects every query to ``second`` and back, until reset."""
        self.redirect(first, "{base}/" + second + "/{rest}", times=None)
        self.redirect(second, "{base}/" + first + "/{rest}", times=None)

    def redirect(
        self, registry: str, location: str, *, times: int | None = 1, status: int = 301
    ) -> None:
        """Redirect to ``location``; ``{base}`` is the lab's origin, ``{rest}`` the query path
        after the registry (e.g. ``ip/193.0.6.139``)."""
        self._fault(registry, "redirect", times, status=status, location=location)

    def claim_network(self, registry: str, start: str, end: str, *, times: int | None = 1) -> None:
        """Answer any address query with a network spanning ``start``..``end``."""
        self._fault(registry, "network", times, start=start, end=end)

    def slow_body(self, registry: str, *, seconds: float = 5.0, times: int | None = 1) -> None:
        """Send the right answer, but trickle its body over ``seconds``."""
        self._fault(registry, "slow", times, seconds=seconds)

    def latency(self, registry: str | None, seconds: float) -> None:
        """Delay every answer of ``registry`` (None: all registries) by ``seconds``."""
        self._control("latency", {"registry": registry, "seconds": seconds})

    def _fault(self, registry: str, kind: str, times: int | None, **details: Any) -> None:
        self._control("fault", {"registry": registry, "kind": kind, "remaining": times, **details})

    # -- life cycle --------------------------------------------------------------------

    def stop(self) -> None:
        """End the server process: close its stdin, then terminate it if it lingers."""
        if self._process.poll() is not None:
            return
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()

    def __enter__(self) -> RdapLab:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_rdap_lab(
    workdir: Path,
    *,
    data_dir: Path | None = None,
    generated: Sequence[GeneratedRange] = DEFAULT_GENERATED,
) -> RdapLab:
    """Start the lab on a free loopback port and write its bootstrap into ``workdir``.

    ``data_dir`` is the shared data folder (default ``<repo>/../shared/data``);
    raises :class:`LabUnavailable` when its recorded responses or IANA
    bootstrap files are absent.
    """
    data = data_dir or shared_data_dir()
    recorded = data / "rdap-responses"
    iana = data / "rdap-bootstrap"
    if not (recorded / "INDEX.csv").is_file() or not (iana / "ipv4.json").is_file():
        raise LabUnavailable(
            f"recorded RDAP data not found under {data} (rdap-responses/, rdap-bootstrap/)"
        )
    folder = Path(workdir)
    folder.mkdir(parents=True, exist_ok=True)
    spec = json.dumps([dataclasses.asdict(g) for g in generated])
    log = (folder / "rdap-lab.log").open("wb")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(_REPO), os.environ.get("PYTHONPATH")])),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.rdaplab.child", str(folder), str(data), spec],
        cwd=_REPO,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
    )
    log.close()
    try:
        started = _read_start_line(process, timeout=30)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return RdapLab(process, started["origin"], Path(started["bootstrap_dir"]), folder)


def _read_start_line(process: subprocess.Popen[bytes], timeout: float) -> dict[str, str]:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise RuntimeError(f"RDAP lab did not start within {timeout} s")
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"RDAP lab exited at start (status {process.wait()}); see rdap-lab.log")
    started: dict[str, str] = json.loads(line)
    return started
