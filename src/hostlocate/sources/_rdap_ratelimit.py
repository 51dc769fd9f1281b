"""Per-registry request budgets shared by every concurrent look-up of one client.

Registries ban clients that ask too fast (LACNIC for minutes, the RIPE NCC for
the day), so each registry gets token buckets, and a request that would have
to wait past its deadline is not made at all (the caller reports
``rdap_rate_limited`` at once instead of sleeping in vain). A ``Retry-After``
from the registry blocks the whole registry until then, not only the request
that got it.

Defaults (requests; see docs/rdap.md for the sources):

========  =============================================  ===========================
registry  budget                                          basis
========  =============================================  ===========================
lacnic    10 a minute, burst 10                           LACNIC's own rate-limit notice
ripe      1,000 a day (burst 1,000) and 5/s, burst 10     RIPE Database AUP daily limit
afrinic   5,000 a day (burst 5,000) and 5/s, burst 10     AFRINIC daily query limit
arin      5/s, burst 10                                   none published: conservative
apnic     5/s, burst 10                                   none published: conservative
others    1/s, burst 5                                    none published: conservative
========  =============================================  ===========================
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping, Sequence

import msgspec

__all__ = ["DEFAULT_RATE_LIMITS", "RateLimit", "RateLimiter", "TokenBucket", "limits_from"]


class RateLimit(msgspec.Struct, frozen=True):
    """A token bucket: ``rate`` requests a second sustained, ``burst`` at once."""

    rate: float
    burst: float = 1.0


_DAY = 86_400.0

DEFAULT_RATE_LIMITS: Mapping[str, tuple[RateLimit, ...]] = {
    "lacnic": (RateLimit(10 / 60, 10),),
    "ripe": (RateLimit(1000 / _DAY, 1000), RateLimit(5, 10)),
    "afrinic": (RateLimit(5000 / _DAY, 5000), RateLimit(5, 10)),
    "arin": (RateLimit(5, 10),),
    "apnic": (RateLimit(5, 10),),
    "*": (RateLimit(1, 5),),
}
"""Budgets per registry name; ``"*"`` is every registry not named."""


class TokenBucket:
    """One bucket; reservations may drive it negative, so waiters queue in order."""

    __slots__ = ("_clock", "_tokens", "_updated", "limit")

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._tokens = float(limit.burst)
        self._updated = clock()

    def _refill(self, now: float) -> None:
        if math.isinf(self.limit.rate):
            self._tokens = float(self.limit.burst)
        else:
            gained = (now - self._updated) * self.limit.rate
            self._tokens = min(float(self.limit.burst), self._tokens + gained)
        self._updated = now

    def wait_needed(self, now: float) -> float:
        """Seconds until a token is free (0 if one is free now)."""
        self._refill(now)
        if self._tokens >= 1 or math.isinf(self.limit.rate):
            return 0.0
        if self.limit.rate <= 0:
            return math.inf
        return (1 - self._tokens) / self.limit.rate

    def take(self) -> None:
        """Take one token (after :meth:`wait_needed` said when it is free)."""
        if not math.isinf(self.limit.rate):
            self._tokens -= 1


class _Registry:
    __slots__ = ("blocked_until", "buckets")

    def __init__(self, buckets: list[TokenBucket]) -> None:
        self.buckets = buckets
        self.blocked_until = 0.0


class RateLimiter:
    """The buckets of every registry one client talks to: the default
    :class:`~hostlocate.sources.base.RateBudget`, private to one process."""

    def __init__(
        self,
        limits: Mapping[str, Sequence[RateLimit]] = DEFAULT_RATE_LIMITS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = dict(limits)
        self._clock = clock
        self._registries: dict[str, _Registry] = {}
        self.waits = 0
        self.wait_seconds = 0.0
        self.refusals = 0

    def _registry(self, name: str) -> _Registry:
        state = self._registries.get(name)
        if state is None:
            limits = self._limits.get(name, self._limits.get("*", ()))
            state = _Registry([TokenBucket(limit, self._clock) for limit in limits])
            self._registries[name] = state
        return state

    def reserve(self, registry: str, deadline: float) -> float | None:
        """Book one request to ``registry``: the seconds to wait first, or None.

        None means the request could not start before ``deadline``; nothing is
        booked then.
        """
        state = self._registry(registry)
        now = self._clock()
        wait = max(0.0, state.blocked_until - now)
        for bucket in state.buckets:
            wait = max(wait, bucket.wait_needed(now))
        if now + wait > deadline:
            self.refusals += 1
            return None
        for bucket in state.buckets:
            bucket.take()
        if wait > 0:
            self.waits += 1
            self.wait_seconds += wait
        return wait

    def block(self, registry: str, until: float) -> None:
        """The registry said ``Retry-After``: nobody asks it again before ``until``."""
        state = self._registry(registry)
        state.blocked_until = max(state.blocked_until, until)

    async def acquire(self, registry: str, deadline: float) -> bool:
        """Book a request (:meth:`reserve`) and sleep until it may start."""
        wait = self.reserve(registry, deadline)
        if wait is None:
            return False
        if wait > 0:
            await asyncio.sleep(wait)
        return True

    async def pause(self, registry: str, seconds: float) -> None:
        """:meth:`block` for ``seconds`` from now."""
        self.block(registry, self._clock() + seconds)

    def stats(self) -> dict[str, float]:
        """Waits, seconds waited and refusals so far."""
        return {
            "waits": self.waits,
            "wait_seconds": self.wait_seconds,
            "refusals": self.refusals,
        }


def limits_from(
    overrides: Mapping[str, float | RateLimit | Sequence[RateLimit]] | None,
) -> dict[str, tuple[RateLimit, ...]]:
    """Merge caller overrides into the defaults.

    A number is requests per second with a burst of ``max(1, number)``;
    ``float("inf")`` lifts the limit. ``"*"`` given by the caller applies to
    every registry the caller does not name, defaults included.
    """
    if not overrides:
        return dict(DEFAULT_RATE_LIMITS)
    merged: dict[str, tuple[RateLimit, ...]] = {} if "*" in overrides else dict(DEFAULT_RATE_LIMITS)
    for name, value in overrides.items():
        if isinstance(value, RateLimit):
            merged[name] = (value,)
        elif isinstance(value, int | float):
            rate = float(value)
            if rate < 0 or math.isnan(rate):
                raise ValueError(f"rate limit for {name!r} must be >= 0")
            merged[name] = (RateLimit(rate, max(1.0, rate) if not math.isinf(rate) else 1.0),)
        else:
            merged[name] = tuple(value)
    return merged
