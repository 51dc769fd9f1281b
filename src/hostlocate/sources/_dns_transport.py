"""UDP to recursive resolvers, made for bulk: few sockets, many queries, nothing lost.

``dns.asyncquery.udp`` opens a socket and a datagram endpoint for every query:
about 590 µs of CPU each, which made a cold batch CPU-bound at 0.5-0.6x of
dnspython's own resolver, and under load one socket per query ran out of
descriptors while dropped queries were never sent again. Here each resolver
gets, per event loop, a small pool of connected UDP sockets that live as long
as queries are in flight:

- Each socket is connected to the resolver (the kernel drops datagrams from
  any other address, and a closed port comes back as ``ConnectionRefusedError``)
  and bound by the kernel to a random ephemeral port; a query goes out on one
  of them with a random ID that is unique among that socket's pending queries.
  An answer must match the ID *and* the question (name, type, class); anything
  else (garbage, a wrong ID, a stale duplicate) is ignored and the query keeps
  waiting until its deadline.
- A query not answered within the retransmit timeout (RTT-based, Jacobson and
  Karels) is sent again, under a new ID, until its deadline, as soon as the
  window has room (back-off is exponential only once the resolver has gone
  quiet): a dropped datagram costs a fraction of a second, not the record.
- Queries in flight per resolver are capped by a window that grows with
  answers and halves on loss (AIMD, at most one halving per round trip), so a
  burst never overflows a resolver's receive buffer; queries beyond it wait in
  order for a slot, inside their own deadline.
- The pool closes as soon as nothing is in flight or waiting, so an idle
  client holds no descriptor; a pool is retired after :data:`ROTATE_AFTER`
  queries, so its ports do not stay guessable for ever.

Messages are built and read by ``_dns_wire`` (only what a look-up needs,
dnspython where that reader refuses); only the first two bytes (the ID) are
read before deciding whether a datagram is worth reading at all.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import secrets
import socket
import time
from dataclasses import dataclass, field
from typing import cast

from hostlocate.sources import _dns_wire
from hostlocate.sources._dns_path import MAX_RTO, Path
from hostlocate.sources._dns_wire import Answer

__all__ = [
    "ROTATE_AFTER",
    "SOCKETS_PER_RESOLVER",
    "ExchangeRefused",
    "ExchangeTimeout",
    "ExchangeTruncated",
    "Resolvers",
]

SOCKETS_PER_RESOLVER = 4
"""UDP sockets per resolver and event loop, each on its own random port."""
ROTATE_AFTER = 20_000
"""Queries a pool sends before new queries go to a fresh pool (fresh ports)."""
# What an exchange raises besides OSError (no socket could be opened).


class ExchangeTimeout(TimeoutError):
    """The resolver did not answer before the exchange's end."""


class ExchangeTruncated(Exception):
    """The answer did not fit in UDP (TC set): ask again over TCP."""


class ExchangeRefused(OSError):
    """Nothing listens at the resolver's port (ICMP port unreachable)."""


@dataclass(slots=True, eq=False)
class _Pending:
    qname: str
    """Lower case, without the final dot, as answers are matched."""
    rdtype: int
    wire: bytes
    future: asyncio.Future[Answer]
    socket: _Socket
    end: float
    rto: float
    last_sent: float = 0.0
    ids: list[int] = field(default_factory=list)
    """The ID of each copy sent: a retransmit gets a new one, so the answer says which."""
    sent_at: list[float] = field(default_factory=list)
    answered_copy: int = -1
    holds_slot: bool = True
    """Counted in the window: not while a retransmit waits for room."""
    timer: asyncio.TimerHandle | None = None


class _Socket(asyncio.DatagramProtocol):
    """One connected UDP socket and the queries waiting for an answer on it."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, _Pending] = {}
        self.ignored = 0
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: object) -> None:
        if len(data) < 12:
            self.ignored += 1
            return
        qid = int.from_bytes(data[:2], "big")
        entry = self.pending.get(qid)
        if entry is None or entry.future.done():
            self.ignored += 1  # a wrong ID, or a duplicate of an answered query
            return
        try:
            answer = _dns_wire.read(data)
        except Exception:  # any garbage with the right ID: keep waiting for the real one
            self.ignored += 1
            return
        if not answer.answers(entry.qname, entry.rdtype):
            self.ignored += 1
            return
        entry.answered_copy = entry.ids.index(qid)
        if answer.truncated:
            entry.future.set_exception(ExchangeTruncated())  # TCP asks again, whole
        else:
            entry.future.set_result(answer)

    def error_received(self, exc: Exception) -> None:
        # A connected UDP socket learns of ICMP port unreachable on its next
        # receive; it cannot say which query caused it, and every query on
        # this socket went to the same closed port.
        if isinstance(exc, ConnectionRefusedError):
            for entry in self.pending.values():
                if not entry.future.done():
                    entry.future.set_exception(ExchangeRefused(str(exc)))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class _Pool:
    """The sockets of one resolver on one loop, opened together."""

    def __init__(self, sockets: list[_Socket]) -> None:
        self.sockets = sockets
        self.sent = 0
        self._next = 0

    def pick(self) -> tuple[_Socket, int]:
        """A socket (in turn) and an ID no pending query on it uses."""
        sock = self.sockets[self._next]
        self._next = (self._next + 1) % len(self.sockets)
        return sock, _fresh_id(sock)

    def in_flight(self) -> int:
        return sum(len(s.pending) for s in self.sockets)

    def broken(self) -> bool:
        """A socket of the pool was closed under it (by the loop or an error)."""
        return any(s.lost for s in self.sockets)

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()


@dataclass(slots=True)
class _Lane:
    """One resolver on one event loop: its pool, the slots in use, the queue for slots."""

    path: Path
    address: tuple[str, int]
    family: int
    pool: _Pool | None = None
    opening: asyncio.Future[_Pool] | None = None
    in_flight: int = 0
    """Queries sent and counted in the window."""
    users: int = 0
    """Exchanges under way, sent or waiting: the pool closes when there are none."""
    waiters: collections.deque[asyncio.Future[None]] = field(default_factory=collections.deque)
    resends: collections.deque[_Pending] = field(default_factory=collections.deque)
    """Retransmits waiting for room in the window; they go before new queries."""
    retired: list[_Pool] = field(default_factory=list)


class Resolvers:
    """UDP exchanges with any number of resolvers, from any number of event loops.

    ``paths`` (one :class:`Path` per resolver address) outlives pools and loops.
    """

    def __init__(self, sockets_per_resolver: int = SOCKETS_PER_RESOLVER) -> None:
        self.sockets_per_resolver = sockets_per_resolver
        self.paths: dict[tuple[str, int], Path] = {}
        self._lanes: dict[tuple[asyncio.AbstractEventLoop, tuple[str, int]], _Lane] = {}
        self.ignored = 0
        """Datagrams dropped unread or unmatched, over closed pools (for tests and stats)."""

    def path(self, host: str, port: int) -> Path:
        key = (host, port)
        path = self.paths.get(key)
        if path is None:
            path = self.paths[key] = Path()
        return path

    def open_sockets(self) -> int:
        """Sockets open now, over every loop (an idle client holds none)."""
        total = 0
        for lane in self._lanes.values():
            pools = [*lane.retired, *([lane.pool] if lane.pool else [])]
            total += sum(len(p.sockets) for p in pools)
        return total

    async def exchange(
        self,
        qname: str,
        rdtype: int,
        host: str,
        port: int,
        *,
        timeout: float,
        deadline: float,
    ) -> Answer:
        """Ask ``qname`` ``rdtype`` over UDP, again as needed, until an answer matches.

        A query first waits its turn for a slot in the resolver's window (until
        ``deadline``, a ``time.monotonic()`` value: the wait is local, not the
        resolver's fault); once sent it waits ``timeout`` at most, and never past
        ``deadline``. Raises :class:`ExchangeTimeout`, :class:`ExchangeRefused`,
        :class:`ExchangeTruncated` (ask over TCP) or ``OSError`` (no socket).
        """
        loop = asyncio.get_running_loop()
        key = (loop, (host, port))
        lane = self._lanes.get(key)
        if lane is None:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            lane = self._lanes[key] = _Lane(self.path(host, port), (host, port), family)
        lane.users += 1
        try:
            await self._slot(lane, loop, deadline)
            sending = False
            try:
                pool = await self._pool(lane, loop)
                end = min(time.monotonic() + timeout, deadline)
                sending = True
                return await self._send(lane, pool, qname, rdtype, loop, end)
            finally:
                if not sending:
                    lane.in_flight -= 1  # _send gives its slot back itself
        finally:
            lane.users -= 1
            self._wake(lane)
            self._idle(lane, key)

    async def _slot(self, lane: _Lane, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        """Wait, first come first served, until the window has room (or ``deadline``)."""
        if not lane.waiters and (lane.in_flight < lane.path.window or lane.path.down):
            lane.in_flight += 1
            return
        waiter: asyncio.Future[None] = loop.create_future()
        lane.waiters.append(waiter)
        timer = loop.call_at(
            _loop_time(loop, deadline),
            _fail,
            waiter,
            ExchangeTimeout("no slot before the deadline"),
        )
        try:
            await waiter  # the slot is counted by whoever woke us
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                lane.in_flight -= 1  # woken and cancelled at once: give the slot back
                self._wake(lane)
            with contextlib.suppress(ValueError):
                lane.waiters.remove(waiter)
            raise
        finally:
            timer.cancel()

    def _wake(self, lane: _Lane) -> None:
        """Fill the window: retransmits first, then new queries in arrival order."""
        path = lane.path
        while lane.in_flight < path.window or path.down:
            if lane.resends:
                entry = lane.resends.popleft()
                if not entry.future.done():
                    self._transmit(lane, entry)
            elif lane.waiters:
                waiter = lane.waiters.popleft()
                if not waiter.done():
                    lane.in_flight += 1
                    waiter.set_result(None)
            else:
                return

    async def _pool(self, lane: _Lane, loop: asyncio.AbstractEventLoop) -> _Pool:
        while True:
            pool = lane.pool
            if pool is not None and (pool.sent >= ROTATE_AFTER or pool.broken()):
                lane.retired.append(pool)
                lane.pool = pool = None
            if pool is not None:
                return pool
            opening = lane.opening
            if opening is None:
                return await self._open_pool(lane, loop)
            try:
                return await asyncio.shield(opening)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise
                # The task that was opening the pool was cancelled, not this one: try again.

    async def _open_pool(self, lane: _Lane, loop: asyncio.AbstractEventLoop) -> _Pool:
        opening: asyncio.Future[_Pool] = loop.create_future()
        lane.opening = opening
        try:
            pool = await self._open(lane, loop)
        except BaseException as exc:
            lane.opening = None
            if isinstance(exc, asyncio.CancelledError):
                opening.cancel()
            else:
                opening.set_exception(exc)
                opening.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        lane.pool = pool
        lane.opening = None
        opening.set_result(pool)
        return pool

    async def _open(self, lane: _Lane, loop: asyncio.AbstractEventLoop) -> _Pool:
        sockets: list[_Socket] = []
        try:
            for _ in range(self.sockets_per_resolver):
                sock = socket.socket(lane.family, socket.SOCK_DGRAM)
                try:
                    sock.setblocking(False)
                    # connect() binds a random ephemeral port (the kernel picks it at
                    # random) and makes the kernel drop datagrams from anyone else.
                    sock.connect(lane.address)
                    _, protocol = await loop.create_datagram_endpoint(_Socket, sock=sock)
                except BaseException:
                    sock.close()
                    raise
                sockets.append(protocol)
        except BaseException:
            for opened in sockets:
                opened.close()
            raise
        return _Pool(sockets)

    async def _send(
        self,
        lane: _Lane,
        pool: _Pool,
        qname: str,
        rdtype: int,
        loop: asyncio.AbstractEventLoop,
        end: float,
    ) -> Answer:
        """Send with the slot already counted; give it back (if still held) when done."""
        now = time.monotonic()
        if now >= end:
            lane.in_flight -= 1
            raise ExchangeTimeout("no time left to send")
        sock, qid = pool.pick()
        try:
            wire = _dns_wire.query_wire(qname, rdtype, qid)
        except BaseException:
            lane.in_flight -= 1
            raise
        entry = _Pending(
            qname=qname.rstrip(".").lower(),
            rdtype=rdtype,
            wire=wire,
            future=loop.create_future(),
            socket=sock,
            end=end,
            rto=lane.path.rto(),
            ids=[qid],
        )
        sock.pending[qid] = entry
        pool.sent += 1
        lane.in_flight -= 1  # _transmit counts it again
        try:
            self._transmit(lane, entry)
            try:
                response = await entry.future
            except ExchangeRefused:
                lane.path.down = True  # nobody waits for a closed port's window
                raise
            path = lane.path
            copy = entry.answered_copy
            if copy < len(entry.ids) - 1:
                path.undo()  # an earlier copy was answered: it was late, not lost
            # Each copy has its own ID, so the round trip is never ambiguous (Karn).
            path.answered(time.monotonic() - entry.sent_at[copy])
            return response
        finally:
            if entry.timer is not None:
                entry.timer.cancel()
            for each in entry.ids:
                del sock.pending[each]
            if entry.holds_slot:
                entry.holds_slot = False
                lane.in_flight -= 1

    def _transmit(self, lane: _Lane, entry: _Pending) -> None:
        """Send (again), counted in the window, with the timer set for the next step."""
        loop = entry.future.get_loop()
        now = time.monotonic()
        entry.holds_slot = True
        lane.in_flight += 1
        if entry.sent_at:
            qid = _fresh_id(entry.socket)
            entry.socket.pending[qid] = entry
            entry.ids.append(qid)
            entry.wire = qid.to_bytes(2, "big") + entry.wire[2:]
        entry.sent_at.append(now)
        entry.last_sent = now
        transport = entry.socket.transport
        if transport is not None and not transport.is_closing():
            transport.sendto(entry.wire)
        if entry.timer is not None:
            entry.timer.cancel()
        entry.timer = loop.call_at(
            _loop_time(loop, min(now + entry.rto, entry.end)), self._expire, lane, entry
        )

    def _expire(self, lane: _Lane, entry: _Pending) -> None:
        """The retransmit timer: queue a retransmit with a doubled timeout, or give up.

        The retransmit waits for room in the window like any query, so the
        queries lost to one overflow never come back as one burst.
        """
        if entry.future.done():
            return
        now = time.monotonic()
        if now >= entry.end - 0.001:
            entry.future.set_exception(ExchangeTimeout("no answer before the deadline"))
            return
        if not entry.holds_slot:
            return  # a retransmit already waits for room
        lane.path.lost(entry.last_sent, now)  # (down, maybe: _wake below sends all)
        # Back off only from a resolver that has gone quiet: on a live one the
        # window already keeps the load down, and a query lost to an overflow
        # should get several more chances within its timeout.
        entry.rto = min(entry.rto * 2, MAX_RTO * 2) if lane.path.down else lane.path.rto()
        entry.holds_slot = False
        lane.in_flight -= 1
        lane.resends.append(entry)
        loop = entry.future.get_loop()
        # Time is up even if no room comes before the end.
        entry.timer = loop.call_at(_loop_time(loop, entry.end), self._expire, lane, entry)
        self._wake(lane)

    def _idle(self, lane: _Lane, key: tuple[asyncio.AbstractEventLoop, tuple[str, int]]) -> None:
        """Close retired pools once drained, and everything once nothing is in flight."""
        if lane.retired:
            for pool in [p for p in lane.retired if p.in_flight() == 0]:
                self._closed(pool)
                lane.retired.remove(pool)
        if lane.users == 0 and lane.opening is None:
            if lane.pool is not None:
                self._closed(lane.pool)
                lane.pool = None
            if not lane.retired:
                self._lanes.pop(key, None)

    def _closed(self, pool: _Pool) -> None:
        self.ignored += sum(s.ignored for s in pool.sockets)
        pool.close()


def _fresh_id(sock: _Socket) -> int:
    """A random ID that no query waiting on ``sock`` uses."""
    while True:
        qid = secrets.randbits(16)
        if qid not in sock.pending:
            return qid


def _fail(future: asyncio.Future[None], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


def _loop_time(loop: asyncio.AbstractEventLoop, monotonic: float) -> float:
    """A ``time.monotonic()`` instant on the loop's clock (the same clock on CPython)."""
    return loop.time() + (monotonic - time.monotonic())
