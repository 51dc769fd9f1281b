"""The output formats of a batch: JSON lines and CSV, and the buffer they fill.

JSON lines are written through :mod:`hostlocate.serialize`, the one wire
format seam, so a line of ``batch`` reads as ``locate --json`` does.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, BinaryIO

import msgspec

from hostlocate import serialize
from hostlocate.batch.failures import internal_verdict
from hostlocate.batch.records import Record
from hostlocate.models import SourceInfo, Verdict

__all__ = [
    "BATCH_SCHEMA",
    "CSV_VERDICT_COLUMNS",
    "PLAIN_URL_COLUMN",
    "BatchHeader",
    "CsvWriter",
    "JsonLinesWriter",
    "Sink",
    "emit",
    "header_line",
    "verdict_columns",
    "write_all",
]

BATCH_SCHEMA = "hostlocate.batch/1"
"""The ``schema`` of the header record, which tells it apart from a verdict."""
CSV_VERDICT_COLUMNS = (
    "line",
    "status",
    "error_code",
    "host",
    "registered_domain",
    "country",
    "confidence",
    "basis",
    "flags",
    "hotline",
    "next_step",
    "notice_emails",
    "addresses",
)
"""The verdict's columns in CSV output, after the input's; lists are joined with ``;``."""
PLAIN_URL_COLUMN = "url"
"""The name of the input column in CSV output made from a plain file."""


class BatchHeader(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The first line of JSON lines output: what every verdict of the run shares.

    The data sources (about 1.1 KB) are the same for every verdict of a run;
    written here once, they are left out of the verdicts that follow.
    """

    schema: str = BATCH_SCHEMA
    version: str
    """The hostlocate version that wrote the output."""
    sources: dict[str, SourceInfo]
    """``provenance.sources`` of every verdict whose own ``sources`` is empty."""


def _join(values: Iterable[str | None]) -> str:
    return ";".join(v for v in values if v)


def verdict_columns(verdict: Verdict) -> list[str]:
    """The verdict flattened to :data:`CSV_VERDICT_COLUMNS` (without ``line``)."""
    url = verdict.url
    j = verdict.jurisdiction
    r = verdict.routing
    return [
        verdict.status,
        verdict.error.code if verdict.error else "",
        url.host if url else "",
        (url.registered_domain or "") if url else "",
        j.country or "",
        j.confidence,
        j.basis,
        _join(j.flags),
        _join(h.name for h in r.hotlines),
        r.next_step or "",
        _join(dict.fromkeys(c.email for c in r.notice_contacts)),
        _join(a.ip for a in verdict.addresses),
    ]


class JsonLinesWriter:
    """One JSON object a line: the verdict with ``line`` (and ``record``, for CSV) in front.

    Every line is still a verdict (readers ignore the two added keys), so the
    output of ``batch`` and of ``locate --json`` read the same. With
    ``sources`` (the header's), a verdict whose data sources are those is
    written without them; one with other sources keeps its own.
    """

    def __init__(self, sources: Mapping[str, SourceInfo] | None = None) -> None:
        self.sources = sources

    def format_into(self, buffer: bytearray, record: Record, verdict: Verdict) -> None:
        """Append the record's line to ``buffer``.

        The verdict is encoded straight into the buffer, not into bytes of its
        own that are then copied twice (a line is a few kilobytes).
        """
        buffer += b'{"line":%d' % record.number
        if record.fields is not None:
            fields: dict[str, Any] = dict(record.fields)
            if record.extra:
                fields["_extra"] = list(record.extra)
            buffer += b',"record":' + json.dumps(fields, ensure_ascii=False).encode()
        start = len(buffer)
        serialize.to_json_into(self._shared_left_out(verdict), buffer, start)
        buffer[start] = 0x2C  # the verdict's opening brace becomes the comma after the head
        buffer += b"\n"

    def _shared_left_out(self, verdict: Verdict) -> Verdict:
        provenance = verdict.provenance
        shared = self.sources
        if shared is None or provenance is None or not provenance.sources:
            return verdict
        if provenance.sources is not shared and provenance.sources != shared:
            return verdict
        bare = msgspec.structs.replace(provenance, sources={})
        return msgspec.structs.replace(verdict, provenance=bare)

    def format(self, record: Record, verdict: Verdict) -> bytes:
        buffer = bytearray()
        self.format_into(buffer, record, verdict)
        return bytes(buffer)


def header_line(header: BatchHeader) -> bytes:
    """The header record as one line of JSON."""
    buffer = bytearray()
    serialize.to_json_into(header, buffer, 0)
    return bytes(buffer) + b"\n"


class CsvWriter:
    """The input's columns, then :data:`CSV_VERDICT_COLUMNS`; cells beyond the header are dropped.

    A verdict column whose name the input already uses is written as
    ``verdict_<name>``.
    """

    def __init__(self, input_columns: Sequence[str]) -> None:
        self.input_columns = list(input_columns)
        taken = set(self.input_columns)
        self.header = self.input_columns + [
            f"verdict_{c}" if c in taken else c for c in CSV_VERDICT_COLUMNS
        ]
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer)

    def _row(self, cells: Sequence[str]) -> bytes:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(cells)
        return self._buffer.getvalue().encode("utf-8", "replace")

    def header_bytes(self) -> bytes:
        return self._row(self.header)

    def format_into(self, buffer: bytearray, record: Record, verdict: Verdict) -> None:
        buffer += self.format(record, verdict)

    def format(self, record: Record, verdict: Verdict) -> bytes:
        if record.fields is None:
            inputs = [record.url]
        else:
            inputs = [record.fields.get(c, "") for c in self.input_columns]
        return self._row([*inputs, str(record.number), *verdict_columns(verdict)])


class Sink:
    """Verdicts to the operating system in batches, and at once whenever the locator pauses.

    A warm run makes a verdict every few microseconds, and a write per record
    would cost more than the verdict. Writers append to :attr:`buffer`; what is
    held is written when it reaches :attr:`SIZE`, after :attr:`EVERY` seconds,
    and as soon as the locator has had nothing for a moment (``flush`` is its
    ``on_wait``): a slow input still sees each verdict written promptly. A kill
    loses only what is not yet written, which ``--resume`` then does again.

    ``on_written`` is given the verdicts of each write that reached the
    operating system, so that a summary counts only what the output holds.
    """

    EVERY = 0.1
    """Longest time a verdict waits in memory while verdicts keep coming."""
    SIZE = 1 << 18

    def __init__(
        self, out: BinaryIO, on_written: Callable[[list[Verdict]], None] | None = None
    ) -> None:
        self._out = out
        self._on_written = on_written
        self.buffer = bytearray()
        self._held: list[Verdict] = []
        self._ends: list[int] = []
        self._last_flush = time.perf_counter()

    def added(self, verdict: Verdict) -> None:
        """The verdict's line is whole in :attr:`buffer`: write out what is held if it is time."""
        self._held.append(verdict)
        self._ends.append(len(self.buffer))
        if len(self.buffer) >= self.SIZE or time.perf_counter() - self._last_flush >= self.EVERY:
            self.flush()

    def flush(self) -> None:
        """Write out what is held; on a write error, report only the lines written whole."""
        if self.buffer:
            data, self.buffer = self.buffer, bytearray()
            held, self._held = self._held, []
            ends, self._ends = self._ends, []
            written = 0
            try:
                written = write_all(self._out, data)
            except OSError as exc:
                written = getattr(exc, "written", 0)
                raise
            finally:
                if self._on_written is not None:
                    self._on_written(held[: bisect.bisect_right(ends, written)])
        self._last_flush = time.perf_counter()


def write_all(out: BinaryIO, data: bytes | bytearray) -> int:
    """Bytes to the operating system now: a kill after this loses none of them.

    Returns how many were written. When writing fails, the bytes the
    operating system took are in ``OSError.written`` of the error raised
    (none, if the stream's own buffer could not be flushed).
    """
    view = memoryview(data)
    done = 0
    try:
        while done < len(data):
            written = out.write(view[done:])
            if written is None:  # a non-blocking stream that is full; not ours to handle
                raise OSError("output would block")
            done += written
        out.flush()
    except OSError as exc:
        exc.written = done if getattr(out, "raw", None) is None else 0  # type: ignore[attr-defined]
        raise
    return done


def emit(
    out: Sink, writer: JsonLinesWriter | CsvWriter, record: Record, verdict: Verdict
) -> Verdict:
    """Append the record's line to ``out``; returns the verdict written.

    A verdict that cannot be encoded (text no UTF-8 can hold) is replaced by an
    ``internal`` one for the cleaned record: the record is never lost, and no
    torn line is left in the buffer.
    """
    buffer = out.buffer
    start = len(buffer)
    try:
        writer.format_into(buffer, record, verdict)
    except (ValueError, TypeError, msgspec.MsgspecError) as exc:
        del buffer[start:]
        record = _clean(record)
        verdict = internal_verdict(record.url, f"the verdict could not be written: {exc!r}")
        writer.format_into(buffer, record, verdict)
    out.added(verdict)
    return verdict


def _clean(record: Record) -> Record:
    """The record with text that cannot be UTF-8 (lone surrogates) replaced."""

    def clean(text: str) -> str:
        return text.encode("utf-8", "replace").decode("utf-8")

    fields = None
    if record.fields is not None:
        fields = {clean(k): clean(v) for k, v in record.fields.items()}
    return Record(record.number, clean(record.url), fields, tuple(clean(x) for x in record.extra))
