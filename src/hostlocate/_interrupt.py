"""Ctrl-C while verdicts stream: what ``hostlocate locate`` and ``batch`` share.

Kept apart from :mod:`hostlocate.batch` so that ``locate`` does not import the
batch package (its readers, writers, locks) to get these two names.
"""

from __future__ import annotations

import contextlib
import signal
import types
from collections.abc import Iterator

__all__ = ["Interrupted", "ctrl_c_stops_reading"]


class Interrupted(GeneratorExit):
    """Ctrl-C while verdicts stream, raised by :func:`ctrl_c_stops_reading`'s handler.

    A kind of ``GeneratorExit``: to the locator's stream it is a caller that
    stops reading, which it does not make wait for an input blocked in a read
    (a terminal or an idle pipe), as it would for a ``KeyboardInterrupt``.
    """


@contextlib.contextmanager
def ctrl_c_stops_reading() -> Iterator[None]:
    """Within this block, Ctrl-C (SIGINT) raises :class:`Interrupted` (main thread only).

    The block must catch it: outside, Ctrl-C is a ``KeyboardInterrupt`` again.
    """

    def interrupted(signum: int, frame: types.FrameType | None) -> None:
        raise Interrupted

    try:
        previous = signal.signal(signal.SIGINT, interrupted)
    except ValueError:  # not the main thread: signals are not ours to take
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
