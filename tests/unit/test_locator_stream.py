"""The sync locator's stream: order, and an input that fails midway.

IP literals and invalid inputs need no DNS: nothing here leaves the process.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from hostlocate import AsyncLocator, Locator

NO_DNS = ["127.0.0.1:9"]  # never asked: the inputs below need no look-up


def test_an_input_failing_midway_raises_after_the_verdicts_before_it() -> None:
    def urls() -> Iterator[str]:
        yield "http://193.0.6.139/"
        yield ""
        raise OSError("the input went away")

    got: list[str] = []
    with Locator(NO_DNS, rdap=False) as loc:
        with pytest.raises(OSError, match="went away"):
            for verdict in loc.locate_many(urls()):
                got.append(verdict.status)
        # The input's reader has let go before the error reached the caller.
        assert not [t for t in threading.enumerate() if t.name.startswith("hostlocate-input")]
    assert got == ["located", "invalid"]


def test_order_is_kept_for_many_inputs() -> None:
    inputs = [f"http://193.0.{i % 8}.{1 + i % 250}/{i}" if i % 5 else "" for i in range(3000)]
    with Locator(NO_DNS, rdap=False) as loc:
        verdicts = list(loc.locate_many(inputs, concurrency=4))
    assert [v.input for v in verdicts] == inputs
    assert [v.status for v in verdicts] == ["invalid" if not u else "located" for u in inputs]


def test_a_verdict_comes_out_while_the_input_is_still_waiting() -> None:
    # Inputs move in lists, but a list is whatever has been read: a source that
    # stalls (a pipe) must not hold back the verdicts of what it gave already.
    first_seen = threading.Event()

    def urls() -> Iterator[str]:
        yield "http://193.0.6.139/"
        yield "http://193.0.6.140/"
        if not first_seen.wait(10):
            raise TimeoutError("no verdict came out while the input waited")
        yield "http://193.0.6.141/"

    got: list[str] = []
    with Locator(NO_DNS, rdap=False) as loc:
        for verdict in loc.locate_many(urls()):
            got.append(verdict.input)
            first_seen.set()
    assert got == ["http://193.0.6.139/", "http://193.0.6.140/", "http://193.0.6.141/"]


def test_the_async_locator_streams_a_plain_iterable_in_order() -> None:
    inputs = [f"http://193.0.6.{i % 250 + 1}/{i}" if i % 7 else "" for i in range(500)]

    async def run() -> list[str]:
        async with AsyncLocator(NO_DNS, rdap=False) as loc:
            return [v.input async for v in loc.locate_many(iter(inputs), concurrency=3)]

    assert asyncio.run(run()) == inputs


def test_a_slow_reader_of_verdicts_holds_the_locator_back_without_loss() -> None:
    # More verdicts than the hand-over queue holds: the loop waits for room.
    inputs = [f"http://193.0.{i % 8}.{1 + i % 250}/{i}" for i in range(12_000)]
    got: list[str] = []
    with Locator(NO_DNS, rdap=False) as loc:
        for verdict in loc.locate_many(inputs, concurrency=2):
            if not got:
                time.sleep(0.3)  # the loop fills the queue meanwhile, then must wait
            got.append(verdict.input)
    assert got == inputs
