"""The verdicts batch makes itself, for records the locator could not answer.

They come from the one verdict builder (:mod:`hostlocate.verdicts`) and the
decision's failure rule, like the locator's own failed records; they carry no
provenance, since no locator made them.
"""

from __future__ import annotations

from hostlocate import decide, verdicts
from hostlocate.errors import ErrorCode
from hostlocate.models import ErrorInfo, Verdict

__all__ = ["internal_verdict", "unreadable_verdict"]


def internal_verdict(text: str, message: str) -> Verdict:
    """The verdict of a record the locator could not answer: unresolved, for manual review."""
    return verdicts.bare(text, decide.failure(decide.UNRESOLVED, ErrorCode.INTERNAL.value, message))


def unreadable_verdict(text: str, problem: ErrorInfo) -> Verdict:
    """The verdict of an input record that could not be read: invalid, for the reason given."""
    return verdicts.bare(text, decide.failure(decide.INVALID, problem.code, problem.message))
