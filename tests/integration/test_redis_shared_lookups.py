"""SharedLookups' rules, with a fake RDAP client of our own over a real redis-server.

Two stores on one Redis stand for two workers. The fake client answers from
the Redis cache when it can and otherwise "asks a registry" (counted), slowly,
writing what it learnt to the cache, as the real client does through its
injected cache.
"""

from __future__ import annotations

import asyncio
import time
from typing import TypeVar

import msgspec
import pytest

from hostlocate.errors import ErrorCode
from hostlocate.models import AutnumInfo, IpOwnership, RegistrarInfo
from hostlocate.redis_shared import SharedLookups, block_of
from hostlocate.redis_store import RedisStore
from tests.redislab import RedisLab

pytestmark = pytest.mark.integration


_A = TypeVar("_A", IpOwnership, AutnumInfo)


class FakeClient:
    """What SharedLookups needs of an RDAP client, answering per /24 block."""

    bootstrap = "user"

    def __init__(self, store: RedisStore, *, delay: float = 0.3, error: str | None = None):
        self.store = store
        self.delay = delay
        self.error = error
        self.asked = 0

    async def load_bootstrap(self) -> None:
        return None

    def _read(self, kind: str, key: str, type: type[_A]) -> tuple[_A, float] | None:
        found = self.store.get_entry(kind, key)
        if found is None:
            return None
        return msgspec.msgpack.decode(found[0], type=type), time.monotonic() + found[1]

    async def _ask(self, kind: str, key: str, answer: _A) -> _A:
        """The answer after a registry's delay; kept in the shared cache unless failed."""
        self.asked += 1
        await asyncio.sleep(self.delay)
        if answer.error is None:
            kept = msgspec.structs.replace(answer, from_cache=True, requests=0)
            self.store.put_entry(kind, key, msgspec.msgpack.encode(kept), 60)
        return answer

    def cached_ip(self, ip: str) -> tuple[IpOwnership, float] | None:
        return self._read("negative", block_of(ip), IpOwnership)

    def cached_domain(self, domain: str) -> tuple[RegistrarInfo, float] | None:
        return None

    def cached_autnum(self, asn: int) -> tuple[AutnumInfo, float] | None:
        return self._read("autnum", str(asn), AutnumInfo)

    async def lookup_ip(self, ip: str, *, deadline: float | None = None) -> IpOwnership:
        hit = self.cached_ip(ip)
        if hit is not None:
            return hit[0]
        answer = IpOwnership(error=self.error, detail=f"asked for {ip}", requests=1)
        return await self._ask("negative", block_of(ip), answer)

    async def lookup_autnum(self, asn: int, *, deadline: float | None = None) -> AutnumInfo:
        hit = self.cached_autnum(asn)
        return (
            hit[0]
            if hit
            else await self._ask("autnum", str(asn), AutnumInfo(asn=asn, name=f"AS{asn}"))
        )

    def stats(self) -> dict[str, int]:
        return {"asked": self.asked}

    async def aclose(self) -> None:
        return None


@pytest.fixture
def url(redis_lab: RedisLab) -> str:
    redis_lab.flush()
    return redis_lab.url(db=9)


def two_workers(
    url: str, **fake: object
) -> tuple[SharedLookups, SharedLookups, FakeClient, FakeClient]:
    one, two = RedisStore(url), RedisStore(url)
    first, second = FakeClient(one, **fake), FakeClient(two, **fake)
    return (
        SharedLookups(first, one),
        SharedLookups(second, two),
        first,
        second,
    )


def test_one_worker_asks_the_others_wait_for_its_answer(url: str) -> None:
    async def run() -> None:
        a, b, first, second = two_workers(url)
        deadline = time.monotonic() + 10
        found = await asyncio.gather(
            a.lookup_ip("193.0.6.1", deadline=deadline),
            b.lookup_ip("193.0.6.2", deadline=deadline),
            b.lookup_ip("193.0.6.3", deadline=deadline),
        )
        assert first.asked + second.asked == 1
        assert all(f.error is None for f in found)
        assert sum(1 for f in found if f.from_cache) == 2
        assert a.joins + b.joins >= 1
        # Another block is another look-up.
        await a.lookup_ip("193.0.7.1", deadline=deadline)
        assert first.asked + second.asked == 2

    asyncio.run(run())


def test_autonomous_systems_are_shared_too(url: str) -> None:
    async def run() -> None:
        a, b, first, second = two_workers(url)
        deadline = time.monotonic() + 10
        found = await asyncio.gather(
            a.lookup_autnum(3333, deadline=deadline), b.lookup_autnum(3333, deadline=deadline)
        )
        assert first.asked + second.asked == 1
        assert [f.name for f in found] == ["AS3333", "AS3333"]
        assert a.cached_autnum(3333) is not None

    asyncio.run(run())


def test_a_failure_is_not_shared_the_waiter_asks_after_the_lock_is_let_go(url: str) -> None:
    async def run() -> None:
        a, b, first, second = two_workers(url, error=ErrorCode.RDAP_HTTP_ERROR.value)
        deadline = time.monotonic() + 10
        found = await asyncio.gather(
            a.lookup_ip("193.0.6.1", deadline=deadline),
            b.lookup_ip("193.0.6.2", deadline=deadline),
        )
        assert first.asked + second.asked == 2
        assert [f.error for f in found] == [ErrorCode.RDAP_HTTP_ERROR.value] * 2

    asyncio.run(run())


def test_a_waiter_gives_up_at_its_deadline_and_a_late_holder_keeps_its_lock(url: str) -> None:
    async def run() -> None:
        a, b, first, _ = two_workers(url, delay=1.0)
        holder = asyncio.ensure_future(a.lookup_ip("193.0.6.1", deadline=time.monotonic() + 10))
        await asyncio.sleep(0.1)
        waited = await b.lookup_ip("193.0.6.2", deadline=time.monotonic() + 0.3)
        assert waited.error == ErrorCode.RDAP_TIMEOUT.value
        assert "another worker" in (waited.detail or "")
        assert (await holder).error is None
        assert first.asked == 1

        # A holder whose own look-up ran out of time leaves the lock to expire.
        slow, _, _, _ = two_workers(url, error=ErrorCode.RDAP_TIMEOUT.value, delay=0.0)
        await slow.lookup_ip("193.0.9.1", deadline=time.monotonic() + 10)
        assert await slow.store.held(block_of("193.0.9.1"))

    asyncio.run(run())


def test_without_redis_each_worker_looks_up_alone(redis_alone: RedisLab) -> None:
    store = RedisStore(redis_alone.url(), retry_interval=60)
    fake = FakeClient(store, delay=0.0)
    shared = SharedLookups(fake, store)
    redis_alone.kill()

    async def run() -> None:
        found = await shared.lookup_ip("193.0.6.1", deadline=time.monotonic() + 5)
        assert found.error is None
        assert shared.lookups_without_redis == 1
        assert shared.stats()["lookups_without_redis"] == 1
        assert shared.stats()["asked"] == 1  # the inner client's own counters are kept

    asyncio.run(run())
    store.close()
