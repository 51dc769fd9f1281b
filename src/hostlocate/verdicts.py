"""The one place verdicts are built: a decision plus what is particular to a record.

Located, special, invalid and failed records, the locator's and the batch
command's alike, all become a :class:`~hostlocate.models.Verdict` here, so the
statuses, error codes and provenance are written once.
"""

from __future__ import annotations

import time

from hostlocate import decide
from hostlocate.errors import DataError, ErrorCode, InvalidURLError
from hostlocate.models import DNSResult, Provenance, ReportedURL, SourceInfo, Verdict

__all__ = ["VerdictBuilder", "bare", "failure_decision", "utc_stamp"]


class VerdictBuilder:
    """Verdicts of one locator: its version, resolvers and data sources go into each."""

    __slots__ = ("_rdap", "_resolvers", "_sources", "_version")

    def __init__(
        self,
        *,
        version: str,
        sources: dict[str, SourceInfo],
        resolvers: tuple[str, ...] = (),
        rdap: bool = True,
    ) -> None:
        self._version = version
        self._sources = sources
        self._resolvers = resolvers
        self._rdap = rdap

    def build(
        self,
        text: str,
        decision: decide.Decision,
        *,
        started: float,
        url: ReportedURL | None = None,
        dns: DNSResult | None = None,
    ) -> Verdict:
        """The verdict of one record; ``started`` is its ``time.perf_counter()`` start."""
        return Verdict(
            input=text,
            status=decision.status,
            error=decision.error,
            url=url,
            dns=dns,
            addresses=decision.addresses,
            cname_providers=decision.cname_providers,
            origin=decision.origin,
            platform=decision.platform,
            jurisdiction=decision.jurisdiction,
            routing=decision.routing,
            provenance=Provenance(
                version=self._version,
                resolved_at=utc_stamp(),
                elapsed_ms=round((time.perf_counter() - started) * 1000, 3),
                resolvers=self._resolvers if dns is not None else (),
                rdap=self._rdap,
                sources=self._sources,
            ),
        )

    def failed(self, text: str, exc: Exception, started: float) -> Verdict:
        """The verdict of a record whose look-up ended in an exception."""
        return self.build(text, failure_decision(exc), started=started)


def bare(text: str, decision: decide.Decision) -> Verdict:
    """A verdict no locator made (a batch's own failed record): no provenance."""
    return Verdict(
        input=text,
        status=decision.status,
        error=decision.error,
        jurisdiction=decision.jurisdiction,
        routing=decision.routing,
    )


def failure_decision(exc: Exception) -> decide.Decision:
    """Bad input is ``invalid``; a damaged data file or a bug is ``unresolved``."""
    if isinstance(exc, InvalidURLError):
        return decide.failure(decide.INVALID, exc.code.value, exc.message)
    if isinstance(exc, DataError):
        return decide.failure(decide.UNRESOLVED, ErrorCode.DATA.value, exc.message)
    return decide.failure(decide.UNRESOLVED, ErrorCode.INTERNAL.value, f"internal error: {exc!r}")


_stamp_cache: tuple[int, str] = (-1, "")


def utc_stamp() -> str:
    """Now in UTC, ISO 8601 to the millisecond; formatted once per millisecond."""
    global _stamp_cache
    now_ms = time.time_ns() // 1_000_000
    cached_ms, text = _stamp_cache
    if now_ms != cached_ms:
        seconds, millis = divmod(now_ms, 1000)
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"
        _stamp_cache = (now_ms, text)
    return text
