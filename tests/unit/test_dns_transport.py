"""The arithmetic of a resolver's path: round trips, retransmit timeout, window (AIMD)."""

from __future__ import annotations

import pytest

from hostlocate.sources._dns_path import (
    DOWN_AFTER,
    DOWN_SECONDS,
    INITIAL_RTO,
    INITIAL_WINDOW,
    MAX_RTO,
    MAX_WINDOW,
    MIN_RTO,
    MIN_WINDOW,
    Path,
)


def test_the_timeout_before_any_round_trip_is_the_initial_one() -> None:
    assert Path().rto() == INITIAL_RTO


@pytest.mark.parametrize(
    ("rtts", "expected"),
    [
        ([0.001] * 20, MIN_RTO),  # loopback: never below the floor
        ([5.0] * 20, MAX_RTO),  # never above the ceiling
        ([0.2], 0.2 + 4 * 0.1),  # first sample: srtt = r, rttvar = r / 2 (RFC 6298)
    ],
    ids=["floor", "ceiling", "first-sample"],
)
def test_the_timeout_follows_the_round_trips(rtts: list[float], expected: float) -> None:
    path = Path()
    for rtt in rtts:
        path.answered(rtt)
    assert path.rto() == pytest.approx(expected)


def test_slow_start_then_one_per_window() -> None:
    path = Path()
    for _ in range(10):
        path.answered(0.03)
    assert path.window == INITIAL_WINDOW + 10  # slow start: one more per answer
    path.lost(sent_at=1.0, now=2.0)
    halved = (INITIAL_WINDOW + 10) / 2
    assert path.window == halved and path.ssthresh == halved
    path.answered(0.03)
    assert path.window == pytest.approx(halved + 1 / halved)  # congestion avoidance


def test_a_burst_of_losses_halves_the_window_once() -> None:
    """Queries sent before the halving were lost to the same overflow: one signal."""
    path = Path(window=256.0)
    path.lost(sent_at=1.0, now=2.0)
    for _ in range(50):
        path.lost(sent_at=1.5, now=2.1)
    assert path.window == 128.0
    path.lost(sent_at=2.05, now=2.5)  # sent after the halving: a new signal
    assert path.window == 64.0
    assert path.losses == 52


def test_the_window_stays_within_its_bounds() -> None:
    path = Path()
    for i in range(100):
        path.lost(sent_at=float(i), now=i + 0.5)
    assert path.window == MIN_WINDOW
    path = Path()
    for _ in range(10_000):
        path.answered(None)
    assert path.window == MAX_WINDOW


def test_many_losses_and_a_quiet_second_mean_down_and_one_answer_means_up() -> None:
    path = Path()
    for i in range(DOWN_AFTER * 2):
        path.lost(sent_at=float(i), now=0.01 * i)  # many losses, but within a moment
    assert not path.down
    path.answered(0.02)
    for i in range(DOWN_AFTER - 1):
        path.lost(sent_at=10.0, now=10.0 + 0.1 * i)
    assert not path.down
    path.lost(sent_at=10.0, now=10.0 + DOWN_SECONDS)
    assert path.down  # losses enough, and no answer for a second
    path.answered(None)
    assert not path.down
