"""The verdicts batch makes itself, for records the locator could not answer.

One small room so that these verdicts can later come from the one verdict
builder; until then they use the decision's status constants, not literals.
"""

from __future__ import annotations

from hostlocate import decide
from hostlocate.errors import ErrorCode
from hostlocate.models import ErrorInfo, Routing, Verdict

__all__ = ["MANUAL_REVIEW", "internal_verdict", "unreadable_verdict"]

MANUAL_REVIEW = "manual_review"
"""The escalation of a verdict a person has to look at (``routing.escalation``)."""


def internal_verdict(text: str, message: str) -> Verdict:
    """The verdict of a record the locator could not answer: unresolved, for manual review."""
    return Verdict(
        input=text,
        status=decide.UNRESOLVED,
        error=ErrorInfo(code=ErrorCode.INTERNAL.value, message=message),
        routing=Routing(escalation=MANUAL_REVIEW),
    )


def unreadable_verdict(text: str, problem: ErrorInfo) -> Verdict:
    """The verdict of an input record that could not be read: invalid, for the reason given."""
    return Verdict(input=text, status=decide.INVALID, error=problem, routing=Routing())
