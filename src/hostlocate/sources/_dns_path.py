"""What the UDP transport learns about one resolver: round-trip times, the window.

Kept apart from the sockets because it is pure arithmetic on times (RFC 6298's
retransmit timeout, AIMD with a once-per-round-trip halving, Eifel's undo of a
spurious halving, and a "down" state for a silent resolver), so it can be
reasoned about and tested without a socket or an event loop.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DOWN_AFTER",
    "DOWN_SECONDS",
    "INITIAL_RTO",
    "INITIAL_WINDOW",
    "MAX_RTO",
    "MAX_WINDOW",
    "MIN_RTO",
    "MIN_WINDOW",
    "Path",
]

INITIAL_WINDOW = 64.0
"""Queries in flight per resolver at first; slow start grows it from there."""
MIN_WINDOW = 4.0
MAX_WINDOW = 512.0
"""Beyond this a resolver gains nothing and a loopback one starts dropping."""
INITIAL_RTO = 0.6
"""Retransmit timeout before any round trip has been measured (seconds)."""
MIN_RTO = 0.5
"""A recursive resolver may spend this long on a cold name: no retransmit sooner."""
QUEUE_FACTOR = 3.0
QUEUE_SLACK = 0.05
"""A round trip over QUEUE_FACTOR times the shortest seen plus QUEUE_SLACK means
a queue is building at the resolver: the window stops growing before anything
is lost. The slack leaves room for the client's own event loop, which delays
answers too when it is busy."""
MAX_RTO = 1.8
DOWN_AFTER = 16
DOWN_SECONDS = 1.0
"""A resolver is down after this many losses and this long without any answer."""


@dataclass(slots=True)
class Path:
    """What has been learnt about one resolver: round-trip times and the window.

    Kept by the client for its whole life, across pools and event loops.
    """

    window: float = INITIAL_WINDOW
    ssthresh: float = MAX_WINDOW
    srtt: float | None = None
    rttvar: float = 0.0
    min_rtt: float = float("inf")
    last_decrease: float = float("-inf")
    losses: int = 0
    """Retransmit timeouts so far (a loss signal each)."""
    spurious: int = 0
    """Of those, the ones whose first copy was answered after all (see :meth:`undo`)."""
    before_decrease: tuple[float, float] | None = None
    lost_in_a_row: int = 0
    """Losses since the last answer."""
    quiet_since: float = 0.0
    """When the first of those losses was seen."""
    down: bool = False
    """No answer for a while despite many queries, or the port is closed.

    The window then no longer applies (it protects a live resolver): a dead
    resolver would otherwise hold every query in the queue until its deadline;
    this way each query waits its own timeout, then goes on to the next
    resolver, as without a window. The next answer ends it.
    """

    def rto(self) -> float:
        """The retransmit timeout (RFC 6298's formula, clamped for recursive resolvers)."""
        if self.srtt is None:
            return INITIAL_RTO
        return min(MAX_RTO, max(MIN_RTO, self.srtt + 4 * self.rttvar))

    def answered(self, rtt: float | None) -> None:
        """An answer came: widen the window, unless its round trip shows a queue.

        ``rtt`` is None when it is ambiguous (the query was sent more than once).
        """
        self.lost_in_a_row = 0
        self.down = False
        if rtt is not None:
            if self.srtt is None:
                self.srtt, self.rttvar = rtt, rtt / 2
            else:
                self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
                self.srtt = 0.875 * self.srtt + 0.125 * rtt
            self.min_rtt = min(self.min_rtt, rtt)
            if rtt > QUEUE_FACTOR * self.min_rtt + QUEUE_SLACK:
                return  # queueing, not capacity: hold the window
        if self.window < self.ssthresh:
            self.window = min(self.window + 1.0, MAX_WINDOW)  # slow start
        else:
            self.window = min(self.window + 1.0 / self.window, MAX_WINDOW)

    def lost(self, sent_at: float, now: float) -> None:
        """A query went unanswered for a retransmit timeout: halve, once per round trip.

        Only a query sent after the last halving counts, so one burst of losses
        is one signal, as in TCP's fast recovery.
        """
        self.losses += 1
        if self.lost_in_a_row == 0:
            self.quiet_since = now
        self.lost_in_a_row += 1
        if self.lost_in_a_row >= DOWN_AFTER and now - self.quiet_since >= DOWN_SECONDS:
            self.down = True
        if sent_at <= self.last_decrease:
            return
        self.before_decrease = (self.window, self.ssthresh)
        self.window = max(MIN_WINDOW, self.window / 2)
        self.ssthresh = self.window
        self.last_decrease = now

    def undo(self) -> None:
        """A query thought lost was answered under the ID of an earlier copy.

        So that copy was only late (a busy event loop, a slow recursion), not
        lost: give back the halving it caused, as TCP's Eifel detection does.
        """
        self.spurious += 1
        if self.before_decrease is not None:
            window, ssthresh = self.before_decrease
            self.window = max(self.window, window)
            self.ssthresh = max(self.ssthresh, ssthresh)
            self.before_decrease = None
