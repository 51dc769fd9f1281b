"""The loopback download site: ``ThreadingHTTPServer`` on 127.0.0.1, real sockets.

Routes are set from the test's thread with :meth:`DataServer.put` and read by the
request threads under one lock; every request's path and query is logged, so a
test can see what was asked (a licence key in a query, a redirect followed).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = ["DataServer", "Route", "serve"]


@dataclasses.dataclass
class Route:
    """What one path answers."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/octet-stream"
    location: str | None = None
    """For a 3xx status: the Location header (absolute or relative)."""
    cut_after: int | None = None
    """Announce the whole body's length but close the connection after this many bytes."""
    announce: int | None = None
    """A Content-Length to announce instead of the body's."""
    chunked: bool = False
    """Send the body in chunks with no Content-Length: its size is known only at the end."""
    drip: float | None = None
    """Send the body one byte at a time, this many seconds apart (a slow-drip source)."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        site = self.server.site
        path = urlsplit(self.path).path
        with site.lock:
            site.requests.append(self.path)
            route = site.routes.get(path)
        if route is None:
            route = Route(b"not found\n", status=404, content_type="text/plain")
        self.send_response(route.status)
        if route.location is not None:
            self.send_header("Location", route.location)
        self.send_header("Content-Type", route.content_type)
        if route.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            length = route.announce if route.announce is not None else len(route.body)
            self.send_header("Content-Length", str(length))
        if route.cut_after is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        body = route.body if route.cut_after is None else route.body[: route.cut_after]
        try:
            if route.drip is not None:
                # Bounded by the body's length; ends early when the client hangs up.
                for i in range(len(body)):
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(route.drip)
            elif route.chunked:
                for start in range(0, len(body), 16_384):
                    piece = body[start : start + 16_384]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up: fine
            pass
        if route.cut_after is not None or route.announce is not None:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: DataServer


class DataServer:
    """A download site on 127.0.0.1 with a free port; use as a context manager."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.site = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="datalab", daemon=True
        )

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def put(self, path: str, body: bytes = b"", **options: Any) -> str:
        """Serve ``body`` (or the route ``options`` describe) at ``path``; its URL."""
        with self.lock:
            self.routes[path] = Route(body, **options)
        return self.url(path)

    def start(self) -> DataServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> DataServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def serve() -> Iterator[DataServer]:
    """A started server, stopped on exit."""
    with DataServer() as server:
        yield server
