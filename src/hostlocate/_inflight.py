"""Look-ups under way, shared: the first caller of a key asks, the others wait.

Registries and resolvers count every query, so concurrent look-ups of one key
(an address block, a domain, a name and type) make one request. The owner's
look-up runs as a task of its own: a caller that stops waiting at its
deadline, or is cancelled, does not stop it, and the answer that comes is
kept for the callers that come next. If the look-up itself is cancelled or
raises, its waiters are told so (``None``) and look up for themselves.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Coroutine, Hashable
from typing import Any, Generic, TypeVar

__all__ = ["InFlight", "wait_until"]

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


async def wait_until(future: asyncio.Future[T], deadline: float) -> T:
    """The future's result, waited for until ``deadline`` (``time.monotonic()``;
    ``math.inf``: no limit), then ``TimeoutError``; the future itself is not cancelled."""
    if math.isinf(deadline):
        return await asyncio.shield(future)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    async with asyncio.timeout(remaining):
        return await asyncio.shield(future)


class InFlight(Generic[K, T]):
    """The look-ups under way of one event loop, by key."""

    def __init__(self) -> None:
        self._futures: dict[K, asyncio.Future[T | None]] = {}
        self.tasks: set[asyncio.Task[T]] = set()
        """Look-ups running, some past the deadline of the caller that started them."""
        self.joins = 0
        """Callers that waited for a look-up another one started."""

    def __contains__(self, key: K) -> bool:
        return key in self._futures

    async def join(self, key: K, deadline: float) -> T | None:
        """Wait for the look-up of ``key`` under way: its answer, or None when there
        is none, or it was cancelled or failed. ``TimeoutError`` at ``deadline``."""
        pending = self._futures.get(key)
        if pending is None:
            return None
        self.joins += 1
        return await wait_until(pending, deadline)

    async def lead(self, key: K, lookup: Coroutine[Any, Any, T], deadline: float) -> T:
        """Run ``lookup`` as the one look-up of ``key`` that others join, and wait
        for it until ``deadline`` (then ``TimeoutError``; the look-up goes on)."""
        future: asyncio.Future[T | None] = asyncio.get_running_loop().create_future()
        self._futures[key] = future
        task = asyncio.ensure_future(lookup)
        self.tasks.add(task)

        def finished(done: asyncio.Task[T]) -> None:
            self.tasks.discard(done)
            if self._futures.get(key) is future:
                del self._futures[key]
            if future.done():
                return
            if done.cancelled() or done.exception() is not None:
                future.set_result(None)  # the waiters then look up for themselves
            else:
                future.set_result(done.result())

        task.add_done_callback(finished)
        return await wait_until(task, deadline)

    async def cancel_all(self) -> None:
        """Stop every look-up under way and wait until they have stopped."""
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
