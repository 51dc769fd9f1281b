"""The records of a batch input: lines of a plain file, or rows of a CSV file.

Every record is kept: an unreadable CSV row still becomes a record (with the
reason it could not be read), so the output answers every input record.
"""

from __future__ import annotations

import collections
import csv
import io
import os
import sys
from collections.abc import Callable, Iterator
from typing import IO, Any, TextIO

import msgspec

from hostlocate.errors import ErrorCode, UsageError
from hostlocate.models import ErrorInfo

__all__ = [
    "MAX_LINE_CHARS",
    "CsvInput",
    "Record",
    "count_records",
    "open_text",
    "read_lines",
]

MAX_LINE_CHARS = 65_536
"""A longer line is cut here (the rest of it skipped); the parser refuses it as ``too_long``."""
_CHUNK = 1 << 20


class Record(msgspec.Struct, frozen=True, gc=False):
    """One input record: its 1-based number, the URL text, and its CSV row if any.

    A Struct, not a dataclass: one is made per record, and it is 8x cheaper.
    """

    number: int
    url: str
    fields: dict[str, str] | None = None
    """Every column of a CSV row by header name (missing trailing cells as "")."""
    extra: tuple[str, ...] = ()
    """Cells beyond the header (kept in JSON lines output only)."""
    problem: ErrorInfo | None = None
    """Why the row could not be read; such a record gets an ``invalid`` verdict."""


def read_lines(stream: TextIO, *, max_chars: int = MAX_LINE_CHARS) -> Iterator[Record]:
    """One record per line, blank lines included; an over-long line is cut at ``max_chars``."""
    number = 0
    while True:
        line = stream.readline(max_chars)
        if not line:
            return
        number += 1
        if line.endswith("\n"):
            line = line[:-1]
        elif len(line) >= max_chars:
            while True:  # skip the rest of the over-long line without holding it
                rest = stream.readline(max_chars)
                if not rest or rest.endswith("\n"):
                    break
        if line.endswith("\r"):
            line = line[:-1]
        yield Record(number, line)


class _Lines:
    """The physical lines of a CSV stream, with their numbers and a way to give lines back.

    The csv module reads a line only when the record needs it, so the lines
    taken since the last :meth:`take` are exactly those of the last row.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._back: collections.deque[tuple[int, str]] = collections.deque()
        self._taken: list[tuple[int, str]] = []
        self._number = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._back:
            item = self._back.popleft()
        else:
            line = self._stream.readline()
            if not line:
                raise StopIteration
            self._number += 1
            item = (self._number, line)
        self._taken.append(item)
        return item[1]

    def take(self) -> list[tuple[int, str]]:
        """The lines read since the last call, with their numbers."""
        taken, self._taken = self._taken, []
        return taken

    def give_back(self, lines: list[tuple[int, str]]) -> None:
        """Lines to be read again, before any other."""
        self._back.extendleft(reversed(lines))


class CsvInput:
    """The rows of a CSV file with a header, the URL taken from one column.

    The header is read on construction, so a missing column is reported before
    any work starts.

    A quote that opens a cell and is never closed makes the csv module read
    every following line into that cell, silently. A row is taken for such a
    quote when it spans several lines and its URL cell holds a line break, or
    the file ends inside the quote, or one of the swallowed lines is a whole
    row of its own (as many cells as the header). Then that row alone becomes
    an ``invalid`` record, ``warn`` is told its line number, and the lines
    after it are read again as rows: no record is lost.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        column: str = "url",
        delimiter: str = ",",
        warn: Callable[[int, str], None] | None = None,
    ) -> None:
        self._lines = _Lines(stream)
        self._delimiter = delimiter
        self._warn = warn
        self._reader = csv.reader(self._lines, delimiter=delimiter)
        self.broken_lines: list[int] = []
        """The line numbers of rows left unread for a quote never closed."""
        try:
            self.header: list[str] = next(self._reader)
        except StopIteration:
            self.header = []
            self._index = -1
            return
        except csv.Error as exc:
            raise UsageError(f"the CSV header cannot be read: {exc}") from exc
        self._lines.take()
        if column not in self.header:
            shown = ", ".join(repr(c) for c in self.header) or "none"
            raise UsageError(f"the CSV input has no column {column!r} (columns: {shown})")
        if len(set(self.header)) != len(self.header):
            raise UsageError("the CSV header names a column twice")
        self._index = self.header.index(column)

    def __iter__(self) -> Iterator[Record]:
        if not self.header:
            return
        number = 0
        while True:
            try:
                row = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                self._lines.take()
                number += 1
                code = ErrorCode.TOO_LONG if "larger than field limit" in str(exc) else None
                problem = ErrorInfo(
                    code=(code or ErrorCode.BAD_URL).value,
                    message=f"the CSV record could not be read: {exc}",
                )
                yield Record(number, "", dict.fromkeys(self.header, ""), problem=problem)
                continue
            number += 1
            lines = self._lines.take()
            if len(lines) > 1 and self._unclosed_quote(row, lines):
                yield self._broken(number, lines)
                continue
            yield self._record(number, row)

    def _record(self, number: int, row: list[str], problem: ErrorInfo | None = None) -> Record:
        width = len(self.header)
        cells = row[:width] + [""] * (width - len(row))
        return Record(
            number,
            cells[self._index],
            dict(zip(self.header, cells, strict=True)),
            tuple(row[width:]),
            problem,
        )

    def _unclosed_quote(self, row: list[str], lines: list[tuple[int, str]]) -> bool:
        url = row[self._index] if self._index < len(row) else ""
        if "\n" in url or "\r" in url:
            return True
        text = "".join(line for _, line in lines)
        try:
            list(csv.reader(io.StringIO(text, newline=""), delimiter=self._delimiter, strict=True))
        except csv.Error:
            return True  # the input ended inside the quote
        width = len(self.header)
        return width > 1 and any(len(self._cells(line)) == width for _, line in lines[1:])

    def _cells(self, line: str) -> list[str]:
        bare = line.rstrip("\r\n")
        return next(csv.reader([bare], delimiter=self._delimiter, quoting=csv.QUOTE_NONE), [])

    def _broken(self, number: int, lines: list[tuple[int, str]]) -> Record:
        line_number, first = lines[0]
        self._lines.give_back(lines[1:])
        self.broken_lines.append(line_number)
        message = (
            f"line {line_number}: a quote opened in this row is never closed; "
            "the row is left unread and the lines after it are read as rows"
        )
        if self._warn is not None:
            self._warn(line_number, message)
        problem = ErrorInfo(code=ErrorCode.BAD_URL.value, message=message)
        return self._record(number, self._cells(first), problem)


def open_text(path: str, *, csv_mode: bool, stdin: IO[Any] | None = None) -> TextIO:
    """The input as text: UTF-8 with an optional BOM, undecodable bytes replaced."""
    newline = "" if csv_mode else None
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):  # not a file (tests)
            fd = -1
        if fd >= 0:
            # Unbuffered bytes under the text: a thread still blocked reading a
            # terminal when Ctrl-C ends the run then holds no lock that Python
            # must take at exit (it would abort: "could not acquire lock").
            raw = io.FileIO(os.dup(fd), "rb")
            return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline=newline)
        buffer = getattr(stream, "buffer", None)
        if buffer is None:  # already text (a StringIO in tests)
            return stream  # type: ignore[return-value]
        return _BorrowedText(buffer, encoding="utf-8-sig", errors="replace", newline=newline)
    return open(path, encoding="utf-8-sig", errors="replace", newline=newline)


class _BorrowedText(io.TextIOWrapper):
    """A text view of stdin that leaves stdin open when it is closed."""

    def close(self) -> None:
        if not self.closed:
            self.detach()


def count_records(path: str, *, csv_mode: bool) -> int | None:
    """Records in a regular file, for the progress bar (lines; CSV: lines less the header)."""
    if path == "-":
        return None
    try:
        with open(path, "rb") as f:
            lines = 0
            last = b"\n"
            while chunk := f.read(_CHUNK):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
    except OSError:
        return None
    if last != b"\n":
        lines += 1
    return max(lines - 1, 0) if csv_mode else lines
