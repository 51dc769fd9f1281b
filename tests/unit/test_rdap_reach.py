"""Registries that cannot be reached are set aside for a while, then probed again."""

from __future__ import annotations

import asyncio
import math

import pytest

from hostlocate.errors import ErrorCode
from hostlocate.sources._rdap_fetch import Failure, Reachability


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def fail_once(reach: Reachability, registry: str) -> None:
    probing = await reach.enter(registry, math.inf)
    assert probing  # a registry that has not answered is asked one request at a time
    reach.unreachable(registry, "connection refused")
    reach.leave(registry, probing)


def test_a_registry_set_aside_is_probed_again_after_the_pause() -> None:
    clock = Clock()
    reach = Reachability(after=2, pause=60.0, clock=clock)

    async def main() -> None:
        await fail_once(reach, "arin")
        await fail_once(reach, "arin")
        with pytest.raises(Failure) as refused:
            await reach.enter("arin", math.inf)
        assert refused.value.code is ErrorCode.RDAP_UNREACHABLE
        assert await reach.enter("ripe", math.inf)  # another registry is not affected
        clock.now += 61
        probing = await reach.enter("arin", math.inf)
        assert probing
        reach.answered("arin")
        reach.leave("arin", probing)
        assert await reach.enter("arin", math.inf) is False  # answered: no probing now

    asyncio.run(main())


def test_one_probe_at_a_time_until_the_registry_answers() -> None:
    reach = Reachability(after=3, pause=60.0)
    order: list[str] = []

    async def ask(name: str) -> None:
        probing = await reach.enter("lacnic", math.inf)
        order.append(f"{name} {'probes' if probing else 'goes'}")
        await asyncio.sleep(0.01)
        if name == "first":
            reach.answered("lacnic")
        reach.leave("lacnic", probing)

    async def main() -> None:
        await asyncio.gather(ask("first"), ask("second"), ask("third"))

    asyncio.run(main())
    assert order == ["first probes", "second goes", "third goes"]
