"""The thread bridge of the sync locator: inputs in, verdicts out, in lists.

The sync :class:`~hostlocate.locator.Locator` runs the async one on a private
event loop thread. Handing records across one at a time would cost a thread
hop per record, more than a warm verdict itself; these move whatever is ready
in lists, and wake the other side only when it waits.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from typing import Generic, TypeVar

__all__ = ["Drain", "Feed", "chunks"]

T = TypeVar("T")
In = TypeVar("In")


class Feed(Generic[In]):
    """Inputs read on a thread of the caller's, handed to the event loop in lists.

    The loop is woken only when the queue goes from empty to not empty and then
    takes everything queued: a fast source costs a deque append per input, not
    a thread hop.
    """

    CHUNK = 512
    """Most inputs the loop takes at once (it answers them before it looks again)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, capacity: int) -> None:
        self._loop = loop
        self._items: collections.deque[In] = collections.deque()
        self._capacity = capacity
        self._wake_pending = False
        self._lock = threading.Lock()
        self._ready: asyncio.Event | None = None
        self._room = threading.Event()
        """Set by the loop when it takes inputs: the reader of a full queue waits on it."""
        self._ended = False
        self._stopped = False
        self._error: BaseException | None = None

    def fill(self, urls: Iterator[In]) -> None:
        items = self._items
        capacity = self._capacity
        try:
            for url in urls:
                while len(items) >= capacity:  # the look-ups are behind
                    if self._stopped:
                        return
                    self._room.clear()
                    if len(items) >= capacity:
                        self._room.wait(0.05)
                if self._stopped:
                    return
                items.append(url)
                if len(items) == 1:
                    self._wake()
        except BaseException as exc:  # handed to the caller's thread
            self._error = exc
        finally:
            self._ended = True
            self._wake()

    def _wake(self) -> None:
        with self._lock:
            if self._wake_pending:
                return
            self._wake_pending = True
        with contextlib.suppress(RuntimeError):  # a closed loop has nobody to wake
            self._loop.call_soon_threadsafe(self._woken)

    def _woken(self) -> None:
        with self._lock:
            self._wake_pending = False
        if self._ready is not None:
            self._ready.set()

    async def chunks(self) -> AsyncIterator[list[In]]:
        """The inputs in lists of whatever has been read, until the reader ends."""
        self._ready = ready = asyncio.Event()
        items = self._items
        popleft = items.popleft
        while True:
            if items:
                chunk = [popleft() for _ in range(min(len(items), self.CHUNK))]
                if not self._room.is_set():
                    self._room.set()
                yield chunk
                continue
            if self._ended and not items:
                return
            ready.clear()
            if items or self._ended:
                continue
            await ready.wait()

    def stop(self) -> None:
        self._stopped = True
        self._room.set()

    def reraise(self) -> None:
        if self._error is not None:
            raise self._error


class Drain(Generic[T]):
    """Verdicts made on the event loop, taken in batches by the caller's thread."""

    PAUSE = 0.02
    """Seconds without a verdict after which the caller's ``on_wait`` runs."""

    def __init__(self, loop: asyncio.AbstractEventLoop, capacity: int) -> None:
        self._loop = loop
        self._capacity = capacity
        self._items: list[T] = []
        self._cond = threading.Condition()
        self._done = False
        self._space: asyncio.Event | None = None

    async def pump(self, chunks: AsyncIterator[list[T]]) -> None:
        self._space = asyncio.Event()
        self._space.set()
        try:
            async for chunk in chunks:
                with self._cond:
                    was_empty = not self._items
                    self._items.extend(chunk)
                    full = len(self._items) >= self._capacity
                    if was_empty or full:
                        self._cond.notify()
                    if full:
                        self._space.clear()
                if full:
                    await self._space.wait()
        finally:
            with self._cond:
                self._done = True
                self._cond.notify()

    def take(self, on_wait: Callable[[], None] | None = None) -> list[T]:
        with self._cond:
            if on_wait is not None and not self._items and not self._done:
                # Only a real pause calls on_wait: a warm run that briefly drains
                # the queue should not pay for a flush each time.
                self._cond.wait(self.PAUSE)
                if not self._items and not self._done:
                    self._cond.release()
                    try:
                        on_wait()
                    finally:
                        self._cond.acquire()
            while not self._items and not self._done:
                self._cond.wait()
            if len(self._items) < 64 and not self._done:
                # A moment more lets verdicts that trickle in (look-ups ending one
                # by one) be handed over together rather than a wake-up each.
                self._cond.wait(0.0005)
            items, self._items = self._items, []
        if self._space is not None and not self._space.is_set():
            self.release()
        return items

    def release(self) -> None:
        space = self._space
        if space is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(space.set)


async def chunks(
    items: Iterable[In] | AsyncIterable[In], size: int = 64
) -> AsyncIterator[list[In]]:
    """Inputs in lists: up to ``size`` from a plain iterable, one by one from an async one."""
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield [item]
        return
    iterator = iter(items)
    while True:
        chunk: list[In] = []
        try:
            for item in iterator:
                chunk.append(item)
                if len(chunk) >= size:
                    break
        except BaseException:
            if chunk:  # what was read before the failure is still answered
                yield chunk
            raise
        if chunk:
            yield chunk
        if len(chunk) < size:
            return
