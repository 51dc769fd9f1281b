"""The one helper that shares a look-up under way between its callers."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from hostlocate._inflight import InFlight


async def answer_after(seconds: float, value: str, log: list[str]) -> str:
    log.append(f"asked {value}")
    await asyncio.sleep(seconds)
    return value


def test_waiters_get_the_answer_of_the_one_look_up() -> None:
    async def main() -> None:
        flights: InFlight[str, str] = InFlight()
        log: list[str] = []
        owner = asyncio.create_task(flights.lead("k", answer_after(0.05, "answer", log), math.inf))
        await asyncio.sleep(0)
        assert "k" in flights
        waiters = await asyncio.gather(*(flights.join("k", math.inf) for _ in range(3)))
        assert await owner == "answer" and waiters == ["answer"] * 3
        assert log == ["asked answer"] and flights.joins == 3
        assert "k" not in flights and await flights.join("k", math.inf) is None

    asyncio.run(main())


def test_the_look_up_outlives_an_owner_that_stops_waiting() -> None:
    async def main() -> None:
        flights: InFlight[str, str] = InFlight()
        log: list[str] = []
        with pytest.raises(TimeoutError):
            await flights.lead("k", answer_after(0.2, "late", log), time.monotonic() + 0.02)
        assert len(flights.tasks) == 1  # still under way
        assert await flights.join("k", math.inf) == "late"
        assert not flights.tasks

        owner = asyncio.create_task(flights.lead("c", answer_after(0.1, "kept", log), math.inf))
        await asyncio.sleep(0.01)
        owner.cancel()  # the caller is cancelled, not the look-up
        assert await flights.join("c", math.inf) == "kept"
        with pytest.raises(asyncio.CancelledError):
            await owner

    asyncio.run(main())


def test_a_failed_or_cancelled_look_up_sends_waiters_to_ask_for_themselves() -> None:
    async def boom() -> str:
        await asyncio.sleep(0.01)
        raise RuntimeError("registry fell over")

    async def main() -> None:
        flights: InFlight[str, str] = InFlight()
        owner = asyncio.create_task(flights.lead("k", boom(), math.inf))
        await asyncio.sleep(0)
        assert await flights.join("k", math.inf) is None
        with pytest.raises(RuntimeError):
            await owner

        log: list[str] = []
        owner = asyncio.create_task(flights.lead("c", answer_after(10, "never", log), math.inf))
        await asyncio.sleep(0)
        waiter = asyncio.create_task(flights.join("c", math.inf))
        await asyncio.sleep(0)
        await flights.cancel_all()
        assert await waiter is None and not flights.tasks
        with pytest.raises(asyncio.CancelledError):
            await owner

    asyncio.run(main())


def test_a_waiter_gives_up_at_its_deadline() -> None:
    async def main() -> None:
        flights: InFlight[str, str] = InFlight()
        log: list[str] = []
        owner = asyncio.create_task(flights.lead("k", answer_after(0.2, "slow", log), math.inf))
        await asyncio.sleep(0)
        with pytest.raises(TimeoutError):
            await flights.join("k", time.monotonic() + 0.01)
        assert await owner == "slow"

    asyncio.run(main())
