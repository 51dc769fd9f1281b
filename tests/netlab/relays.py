"""Two tiny DNS-port servers for the lab: a blackhole and a latency forwarder.

Run as a script (stdlib only, so it starts fast and needs no import path):

    python relays.py blackhole
    python relays.py forward --upstream 127.0.0.1:5353 --latency-ms 30

Each binds UDP and TCP on one free loopback port, prints that port on a line,
and serves until its standard input closes (the parent went away) or it gets
SIGTERM. The blackhole reads queries and never answers, like a resolver that
is down behind a firewall that drops. The forwarder relays raw messages to the
upstream resolver and holds each answer back by the latency, emulating a
resolver across the internet for benchmarks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
import struct
import sys
from collections.abc import Awaitable, Callable
from typing import cast

HOST = "127.0.0.1"
UPSTREAM_TIMEOUT = 10.0


def bind_pair() -> tuple[socket.socket, socket.socket]:
    """A UDP and a listening TCP socket on the same free loopback port."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((HOST, 0))
        port = udp.getsockname()[1]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            tcp.bind((HOST, port))
        except OSError:
            udp.close()
            tcp.close()
            continue
        tcp.listen(128)
        udp.setblocking(False)
        tcp.setblocking(False)
        return udp, tcp
    raise OSError("no free port for both UDP and TCP")


class _Blackhole(asyncio.DatagramProtocol):
    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        pass


async def _swallow_tcp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while await reader.read(65536):
            pass
    writer.close()


class _UpstreamOnce(asyncio.DatagramProtocol):
    def __init__(self, future: asyncio.Future[bytes]) -> None:
        self.future = future

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not self.future.done():
            self.future.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.future.done():
            self.future.set_exception(exc)


class _DelayingUdp(asyncio.DatagramProtocol):
    def __init__(self, upstream: tuple[str, int], delay: float) -> None:
        self.upstream = upstream
        self.delay = delay
        self.transport: asyncio.DatagramTransport | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        task = asyncio.get_running_loop().create_task(self._relay(data, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _relay(self, query: bytes, client: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bytes] = loop.create_future()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _UpstreamOnce(answer), remote_addr=self.upstream
        )
        try:
            transport.sendto(query)
            reply = await asyncio.wait_for(answer, UPSTREAM_TIMEOUT)
        except (TimeoutError, OSError):
            return
        finally:
            transport.close()
        await asyncio.sleep(self.delay)
        if self.transport is not None:
            self.transport.sendto(reply, client)


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    (length,) = struct.unpack("!H", await reader.readexactly(2))
    return await reader.readexactly(length)


def _frame(message: bytes) -> bytes:
    return struct.pack("!H", len(message)) + message


_StreamHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _delaying_tcp(upstream: tuple[str, int], delay: float) -> _StreamHandler:
    async def relay_one(query: bytes, writer: asyncio.StreamWriter, lock: asyncio.Lock) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*upstream)
        except OSError:
            return
        try:
            up_writer.write(_frame(query))
            await up_writer.drain()
            reply = await asyncio.wait_for(_read_frame(up_reader), UPSTREAM_TIMEOUT)
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            return
        finally:
            up_writer.close()
        await asyncio.sleep(delay)
        async with lock:
            with contextlib.suppress(OSError):
                writer.write(_frame(reply))
                await writer.drain()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        lock = asyncio.Lock()
        pending: set[asyncio.Task[None]] = set()
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while True:
                query = await _read_frame(reader)
                task = asyncio.get_running_loop().create_task(relay_one(query, writer, lock))
                pending.add(task)
                task.add_done_callback(pending.discard)
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        writer.close()

    return handle


async def _until_stdin_closes() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.read(4096):
        pass


async def _serve(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    udp, tcp = bind_pair()
    if args.mode == "blackhole":
        await loop.create_datagram_endpoint(_Blackhole, sock=udp)
        server = await asyncio.start_server(_swallow_tcp, sock=tcp)
    else:
        host, _, port = args.upstream.rpartition(":")
        upstream = (host, int(port))
        delay = args.latency_ms / 1000.0
        await loop.create_datagram_endpoint(lambda: _DelayingUdp(upstream, delay), sock=udp)
        server = await asyncio.start_server(_delaying_tcp(upstream, delay), sock=tcp)
    print(udp.getsockname()[1], flush=True)
    stop = loop.create_future()

    def request_stop() -> None:
        if not stop.done():
            stop.set_result(None)

    loop.add_signal_handler(signal.SIGTERM, request_stop)
    watcher = loop.create_task(_until_stdin_closes())
    await asyncio.wait([stop, watcher], return_when=asyncio.FIRST_COMPLETED)
    server.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    sub.add_parser("blackhole", help="read queries, never answer")
    forward = sub.add_parser("forward", help="relay to a resolver, delay each answer")
    forward.add_argument("--upstream", required=True, help="HOST:PORT of the resolver")
    forward.add_argument("--latency-ms", type=float, default=0.0)
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
