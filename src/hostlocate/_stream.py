"""Verdicts in input order, with bounded look-ups in flight and bounded memory.

Inputs answered at once (bad input, warm caches) go straight into the window;
the others become tasks, at most ``concurrency`` at a time. Reading the inputs
runs beside handing out verdicts, so a verdict leaves as soon as it and those
before it are ready, even while the next input is awaited.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar, cast

from hostlocate.errors import ConfigError
from hostlocate.models import Verdict

__all__ = ["in_order"]

In = TypeVar("In")
P = TypeVar("P")


async def in_order(
    inputs: AsyncIterator[list[In]],
    concurrency: int,
    answer: Callable[[In, float], Verdict | P],
    look_up: Callable[[P, float], Awaitable[Verdict]],
) -> AsyncIterator[list[Verdict]]:
    """The verdicts of lists of inputs, in order, as lists of whatever is ready.

    Work moves in lists, not one input at a time: on a warm cache a verdict
    costs microseconds, and a suspension or a thread hop per record would
    cost more than the verdict itself.
    """
    if concurrency < 1:
        raise ConfigError("concurrency must be at least 1")
    window: collections.deque[Verdict | asyncio.Task[Verdict]] = collections.deque()
    limit = max(4 * concurrency, 1024)
    slots = asyncio.Semaphore(concurrency)
    changed = asyncio.Event()
    space = asyncio.Event()

    async def looked_up(pending: P, started: float) -> Verdict:
        try:
            return await look_up(pending, started)
        finally:
            slots.release()

    async def produce() -> None:
        append = window.append
        try:
            async for chunk in inputs:
                for item in chunk:
                    if len(window) >= limit:
                        changed.set()
                        while len(window) >= limit:
                            space.clear()
                            await space.wait()
                    started = time.perf_counter()
                    ready = answer(item, started)
                    if isinstance(ready, Verdict):
                        append(ready)
                    else:
                        if slots.locked():
                            changed.set()  # let what is ready go while waiting
                        await slots.acquire()
                        append(asyncio.ensure_future(looked_up(ready, started)))
                changed.set()
        finally:
            changed.set()

    # Reading runs beside yielding, so verdicts are handed out as soon as they
    # and those before them are ready, even while the next input is awaited.
    producer = asyncio.ensure_future(produce())
    try:
        while True:
            ready: list[Verdict] = []
            while window:
                head = window[0]
                if isinstance(head, Verdict):
                    ready.append(head)
                elif head.done():
                    ready.append(head.result())
                else:
                    break
                window.popleft()
            if ready:
                space.set()
                yield ready
                continue
            if window:
                await asyncio.wait((cast(asyncio.Task[Verdict], window[0]),))
                continue
            if producer.done():
                producer.result()
                return
            changed.clear()
            if not window and not producer.done():
                await changed.wait()
    finally:
        producer.cancel()
        for left in window:
            if not isinstance(left, Verdict):
                left.cancel()
