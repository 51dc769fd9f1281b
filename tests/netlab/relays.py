"""Two tiny DNS-port servers for the lab: a blackhole and a latency forwarder.

Run as a script (stdlib only, so it starts fast and needs no import path):

    python relays.py blackhole
    python relays.py forward --upstream 127.0.0.1:5353 --latency-ms 30
    python relays.py forward --upstream 127.0.0.1:5353 --loss 0.2
    python relays.py forward --upstream 127.0.0.1:5353 --drop-first --garbage

Each binds UDP and TCP on one free loopback port, prints that port on a line,
and serves until its standard input closes (the parent went away) or it gets
SIGTERM. The blackhole reads queries and never answers, like a resolver that
is down behind a firewall that drops. The forwarder relays raw messages to the
upstream resolver and holds each answer back by the latency, emulating a
resolver across the internet for benchmarks. Over UDP it can also misbehave
as a path across the internet may: `--loss P` drops that share of queries at
random, `--drop-first` drops the first copy of every query (a question from
one client port, whatever its ID: only a client
that sends again gets an answer), and `--garbage` sends, before each real
answer, a datagram of noise, the answer with a wrong ID, the answer to another
question with the right ID, and a right-ID header with a broken body.

UDP queries go upstream through one socket, each under an ID of the relay's
own (put back in the answer), so the relay costs little CPU per query and a
benchmark measures the client, not the relay.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
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


class _Upstream(asyncio.DatagramProtocol):
    """The relay's one UDP socket to the resolver: answers handed back by relay ID."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.waiting: dict[int, Callable[[bytes], None]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) >= 2:
            deliver = self.waiting.pop(int.from_bytes(data[:2], "big"), None)
            if deliver is not None:
                deliver(data)


def _question_end(message: bytes) -> int:
    """Offset just past the first question's name (uncompressed, as queries are)."""
    at = 12
    while at < len(message) and message[at]:
        at += 1 + message[at]
    return at + 1


def _garbage(reply: bytes, rng: random.Random) -> list[bytes]:
    """What a hostile path sends before the real answer (see the module docstring)."""
    wrong_id = bytes([reply[0] ^ 0x5A, reply[1] ^ 0xA5]) + reply[2:]
    other = bytearray(reply)
    end = _question_end(reply)
    if end + 2 <= len(other):
        other[end : end + 2] = (16).to_bytes(2, "big")  # the same name, type TXT
    broken = reply[:12] + b"\xff" * 9
    return [rng.randbytes(40), wrong_id, bytes(other), broken]


class _DelayingUdp(asyncio.DatagramProtocol):
    def __init__(
        self,
        upstream: _Upstream,
        delay: float,
        *,
        loss: float = 0.0,
        drop_first: bool = False,
        garbage: bool = False,
    ) -> None:
        self.upstream = upstream
        self.delay = delay
        self.loss = loss
        self.drop_first = drop_first
        self.garbage = garbage
        self.rng = random.Random(0x5EED)
        self.seen: dict[bytes, None] = {}
        self.transport: asyncio.DatagramTransport | None = None
        self.next_id = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) < 12 or self.upstream.transport is None:
            return
        if self.loss and self.rng.random() < self.loss:
            return
        if self.drop_first:
            key = repr(addr).encode() + data[2:]  # the question, whatever the ID
            if key not in self.seen:
                self.seen[key] = None
                if len(self.seen) > 100_000:
                    del self.seen[next(iter(self.seen))]
                return
        loop = asyncio.get_running_loop()
        for _ in range(65536):
            self.next_id = (self.next_id + 1) & 0xFFFF
            if self.next_id not in self.upstream.waiting:
                break
        else:
            return  # 65,536 queries waiting upstream: drop, as a full resolver would
        relay_id = self.next_id
        client_id = data[:2]

        def deliver(reply: bytes) -> None:
            answer = client_id + reply[2:]
            if self.delay > 0:
                loop.call_later(self.delay, self._answer, answer, addr)
            else:
                self._answer(answer, addr)

        self.upstream.waiting[relay_id] = deliver
        loop.call_later(UPSTREAM_TIMEOUT, self.upstream.waiting.pop, relay_id, None)
        self.upstream.transport.sendto(relay_id.to_bytes(2, "big") + data[2:])

    def _answer(self, answer: bytes, client: tuple[str, int]) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if self.garbage:
            for noise in _garbage(answer, self.rng):
                self.transport.sendto(noise, client)
        self.transport.sendto(answer, client)


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
        _, up = await loop.create_datagram_endpoint(_Upstream, remote_addr=upstream)
        with contextlib.suppress(OSError, AttributeError):
            # Answers to a burst wait here until the relay reads them; the port
            # clients send to keeps the system's default, as a resolver's does.
            up.transport.get_extra_info("socket").setsockopt(
                socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20
            )
        await loop.create_datagram_endpoint(
            lambda: _DelayingUdp(
                up, delay, loss=args.loss, drop_first=args.drop_first, garbage=args.garbage
            ),
            sock=udp,
        )
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
    forward.add_argument("--loss", type=float, default=0.0, help="share of UDP queries dropped")
    forward.add_argument(
        "--drop-first", action="store_true", help="drop the first copy of every UDP query"
    )
    forward.add_argument(
        "--garbage", action="store_true", help="send noise and near-misses before each answer"
    )
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
