"""The in-memory TTL cache behind DNS answers and RDAP negatives and registrars."""

from __future__ import annotations

import pytest

from hostlocate.cache import TTLCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_each_after_its_own_ttl() -> None:
    clock = FakeClock()
    cache: TTLCache[str, int] = TTLCache(8, clock=clock)
    cache.put("a", 1, 10)
    cache.put("b", 2, 100)
    assert cache.get_with_expiry("a") == (1, 1010.0)
    clock.now += 11
    assert cache.get("a") is None
    assert cache.get_with_expiry("b") == (2, 1100.0)
    assert (cache.stats.hits, cache.stats.misses) == (2, 1)


def test_the_least_recently_used_goes_first_when_full() -> None:
    cache: TTLCache[str, int] = TTLCache(2, clock=FakeClock())
    cache.put("a", 1, 10)
    cache.put("b", 2, 10)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3, 10)
    assert (len(cache), cache.get("b"), cache.get("a"), cache.get("c")) == (2, None, 1, 3)
    cache.clear()
    assert len(cache) == 0


def test_a_ttl_of_zero_or_less_keeps_nothing() -> None:
    cache: TTLCache[str, int] = TTLCache(2, clock=FakeClock())
    cache.put("a", 1, 0)
    cache.put("b", 2, -5)
    assert len(cache) == 0
    with pytest.raises(ValueError):
        TTLCache(0)
