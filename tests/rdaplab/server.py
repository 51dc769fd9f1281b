"""The RDAP lab's HTTP server: stdlib ``ThreadingHTTPServer`` on 127.0.0.1, real sockets.

Paths: ``/<registry>/ip/<address>``, ``/<registry>/entity/<handle>``,
``/<registry>/domain/<name>``, ``/<registry>/autnum/<n>``; ``/iana/<file>.json``
serves the lab's bootstrap files (for tests of fetching a bootstrap);
``/_lab/counts`` returns the request counts as JSON. Every response is
RFC 9083 JSON with ``Content-Type: application/rdap+json`` unless a fault
says otherwise. Faults are queued per registry from the test's thread and
taken by the request threads under one lock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import json
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.rdaplab.catalogue import Catalogue

__all__ = ["Fault", "LabServer", "LabState", "Reply"]

RDAP_JSON = "application/rdap+json"


@dataclasses.dataclass
class Fault:
    """One misbehaviour of a registry, for ``remaining`` requests (None: until reset)."""

    kind: str
    """``status``, ``429``, ``malformed``, ``content_type``, ``oversize``, ``redirect``,
    ``slow``."""
    remaining: int | None = 1
    status: int = 500
    retry_after: str | None = None
    size: int = 0
    declare_length: bool = True
    location: str = ""
    """For ``redirect``: a template with ``{base}`` (the lab's origin) and ``{rest}``
    (the path after the registry segment)."""
    seconds: float = 0.0


@dataclasses.dataclass
class Reply:
    """What a request gets, before any delivery fault."""

    status: int
    body: bytes
    content_type: str = RDAP_JSON
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


def error_body(status: int, title: str, description: str) -> bytes:
    """An RFC 9083 error response body."""
    return json.dumps(
        {
            "errorCode": status,
            "title": title,
            "description": [description],
            "rdapConformance": ["rdap_level_0"],
            "notices": [
                {"title": "Terms of Use", "description": ["hostlocate RDAP lab on loopback"]}
            ],
        }
    ).encode()


class LabState:
    """Counters, faults and latency shared by the request threads and the test."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.paths: Counter[str] = Counter()
        self.faults: dict[str, list[Fault]] = {}
        self.latency: dict[str, float] = {}

    def record(self, registry: str, path: str) -> None:
        with self.lock:
            self.counts[registry] += 1
            self.paths[path] += 1

    def add_fault(self, registry: str, fault: Fault) -> None:
        with self.lock:
            self.faults.setdefault(registry, []).append(fault)

    def take_fault(self, registry: str) -> Fault | None:
        with self.lock:
            queue = self.faults.get(registry)
            if not queue:
                return None
            fault = queue[0]
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.pop(0)
            return fault

    def delay(self, registry: str) -> float:
        with self.lock:
            return self.latency.get(registry, self.latency.get("*", 0.0))

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()
            self.paths.clear()
            self.faults.clear()
            self.latency.clear()


class LabServer(ThreadingHTTPServer):
    """The HTTP server, carrying what the handler needs."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = LabState()
        self.catalogue: Catalogue | None = None
        self.bootstrap_dir: Path | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (as the library does on a body it refuses) is no error."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    @property
    def origin(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LabServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read counts, not logs."""

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        segments = [s for s in path.split("/") if s]
        registry = segments[0] if segments else ""
        if registry == "_lab":
            with self.server.state.lock:
                data = {
                    "registries": dict(self.server.state.counts),
                    "paths": dict(self.server.state.paths),
                }
            self._send(Reply(200, json.dumps(data).encode(), "application/json"))
            return
        self.server.state.record(registry, path)
        delay = self.server.state.delay(registry)
        if delay > 0:
            time.sleep(delay)
        fault = self.server.state.take_fault(registry)
        rest = "/".join(segments[1:])
        if fault is not None and fault.kind == "oversize":
            self._send_oversize(fault.size, fault.declare_length)
            return
        if fault is not None and fault.kind != "slow":
            self._send(self._fault_reply(fault, rest))
            return
        reply = self._route(registry, segments[1:])
        if fault is not None:
            self._send_slowly(reply, fault.seconds)
        else:
            self._send(reply)

    # -- routing ----------------------------------------------------------------------

    def _route(self, registry: str, parts: list[str]) -> Reply:
        catalogue = self.server.catalogue
        if catalogue is None:
            return Reply(503, error_body(503, "Starting", "lab not ready"))
        if registry == "iana" and len(parts) == 1 and self.server.bootstrap_dir is not None:
            file = self.server.bootstrap_dir / parts[0]
            if parts[0].endswith(".json") and file.is_file():
                return Reply(200, file.read_bytes(), "application/json")
            return Reply(404, error_body(404, "Not Found", "no such bootstrap file"))
        if not parts:
            return Reply(404, error_body(404, "Not Found", "no object class in path"))
        kind, rest = parts[0], "/".join(parts[1:])
        if kind == "ip":
            return self._ip(catalogue, registry, rest)
        body: bytes | None = None
        if kind == "entity":
            body = catalogue.entity(registry, rest)
        elif kind == "domain":
            body = catalogue.domain(registry, rest)
        elif kind == "autnum" and rest.isdigit():
            body = catalogue.autnum(registry, int(rest))
        else:
            return Reply(400, error_body(400, "Bad Request", f"unsupported query {kind!r}"))
        if body is None:
            return Reply(404, error_body(404, "Not Found", f"{kind} {rest} not found"))
        return Reply(200, body)

    def _ip(self, catalogue: Catalogue, registry: str, rest: str) -> Reply:
        try:
            address = ipaddress.ip_address(rest.split("/", 1)[0])
        except ValueError:
            return Reply(400, error_body(400, "Bad Request", f"not an address: {rest!r}"))
        held = catalogue.network(address)
        if held is None:
            return Reply(404, error_body(404, "Not Found", f"no network holds {address}"))
        if held.registry != registry:
            location = f"{self.server.origin}/{held.registry}/ip/{rest}"
            return Reply(301, b"", headers={"Location": location})
        return Reply(200, held.body)

    def _fault_reply(self, fault: Fault, rest: str) -> Reply:
        if fault.kind == "429":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            return Reply(
                429, error_body(429, "Too Many Requests", "rate limit exceeded"), headers=headers
            )
        if fault.kind == "status":
            return Reply(fault.status, error_body(fault.status, "Server Error", "injected"))
        if fault.kind == "malformed":
            return Reply(200, b'{"objectClassName": "ip network", "handle": "NET-1", "start')
        if fault.kind == "content_type":
            return Reply(
                200,
                b"<html><body>Service temporarily unavailable</body></html>",
                "text/html; charset=utf-8",
            )
        if fault.kind == "redirect":
            location = fault.location.format(base=self.server.origin, rest=rest)
            return Reply(
                fault.status if fault.status in (301, 302, 303, 307, 308) else 302,
                b"",
                headers={"Location": location},
            )
        return Reply(500, error_body(500, "Lab Error", f"unknown fault {fault.kind}"))

    # -- delivery ----------------------------------------------------------------------

    def _head(self, reply: Reply, length: int | None) -> None:
        self.send_response(reply.status)
        if reply.body or reply.status == 200:
            self.send_header("Content-Type", reply.content_type)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if length is None:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(length))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()

    def _send(self, reply: Reply) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._head(reply, len(reply.body))
            self.wfile.write(reply.body)

    def _send_oversize(self, size: int, declare_length: bool) -> None:
        head = b'{"objectClassName": "ip network", "remarks": [{"description": ["'
        tail = b'"]}]}'
        filler = size - len(head) - len(tail)
        declared = len(head) + max(filler, 0) + len(tail)
        chunk = b"x" * 65536
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._head(Reply(200, b""), declared if declare_length else None)
            self.wfile.write(head)
            while filler > 0:
                piece = chunk[: min(filler, len(chunk))]
                self.wfile.write(piece)
                filler -= len(piece)
            self.wfile.write(tail)
        self.close_connection = True

    def _send_slowly(self, reply: Reply, seconds: float) -> None:
        body = reply.body
        pieces = max(1, min(len(body), int(seconds / 0.05) or 1))
        step = max(1, len(body) // pieces)
        pause = seconds / pieces
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._head(reply, len(body))
            for start in range(0, len(body), step):
                self.wfile.write(body[start : start + step])
                self.wfile.flush()
                time.sleep(pause)
        self.close_connection = True
