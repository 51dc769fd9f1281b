"""The RDAP lab's HTTP server: HTTP/1.1 on 127.0.0.1, real sockets, asyncio.

Paths: ``/<registry>/ip/<address>``, ``/<registry>/entity/<handle>``,
``/<registry>/domain/<name>``, ``/<registry>/autnum/<n>``; ``/iana/<file>.json``
serves the lab's bootstrap files (for tests of fetching a bootstrap). Every
response is RFC 9083 JSON with ``Content-Type: application/rdap+json`` unless a
fault says otherwise.

``/_lab/...`` is the control channel the test process steers the lab with
(not counted): ``counts`` (GET), ``reset``, ``fault``, ``latency`` and
``throttle`` (POST, JSON body). The server runs in a process of its own
(:mod:`tests.rdaplab.child`), as a registry would: sharing the test's
process, and its GIL, would slow the library's event loop down under
concurrent load and distort the benchmarks.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import json
import socket
import threading
import time
from collections import Counter, deque
from http import HTTPStatus
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tests.rdaplab.catalogue import Catalogue

__all__ = ["Fault", "LabServer", "LabState", "Reply", "error_body"]

RDAP_JSON = "application/rdap+json"
_MAX_LINE = 65_536


@dataclasses.dataclass
class Fault:
    """One misbehaviour of a registry, for ``remaining`` requests (None: until reset)."""

    kind: str
    """``status``, ``429``, ``malformed``, ``content_type``, ``oversize``, ``redirect``,
    ``slow``, ``network``."""
    remaining: int | None = 1
    status: int = 500
    retry_after: str | None = None
    size: int = 0
    declare_length: bool = True
    location: str = ""
    """For ``redirect``: a template with ``{base}`` (the lab's origin) and ``{rest}``
    (the path after the registry segment)."""
    seconds: float = 0.0
    start: str = ""
    end: str = ""
    """For ``network``: the range the answer claims, whatever was asked."""


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
    """Counters, faults and latency shared by the server thread and the test."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.paths: Counter[str] = Counter()
        self.faults: dict[str, list[Fault]] = {}
        self.latency: dict[str, float] = {}
        self.limits: dict[str, tuple[int, float]] = {}
        """Per registry: at most so many requests in any window of so many seconds."""
        self.recent: dict[str, deque[float]] = {}
        self.throttled: Counter[str] = Counter()

    def over_limit(self, registry: str) -> float | None:
        """Seconds until a request is allowed again, when ``registry``'s limit is exceeded.

        A sliding window, as registries limit one client address: every request
        counts, refused ones included, as a registry would count them.
        """
        with self.lock:
            limit = self.limits.get(registry)
            if limit is None:
                return None
            requests, seconds = limit
            now = time.monotonic()
            window = self.recent.setdefault(registry, deque())
            while window and window[0] <= now - seconds:
                window.popleft()
            window.append(now)
            if len(window) <= requests:
                return None
            self.throttled[registry] += 1
            return max(0.0, window[-requests - 1] + seconds - now)

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

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self.lock:
            return {
                "registries": dict(self.counts),
                "paths": dict(self.paths),
                "throttled": dict(self.throttled),
            }

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()
            self.paths.clear()
            self.faults.clear()
            self.latency.clear()
            self.limits.clear()
            self.recent.clear()
            self.throttled.clear()


def route(
    catalogue: Catalogue,
    origin: str,
    bootstrap_dir: Path | None,
    registry: str,
    parts: list[str],
) -> Reply:
    """The right answer to a query, as the registry would give it."""
    if registry == "iana" and len(parts) == 1 and bootstrap_dir is not None:
        file = bootstrap_dir / parts[0]
        if parts[0].endswith(".json") and file.is_file():
            return Reply(200, file.read_bytes(), "application/json")
        return Reply(404, error_body(404, "Not Found", "no such bootstrap file"))
    if not parts:
        return Reply(404, error_body(404, "Not Found", "no object class in path"))
    kind, rest = parts[0], "/".join(parts[1:])
    if kind == "ip":
        try:
            address = ipaddress.ip_address(rest.split("/", 1)[0])
        except ValueError:
            return Reply(400, error_body(400, "Bad Request", f"not an address: {rest!r}"))
        held = catalogue.network(address)
        if held is None:
            return Reply(404, error_body(404, "Not Found", f"no network holds {address}"))
        if held.registry != registry:
            return Reply(301, b"", headers={"Location": f"{origin}/{held.registry}/ip/{rest}"})
        return Reply(200, held.body)
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


def fault_reply(fault: Fault, origin: str, rest: str) -> Reply:
    """The answer a fault puts in place of the right one."""
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
    if fault.kind == "network":
        claimed = {
            "objectClassName": "ip network",
            "handle": f"HOSTILE-{fault.start}-{fault.end}",
            "startAddress": fault.start,
            "endAddress": fault.end,
            "ipVersion": "v6" if ":" in fault.start else "v4",
            "name": "HOSTILE-EVERYTHING",
            "country": "ZZ",
        }
        return Reply(200, json.dumps(claimed).encode())
    if fault.kind == "redirect":
        location = fault.location.format(base=origin, rest=rest)
        status = fault.status if fault.status in (301, 302, 303, 307, 308) else 302
        return Reply(status, b"", headers={"Location": location})
    return Reply(500, error_body(500, "Lab Error", f"unknown fault {fault.kind}"))


def _head(reply: Reply, length: int | None) -> bytes:
    try:
        reason = HTTPStatus(reply.status).phrase
    except ValueError:
        reason = "Status"
    lines = [f"HTTP/1.1 {reply.status} {reason}", "Server: hostlocate-rdap-lab"]
    if reply.body or reply.status == 200:
        lines.append(f"Content-Type: {reply.content_type}")
    lines.extend(f"{key}: {value}" for key, value in reply.headers.items())
    lines.append("Connection: close" if length is None else f"Content-Length: {length}")
    lines.append("Access-Control-Allow-Origin: *")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class LabServer:
    """Serves one listening socket until ``stop`` is set."""

    def __init__(self, sock: socket.socket, origin: str) -> None:
        self.state = LabState()
        self.catalogue: Catalogue | None = None
        self.bootstrap_dir: Path | None = None
        self.origin = origin
        self._sock = sock

    async def run(self, stop: asyncio.Event) -> None:
        """Accept connections until ``stop`` is set."""
        self._sock.setblocking(False)
        server = await asyncio.start_server(self._connection, sock=self._sock, limit=_MAX_LINE)
        async with server:
            await stop.wait()

    # -- one connection -------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                request = await self._read_request(reader)
                if request is None:
                    break
                path, body, keep_alive = request
                if not await self._respond(path, body, writer) or not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            # Only shutting down cancels; ending quietly keeps asyncio's stream callback
            # from reporting the cancellation as an error.
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError, RuntimeError):
                await writer.wait_closed()

    @staticmethod
    async def _read_request(reader: asyncio.StreamReader) -> tuple[str, bytes, bool] | None:
        line = await reader.readline()
        if not line:
            return None
        words = line.decode("latin-1").split()
        if len(words) != 3:
            return None
        _method, target, version = words
        headers: dict[str, str] = {}
        while True:
            header = await reader.readline()
            if header in (b"\r\n", b"\n", b""):
                break
            key, _, value = header.decode("latin-1").partition(":")
            headers[key.strip().lower()] = value.strip()
        length = headers.get("content-length", "0")
        body = await reader.readexactly(int(length)) if length.isdigit() and int(length) else b""
        keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        return unquote(urlsplit(target).path), body, keep_alive

    async def _respond(self, path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection must be closed after it."""
        segments = [s for s in path.split("/") if s]
        registry = segments[0] if segments else ""
        if registry == "_lab":
            return await self._send(writer, self._control(segments[1:], body))
        self.state.record(registry, path)
        delay = self.state.delay(registry)
        if delay > 0:
            await asyncio.sleep(delay)
        wait = self.state.over_limit(registry)
        if wait is not None:
            headers = {"Retry-After": str(max(1, round(wait)))}
            body = error_body(429, "Too Many Requests", "rate limit exceeded")
            return await self._send(writer, Reply(429, body, headers=headers))
        fault = self.state.take_fault(registry)
        if fault is not None and fault.kind == "oversize":
            await self._send_oversize(writer, fault.size, fault.declare_length)
            return False
        if fault is not None and fault.kind != "slow":
            return await self._send(writer, fault_reply(fault, self.origin, "/".join(segments[1:])))
        if self.catalogue is None:
            reply = Reply(503, error_body(503, "Starting", "lab not ready"))
        else:
            reply = route(self.catalogue, self.origin, self.bootstrap_dir, registry, segments[1:])
        if fault is not None:
            await self._send_slowly(writer, reply, fault.seconds)
            return False
        return await self._send(writer, reply)

    def _control(self, parts: list[str], body: bytes) -> Reply:
        action = parts[0] if parts else "counts"
        try:
            data = json.loads(body) if body else {}
            if action == "counts":
                result: object = self.state.snapshot()
            elif action == "reset":
                self.state.reset()
                result = {"ok": True}
            elif action == "fault":
                registry = data.pop("registry")
                self.state.add_fault(registry, Fault(**data))
                result = {"ok": True}
            elif action == "throttle":
                with self.state.lock:
                    self.state.limits[data["registry"]] = (
                        int(data["requests"]),
                        float(data["seconds"]),
                    )
                result = {"ok": True}
            elif action == "latency":
                with self.state.lock:
                    self.state.latency[data.get("registry") or "*"] = float(data["seconds"])
                result = {"ok": True}
            else:
                return Reply(404, error_body(404, "Not Found", f"no control {action!r}"))
        except (ValueError, KeyError, TypeError) as exc:
            return Reply(400, error_body(400, "Bad Request", str(exc)), "application/json")
        return Reply(200, json.dumps(result).encode(), "application/json")

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, reply: Reply) -> bool:
        writer.write(_head(reply, len(reply.body)) + reply.body)
        await writer.drain()
        return True

    @staticmethod
    async def _send_oversize(writer: asyncio.StreamWriter, size: int, declare: bool) -> None:
        head = b'{"objectClassName": "ip network", "remarks": [{"description": ["'
        tail = b'"]}]}'
        filler = max(0, size - len(head) - len(tail))
        declared = len(head) + filler + len(tail)
        writer.write(_head(Reply(200, b""), declared if declare else None) + head)
        chunk = b"x" * 65_536
        while filler > 0:
            piece = chunk[: min(filler, len(chunk))]
            writer.write(piece)
            await writer.drain()
            filler -= len(piece)
        writer.write(tail)
        await writer.drain()

    @staticmethod
    async def _send_slowly(writer: asyncio.StreamWriter, reply: Reply, seconds: float) -> None:
        body = reply.body
        pieces = max(1, min(len(body), int(seconds / 0.05) or 1))
        step = max(1, -(-len(body) // pieces))
        pause = seconds / pieces
        writer.write(_head(reply, len(body)))
        for start in range(0, len(body), step):
            writer.write(body[start : start + step])
            await writer.drain()
            await asyncio.sleep(pause)
