"""Locator: the synchronous surface, the same parameters and methods as AsyncLocator.

It runs an :class:`~hostlocate.asynclocator.AsyncLocator` on a private event
loop thread, and answers what needs no look-up (bad input, special names, a
host decided recently) in the calling thread, without the hop to the loop.
Module-level :func:`locate` uses a lazily built default locator.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from hostlocate._bridge import Drain, Feed
from hostlocate.asynclocator import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, AsyncLocator, text_of
from hostlocate.errors import ConfigError
from hostlocate.models import Report, SourceInfo, Verdict

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_TIMEOUT",
    "AsyncLocator",
    "Locator",
    "default_locator",
    "locate",
    "reset_default_locator",
]


class Locator:
    """The synchronous locator: same parameters and method names as :class:`AsyncLocator`.

    Safe to share between threads: look-ups run on one private event loop; what
    needs no look-up (bad input, special names, a host decided recently) is
    answered in the calling thread, without the hop to the loop.
    """

    def __init__(self, nameservers: Sequence[str] | None = None, **options: Any) -> None:
        self._async = AsyncLocator(nameservers, **options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="hostlocate-loop", daemon=True
        )
        self._thread.start()
        self._closed = False

    @property
    def nameservers(self) -> tuple[str, ...]:
        return self._async.nameservers

    @property
    def sources(self) -> dict[str, SourceInfo]:
        return self._async.sources

    def locate(self, url: str, origin: Sequence[str] = ()) -> Verdict:
        """One verdict for one reported URL; never raises for bad input or remote faults.

        ``origin``: addresses an intermediary disclosed (see :meth:`AsyncLocator.locate`).
        Raises ``TypeError`` when ``url`` is not text.
        """
        started = time.perf_counter()
        ready = self._async._answer_now(text_of(url), started, tuple(origin))
        if isinstance(ready, Verdict):
            return ready
        verdict: Verdict = self._submit(self._async._finish(url, ready, started)).result()
        return verdict

    def locate_many(
        self,
        urls: Iterable[str | Report],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_wait: Callable[[], None] | None = None,
    ) -> Iterator[Verdict]:
        """One verdict per input, in input order, streaming with bounded concurrency.

        The inputs are read on a thread of their own, so a slow source (a pipe)
        never stalls look-ups already under way; verdicts come back in batches of
        whatever is ready, so a warm cache costs no thread hop per record.
        ``on_wait`` is called, in the caller's thread, when no verdict has come
        for a moment (20 ms): the moment to flush what was written so far.
        """
        if concurrency < 1:
            raise ConfigError("concurrency must be at least 1")
        feed: Feed[str | Report] = Feed(self._loop, capacity=max(4 * concurrency, 1024))
        out: Drain[Verdict] = Drain(self._loop, capacity=max(4 * concurrency, 4096))
        reader = threading.Thread(
            target=feed.fill, args=(iter(urls),), name="hostlocate-input", daemon=True
        )
        pump = self._submit(out.pump(self._async._located(feed.chunks(), concurrency)))
        reader.start()
        try:
            while True:
                chunk = out.take(on_wait)
                if not chunk:
                    break
                yield from chunk
            pump.result()
            feed.reraise()
        except GeneratorExit:
            raise  # the caller stopped reading: it does not wait for a blocked input
        except BaseException:
            # A failure: wait until the reader has let go of the input, so that a
            # caller going on with the same iterator never shares it with this thread.
            feed.stop()
            reader.join()
            raise
        finally:
            feed.stop()
            if not pump.done():
                pump.cancel()
                out.release()

    def stats(self) -> dict[str, Any]:
        return self._async.stats()

    def close(self) -> None:
        """Stop the loop thread and release resources."""
        if self._closed:
            return
        self._closed = True
        try:
            self._submit(self._shutdown()).result(timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    async def _shutdown(self) -> None:
        """Close the sources, then end what a stream left midway still runs (its
        generators and tasks), so that closing the loop destroys nothing pending."""
        try:
            await self._async.aclose()
        finally:
            await self._loop.shutdown_asyncgens()
            current = asyncio.current_task()
            left = [t for t in asyncio.all_tasks() if t is not current]
            for task in left:
                task.cancel()
            await asyncio.gather(*left, return_exceptions=True)

    def __enter__(self) -> Locator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _submit(self, coro: Any) -> concurrent.futures.Future[Any]:
        if self._closed and not self._loop.is_running():
            coro.close()
            raise RuntimeError("this Locator is closed")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)


_default: Locator | None = None
_default_lock = threading.Lock()


def default_locator() -> Locator:
    """The lazily built module-level locator (system resolvers, bundled data)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Locator()
        return _default


def reset_default_locator() -> None:
    """Close and forget the module-level locator (tests, configuration changes)."""
    global _default
    with _default_lock:
        if _default is not None:
            _default.close()
        _default = None


def locate(url: str) -> Verdict:
    """Locate one URL with the default locator."""
    return default_locator().locate(url)
