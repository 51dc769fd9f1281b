"""What workers of one Redis share beyond answers: each registry's budget and
the look-ups under way.

The budget is a token bucket per registry kept by one atomic Lua script on
the server's clock, with a pause key a ``Retry-After`` seen by one worker sets
for all; a look-up under way is a short lock per address block that the other
workers wait on, polling the shared cache. Both fall back to working alone
while Redis is away (:mod:`hostlocate.redis_store` says how).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from hostlocate.errors import ErrorCode
from hostlocate.models import AutnumInfo, IpOwnership, RegistrarInfo
from hostlocate.sources._rdap_ratelimit import RateLimit, RateLimiter

if TYPE_CHECKING:
    from hostlocate.redis_store import RedisStore
    from hostlocate.sources.base import OwnerSource

__all__ = ["ALONE", "MAX_PAUSE", "RedisBudget", "SharedLookups", "block_of"]

ALONE: Any = object()
"""What :meth:`~hostlocate.redis_store.RedisStore.claim` gives while Redis is away:
look up without a lock."""

MAX_PAUSE = 30.0
"""The longest a ``Retry-After`` pauses a registry for every worker (as for one)."""

# Token buckets of one registry. KEYS[1]: hash of the buckets' state; KEYS[2]: the
# pause key (its value: the server time in ms until which the registry rests).
# ARGV[1]: the longest wait the caller accepts (ms); then rate (per s), burst pairs.
# Tokens may go negative: reservations queue in order, as in the local limiter.
# Returns the wait in ms before the request may start, or -1 (nothing taken).
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then wait = paused - now end
local n = (#ARGV - 1) / 2
local tokens = {}
local keep = 1000
for i = 1, n do
  local rate = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  local have = tonumber(redis.call('HGET', KEYS[1], 't' .. i) or burst)
  local at = tonumber(redis.call('HGET', KEYS[1], 'u' .. i) or now)
  if at > now then at = now end
  have = math.min(burst, have + (now - at) * rate / 1000)
  tokens[i] = have
  if have < 1 then
    if rate <= 0 then return -1 end
    wait = math.max(wait, math.ceil((1 - have) * 1000 / rate))
  end
end
if wait > tonumber(ARGV[1]) then return -1 end
for i = 1, n do
  local rate = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  redis.call('HSET', KEYS[1], 't' .. i, tokens[i] - 1, 'u' .. i, now)
  -- Kept until the bucket is full again: forgotten earlier, the reservations
  -- still queued (tokens below zero) would be granted a second time.
  if rate > 0 then
    keep = math.max(keep, math.ceil((burst - tokens[i] + 1) * 1000 / rate) + 1000)
  else
    keep = math.max(keep, 31622400000)
  end
end
redis.call('PEXPIRE', KEYS[1], keep)
return wait
"""

# KEYS[1]: the pause key; ARGV[1]: milliseconds. Only ever lengthens a pause.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
local old = tonumber(redis.call('GET', KEYS[1]) or '0')
if old < until_ms then
  redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]))
end
return 1
"""


class RedisBudget:
    """The request budget of each registry, one for every worker of a :class:`RedisStore`.

    Implements :class:`~hostlocate.sources.base.RateBudget`. One Lua script
    (``register_script``: loaded once, run by hash) refills and takes the tokens
    of all of a registry's buckets atomically on the server's clock, so workers
    on several machines agree; a ``Retry-After`` sets a pause key every worker
    reads. While Redis is away the worker uses a local budget of the same limits.
    """

    def __init__(self, store: RedisStore, limits: Mapping[str, Sequence[RateLimit]]) -> None:
        self.store = store
        self._limits = dict(limits)
        self._local = RateLimiter(self._limits)
        self._reserve = store._client.register_script(_RESERVE)
        self._pause = store._client.register_script(_PAUSE)
        self.waits = 0
        self.wait_seconds = 0.0
        self.refusals = 0
        self.local_acquires = 0

    def _args(self, registry: str) -> list[float] | None:
        """(rate, burst) pairs of ``registry``; None when it has no finite limit."""
        limits = self._limits.get(registry, self._limits.get("*", ()))
        pairs: list[float] = []
        for limit in limits:
            if math.isinf(limit.rate):
                continue
            pairs.extend((limit.rate, limit.burst))
        return pairs or None

    async def acquire(self, registry: str, deadline: float) -> bool:
        """Wait for one request's token of ``registry``; False (nothing taken, no wait)
        when none can be had before ``deadline`` (a ``time.monotonic()`` value)."""
        pairs = self._args(registry)
        if pairs is None:
            return True
        patience = deadline - time.monotonic()
        patience_ms = 10**12 if math.isinf(patience) else max(0, int(patience * 1000))
        keys = [self._key("bucket", registry), self._key("pause", registry)]
        done, wait_ms = await self.store._acall(
            lambda: asyncio.to_thread(self._reserve, keys=keys, args=[patience_ms, *pairs])
        )
        if not done:
            return await self._acquire_local(registry, deadline)
        if int(wait_ms) < 0:
            self.refusals += 1
            return False
        if wait_ms:
            self.waits += 1
            self.wait_seconds += int(wait_ms) / 1000
            await asyncio.sleep(int(wait_ms) / 1000)
        return True

    async def _acquire_local(self, registry: str, deadline: float) -> bool:
        self.local_acquires += 1
        wait = self._local.reserve(registry, deadline)
        if wait is None:
            self.refusals += 1
            return False
        if wait > 0:
            self.waits += 1
            self.wait_seconds += wait
            await asyncio.sleep(wait)
        return True

    async def pause(self, registry: str, seconds: float) -> None:
        """The registry said ``Retry-After``: no worker asks it for ``seconds`` (≤ 30)."""
        seconds = min(max(0.0, seconds), MAX_PAUSE)
        self._local.block(registry, time.monotonic() + seconds)
        if seconds > 0:
            keys, args = [self._key("pause", registry)], [max(1, int(seconds * 1000))]
            await self.store._acall(lambda: asyncio.to_thread(self._pause, keys=keys, args=args))

    def _key(self, what: str, registry: str) -> str:
        return f"{self.store.prefix}{what}:{registry}"

    def stats(self) -> dict[str, float]:
        """``waits``, ``wait_seconds`` and ``refusals`` so far; ``local_acquires``:
        tokens taken from the local budget while Redis was away."""
        return {
            "waits": self.waits,
            "wait_seconds": round(self.wait_seconds, 3),
            "refusals": self.refusals,
            "local_acquires": self.local_acquires,
        }


_R = TypeVar("_R", IpOwnership, RegistrarInfo, AutnumInfo)
_POLL_FIRST = 0.02
_POLL_MAX = 0.5


def block_of(ip: str) -> str:
    """The lock key of an address: its /24 (IPv4) or /48 (IPv6), as the RDAP
    client groups look-ups in flight within one process."""
    address = ipaddress.ip_address(ip)
    if address.version == 4:
        return f"ip4:{int(address) >> 8:x}"
    return f"ip6:{int(address) >> 80:x}"


class SharedLookups:
    """An :class:`~hostlocate.sources.base.OwnerSource` (the RDAP client) whose
    look-ups under way are shared by every worker of a :class:`RedisStore`.

    The first worker to miss the cache for an address block takes the block's
    lock and asks the registry (through ``inner``, whose cache is the shared
    one); the others poll ``inner``'s cache with backoff (20 ms doubling to
    0.5 s) until the answer is there, the lock is gone (they then try to take
    it themselves) or their deadline passes. Domains and autonomous systems are
    shared the same way.
    A lock outlives a worker that dies by at most ``lock_ttl``. While Redis is
    away each worker looks up alone (counted in ``lookups_without_redis``).
    """

    def __init__(self, inner: OwnerSource, store: RedisStore) -> None:
        self.inner = inner
        self.store = store
        self.lookups_without_redis = 0
        """Registry look-ups made while Redis was away (each by this worker alone)."""
        self.joins = 0
        """Look-ups answered by another worker's look-up under way."""

    def cached_ip(self, ip: str) -> tuple[IpOwnership, float] | None:
        """The cached holder of ``ip`` and when that answer expires, or None."""
        return self.inner.cached_ip(ip)

    def cached_domain(self, domain: str) -> tuple[RegistrarInfo, float] | None:
        """The cached registrar of ``domain`` and when that answer expires, or None."""
        return self.inner.cached_domain(domain)

    def cached_autnum(self, asn: int) -> tuple[AutnumInfo, float] | None:
        """The cached holder of AS ``asn`` and when that answer expires, or None."""
        return self.inner.cached_autnum(asn)

    async def lookup_ip(self, ip: str, *, deadline: float | None = None) -> IpOwnership:
        """The holder of ``ip``, asked of a registry by one worker only."""
        return await self._shared(
            block_of(ip),
            lambda: self.inner.cached_ip(ip),
            lambda: self.inner.lookup_ip(ip, deadline=deadline),
            deadline,
            lambda: IpOwnership(error=_TIMEOUT, detail=_WAITED),
        )

    async def lookup_domain(self, domain: str, *, deadline: float | None = None) -> RegistrarInfo:
        """The registrar of ``domain``, asked of a registry by one worker only."""
        name = domain.strip().rstrip(".").lower()
        return await self._shared(
            f"domain:{name}",
            lambda: self.inner.cached_domain(name),
            lambda: self.inner.lookup_domain(name, deadline=deadline),
            deadline,
            lambda: RegistrarInfo(domain=name, error=_TIMEOUT, detail=_WAITED),
        )

    async def lookup_autnum(self, asn: int, *, deadline: float | None = None) -> AutnumInfo:
        """The holder of AS ``asn``, asked of a registry by one worker only."""
        late = AutnumInfo(asn=asn, error=_TIMEOUT, detail=_WAITED)
        cached = functools.partial(self.inner.cached_autnum, asn)
        ask = functools.partial(self.inner.lookup_autnum, asn, deadline=deadline)
        return await self._shared(f"autnum:{asn}", cached, ask, deadline, lambda: late)

    async def _shared(
        self,
        key: str,
        cached: Callable[[], tuple[_R, float] | None],
        ask: Callable[[], Awaitable[_R]],
        deadline: float | None,
        late: Callable[[], _R],
    ) -> _R:
        end = math.inf if deadline is None else deadline
        pause = _POLL_FIRST
        load = getattr(self.inner, "load_bootstrap", None)
        if load is not None and getattr(self.inner, "bootstrap", None) is None:
            # Ranges are kept per RDAP service: without the bootstrap nothing cached
            # can be found, and a worker waiting on another would wait in vain.
            await load()
        while True:
            hit = cached()
            if hit is not None:
                return await ask()  # answered from the cache the hit came from
            lock = await self.store.claim(key)
            if lock is ALONE:
                self.lookups_without_redis += 1
                return await ask()
            if lock is not None:
                result: _R | None = None
                try:
                    result = await ask()
                    return result
                finally:
                    # A look-up that ran out of time goes on in the background:
                    # its lock stays until it expires, so nobody asks twice.
                    if result is not None and getattr(result, "error", None) != _TIMEOUT:
                        await self.store.release(lock)
            self.store.counts["lock_waits"] += 1
            while True:
                now = time.monotonic()
                if now >= end:
                    return late()
                await asyncio.sleep(min(pause, end - now))
                pause = min(pause * 2, _POLL_MAX)
                if cached() is not None:
                    self.joins += 1
                    return await ask()
                if not await self.store.held(key):
                    break  # the holder is done (or died): try again

    def stats(self) -> dict[str, Any]:
        """The inner source's counters, with the shared look-ups'."""
        stats = dict(self.inner.stats())
        stats["shared_joins"] = self.joins
        stats["lookups_without_redis"] = self.lookups_without_redis
        return stats

    async def aclose(self) -> None:
        await self.inner.aclose()

    def __getattr__(self, name: str) -> Any:
        """Everything else (``bootstrap``, ``load_bootstrap``...) is the inner source's,
        so the wrapper stands wherever the RDAP client stood."""
        return getattr(self.inner, name)


_TIMEOUT = ErrorCode.RDAP_TIMEOUT.value
_WAITED = "deadline passed while another worker looked it up"
