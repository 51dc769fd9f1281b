"""Where an interrupted batch output stops being whole, and how to continue it.

``--resume`` counts the complete records of the output, cuts a torn last one,
checks that the last kept record answers the matching input record, and skips
that many input records.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import msgspec

from hostlocate.batch.formats import BATCH_SCHEMA, CSV_VERDICT_COLUMNS, BatchHeader
from hostlocate.batch.records import Record
from hostlocate.errors import UsageError
from hostlocate.models import SourceInfo

__all__ = ["ResumePoint", "csv_resume_point", "jsonl_resume_point", "skip_answered"]

_CHUNK = 1 << 20
_HEADER_LINE_MAX = 1 << 20
"""The header record is a few kilobytes; a longer first line is no header."""


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where an interrupted output stops being whole."""

    records: int
    """Complete records in the output (a header not counted)."""
    size: int
    """Bytes to keep; anything after is a torn record."""
    last_line: int | None = None
    """The ``line`` number the last complete record says it answers."""
    last_input: str | None = None
    """The input text of the last complete record."""
    header: list[str] | None = None
    """The CSV header found, if any."""
    sources: dict[str, SourceInfo] | None = None
    """The data sources of the JSON lines header record, if the output has one."""


def jsonl_resume_point(f: BinaryIO) -> ResumePoint:
    """Count the complete lines of a JSON lines output; a last line without newline is torn.

    A first line that is a header record (``schema`` ``hostlocate.batch/1``)
    is not a record; its data sources are returned, for the lines to come.
    """
    f.seek(0)
    records = 0
    last_end = 0
    previous_end = 0
    offset = 0
    while chunk := f.read(_CHUNK):
        newlines = chunk.count(b"\n")
        if newlines:
            records += newlines
            last = chunk.rfind(b"\n")
            previous_end = offset + chunk.rfind(b"\n", 0, last) + 1 if newlines > 1 else last_end
            last_end = offset + last + 1
        offset += len(chunk)
    if not records:
        return ResumePoint(0, 0)
    f.seek(0)
    header = _header(f.readline(_HEADER_LINE_MAX))
    sources = header.sources if header is not None else None
    if header is not None:
        records -= 1
        if not records:
            return ResumePoint(0, last_end, sources=sources)
    f.seek(previous_end)
    tail = f.read(last_end - previous_end)
    try:
        obj = json.loads(tail)
        line = obj["line"]
        text = obj["input"]
        if not isinstance(line, int) or not isinstance(text, str):
            raise TypeError("line or input of the wrong type")
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(
            f"the last complete record of the output is not a batch verdict ({exc})"
        ) from exc
    return ResumePoint(records, last_end, line, text, sources=sources)


def _header(line: bytes) -> BatchHeader | None:
    """The header record, if ``line`` is one."""
    if BATCH_SCHEMA.encode() not in line:
        return None
    try:
        header = msgspec.json.decode(line, type=BatchHeader)
    except msgspec.MsgspecError as exc:
        raise UsageError(f"the output's header record cannot be read ({exc})") from exc
    return header if header.schema == BATCH_SCHEMA else None


def csv_resume_point(f: BinaryIO, header: Sequence[str], url_index: int) -> ResumePoint:
    """Count the complete rows of a CSV output written with ``header``.

    ``url_index`` is the column holding each record's URL, for the caller's
    check that the output answers its input.

    A row is complete when it has every column and ends with a line break; the
    verdict columns hold no line breaks, so a torn row always fails one test.
    """
    f.seek(0)
    end = 0

    def lines() -> Iterator[str]:
        nonlocal end
        for raw in f:
            end += len(raw)
            yield raw.decode("utf-8", "replace")

    reader = csv.reader(lines(), strict=True)
    kept = 0
    records = -1
    last: list[str] | None = None
    width = len(header)
    ends_line = True
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            break  # a quote left open at the end: torn
        f.seek(end - 1)
        ends_line = f.read(1) == b"\n"
        f.seek(end)
        if not ends_line:
            break
        if records < 0:
            if row != list(header):
                raise UsageError(
                    "the output's CSV header differs from this run's: "
                    "not the output of this command with these options"
                )
        elif len(row) != width:
            break
        else:
            last = row
        records += 1
        kept = end
    if records < 0:
        return ResumePoint(0, 0)
    if last is None:
        return ResumePoint(0, kept, header=list(header))
    line_index = width - len(CSV_VERDICT_COLUMNS)
    try:
        line = int(last[line_index])
    except ValueError as exc:
        raise UsageError("the last complete record of the output has no line number") from exc
    return ResumePoint(records, kept, line, last[url_index], header=list(header))


def skip_answered(records: Iterator[Record], point: ResumePoint) -> Iterator[Record]:
    """Skip the records the output already answers, checking that the last one matches."""
    last: Record | None = None
    for _ in range(point.records):
        last = next(records, None)
        if last is None:
            raise UsageError(
                f"the output holds {point.records:,} records but the input has fewer: "
                "not the output of this input"
            )
    if last is not None and (point.last_line != last.number or point.last_input != last.url):
        raise UsageError(
            f"the output's record {point.records:,} is line {point.last_line} answering "
            f"{point.last_input!r}, but input record {last.number:,} is {last.url!r}: "
            "not the output of this input"
        )
    return records
