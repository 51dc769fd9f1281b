"""The end-of-run summary of a batch: counts over the verdicts the output holds."""

from __future__ import annotations

import collections
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hostlocate.models import Verdict

__all__ = ["Summary", "render_summary"]

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


def render_summary(data: dict[str, Any], *, top: int = 12) -> str:
    """The summary as a few lines for stderr."""
    rate = data.get("records_per_s")
    n = data["records"]
    head = f"hostlocate batch: {n:,} record{'' if n == 1 else 's'} in {data['elapsed_s']:.1f} s"
    if rate is not None:
        head += f" ({rate:,.0f}/s)"
    if data.get("resumed_after"):
        head += f", resumed after {data['resumed_after']:,}"
    if data.get("interrupted"):
        head += ", INTERRUPTED (continue with --resume)"
    if data.get("stopped"):
        head += f", STOPPED: {data['stopped']} (continue with --resume)"
    lines = [head]

    def counts(label: str, values: dict[str, int]) -> None:
        if not values:
            return
        items = list(values.items())
        shown = ", ".join(f"{k} {v:,}" for k, v in items[:top])
        if len(items) > top:
            shown += f", +{len(items) - top} more"
        lines.append(f"  {label:<10} {shown}")

    counts("status", data.get("status", {}))
    counts("errors", data.get("errors", {}))
    counts("countries", data.get("countries", {}))
    quotes = data.get("unclosed_quotes")
    if quotes:
        shown = ", ".join(str(n) for n in data.get("unclosed_quote_lines", [])[:top])
        lines.append(
            f"  {'input':<10} {quotes:,} CSV row(s) with a quote never closed: line {shown}"
        )
    cache = data.get("cache")
    if cache:
        lines.append(
            f"  {'cache':<10} {cache.get('path')}: hit rate {cache.get('hit_rate', 0):.1%} "
            f"of {cache.get('hits', 0) + cache.get('misses', 0):,} look-ups, "
            f"{cache.get('entries', 0):,} entries"
        )
    for key, value in sorted(_flatten(data.get("locator", {})).items()):
        lines.append(f"  {key:<10} {value}")
    return "\n".join(lines) + "\n"


def _flatten(stats: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested statistics as ``a.b: value`` lines, a hit rate shown as a percentage."""
    out: dict[str, str] = {}
    for key, value in stats.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and "hit_rate" in value:
            total = value.get("hits", 0) + value.get("misses", 0)
            out[name] = f"hit rate {value['hit_rate']:.1%} of {total:,}"
        elif isinstance(value, dict):
            if value and all(not isinstance(v, dict) for v in value.values()):
                out[name] = ", ".join(f"{k} {v}" for k, v in value.items())
            elif value:
                out.update(_flatten(value, name + "."))
        elif value is not None:
            out[name] = str(value)
    return out
