"""The end-of-run summary of a batch: counts over the verdicts the output holds.

Its text for a person is made by the command line (``hostlocate.cli``).
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hostlocate.models import Verdict

__all__ = ["Summary"]

_LINES_KEPT = 100
"""Line numbers of input problems listed in the summary; the count is always whole."""


@dataclass
class Summary:
    """Counts over the verdicts written by this run.

    Verdicts are counted once they reach the output (:meth:`add_written`), so
    a run that stops on a full disk counts only what the file holds.
    """

    records: int = 0
    resumed_after: int = 0
    status: collections.Counter[str] = field(default_factory=collections.Counter)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    countries: collections.Counter[str] = field(default_factory=collections.Counter)
    unclosed_quotes: list[int] = field(default_factory=list)
    """Input lines whose CSV quote is never closed (each such row got an ``invalid`` verdict)."""
    stopped: str | None = None
    """Why the run stopped before the end of the input (the output could not be written)."""

    def add(self, verdict: Verdict) -> None:
        self.records += 1
        self.status[verdict.status] += 1
        error = verdict.error
        if error is not None:
            self.errors[error.code] += 1
        country = verdict.jurisdiction.country
        if country is not None:
            self.countries[country] += 1

    def add_written(self, verdicts: Iterable[Verdict]) -> None:
        """Count verdicts that the operating system now holds."""
        for verdict in verdicts:
            self.add(verdict)

    def to_dict(
        self,
        *,
        elapsed: float,
        locator_stats: dict[str, Any] | None = None,
        cache: dict[str, Any] | None = None,
        interrupted: bool = False,
    ) -> dict[str, Any]:
        """The summary as JSON-able data (the ``--summary-json`` file)."""
        return {
            "records": self.records,
            "resumed_after": self.resumed_after,
            "interrupted": interrupted,
            "stopped": self.stopped,
            "elapsed_s": round(elapsed, 3),
            "records_per_s": round(self.records / elapsed, 1) if elapsed > 0 else None,
            "status": dict(self.status.most_common()),
            "errors": dict(self.errors.most_common()),
            "countries": dict(self.countries.most_common()),
            "unclosed_quotes": len(self.unclosed_quotes),
            "unclosed_quote_lines": self.unclosed_quotes[:_LINES_KEPT],
            "locator": locator_stats or {},
            "cache": cache,
        }
