"""``hostlocate batch``: a file of reported URLs in, one verdict per record out.

The exchange path. Its promises, and how they are kept:

- **One output record per input record, in input order.** A record is a line
  of a plain file (blank lines included) or a row of a CSV file. Bytes that
  are not UTF-8 are replaced by U+FFFD; a line longer than
  :data:`MAX_LINE_CHARS` is cut there. An unreadable CSV row still gets a
  verdict (``invalid``). A failure of the locator is answered record by record.
- **Bounded memory.** Input is streamed; at most ``concurrency`` records are
  in flight.
- **Nothing lost on a kill.** Each output record is handed to the operating
  system in one write as soon as it is made, so a killed run loses only the
  records in flight. ``--resume`` counts the complete records of the output,
  cuts a torn last one, checks that the last kept record is the matching input
  record, skips that many input records and appends the rest.

The pure parts (reading records, formatting, finding where to resume, the
summary) are separate functions so that they can be tested without a locator.
"""

from __future__ import annotations

import argparse
import collections
import csv
import datetime as _dt
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, TextIO

import msgspec

from hostlocate.errors import ConfigError, DataError, ErrorCode
from hostlocate.models import ErrorInfo, Routing, Verdict

if TYPE_CHECKING:
    from hostlocate.locator import Locator
    from hostlocate.redis_store import RedisStore
    from hostlocate.store import SqliteStore

__all__ = [
    "CSV_VERDICT_COLUMNS",
    "MAX_LINE_CHARS",
    "CsvInput",
    "CsvWriter",
    "JsonLinesWriter",
    "Record",
    "ResumePoint",
    "Summary",
    "UsageError",
    "add_arguments",
    "csv_resume_point",
    "jsonl_resume_point",
    "read_lines",
    "run",
    "verdict_columns",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

DEFAULT_CONCURRENCY = 64
MAX_LINE_CHARS = 65_536
"""A longer line is cut here (the rest of it skipped); the parser refuses it as ``too_long``."""
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
    "escalation",
    "notice_emails",
    "addresses",
)
"""The verdict's columns in CSV output, after the input's; lists are joined with ``;``."""
PLAIN_URL_COLUMN = "url"
"""The name of the input column in CSV output made from a plain file."""
_CHUNK = 1 << 20


class UsageError(ValueError):
    """The options, input or output do not allow the run (exit status 2)."""


class InputError(Exception):
    """Reading the input failed midway (exit status 1; the output so far can be resumed)."""


# -- input ------------------------------------------------------------------------------------


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


class CsvInput:
    """The rows of a CSV file with a header, the URL taken from one column.

    The header is read on construction, so a missing column is reported before
    any work starts.
    """

    def __init__(self, stream: TextIO, *, column: str = "url", delimiter: str = ",") -> None:
        self._reader = csv.reader(stream, delimiter=delimiter)
        try:
            self.header: list[str] = next(self._reader)
        except StopIteration:
            self.header = []
            self._index = -1
            return
        except csv.Error as exc:
            raise UsageError(f"the CSV header cannot be read: {exc}") from exc
        if column not in self.header:
            shown = ", ".join(repr(c) for c in self.header) or "none"
            raise UsageError(f"the CSV input has no column {column!r} (columns: {shown})")
        if len(set(self.header)) != len(self.header):
            raise UsageError("the CSV header names a column twice")
        self._index = self.header.index(column)

    def __iter__(self) -> Iterator[Record]:
        if not self.header:
            return
        width = len(self.header)
        number = 0
        while True:
            try:
                row = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                number += 1
                code = ErrorCode.TOO_LONG if "larger than field limit" in str(exc) else None
                problem = ErrorInfo(
                    code=(code or ErrorCode.BAD_URL).value,
                    message=f"the CSV record could not be read: {exc}",
                )
                yield Record(number, "", dict.fromkeys(self.header, ""), problem=problem)
                continue
            number += 1
            cells = row[:width] + [""] * (width - len(row))
            yield Record(
                number,
                cells[self._index],
                dict(zip(self.header, cells, strict=True)),
                tuple(row[width:]),
            )


def open_text(path: str, *, csv_mode: bool, stdin: IO[Any] | None = None) -> TextIO:
    """The input as text: UTF-8 with an optional BOM, undecodable bytes replaced."""
    newline = "" if csv_mode else None
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin
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


# -- output -----------------------------------------------------------------------------------


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
        r.escalation or "",
        _join(dict.fromkeys(c.email for c in r.notice_contacts)),
        _join(a.ip for a in verdict.addresses),
    ]


class JsonLinesWriter:
    """One JSON object a line: the verdict with ``line`` (and ``record``, for CSV) in front.

    Every line is still a verdict (readers ignore the two added keys), so the
    output of ``batch`` and of ``locate --json`` read the same.
    """

    def __init__(self) -> None:
        self._into = msgspec.json.Encoder().encode_into

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
        self._into(verdict, buffer, start)
        buffer[start] = 0x2C  # the verdict's opening brace becomes the comma after the head
        buffer += b"\n"

    def format(self, record: Record, verdict: Verdict) -> bytes:
        buffer = bytearray()
        self.format_into(buffer, record, verdict)
        return bytes(buffer)


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


class _Sink:
    """Verdicts to the operating system in batches, and at once whenever the locator pauses.

    A warm run makes a verdict every few microseconds, and a write per record
    would cost more than the verdict. Writers append to :attr:`buffer`; what is
    held is written when it reaches :attr:`SIZE`, after :attr:`EVERY` seconds,
    and as soon as the locator has had nothing for a moment (``flush`` is its
    ``on_wait``): a slow input still sees each verdict written promptly. A kill
    loses only what is not yet written, which ``--resume`` then does again.
    """

    EVERY = 0.1
    """Longest time a verdict waits in memory while verdicts keep coming."""
    SIZE = 1 << 18

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self.buffer = bytearray()
        self._last_flush = time.perf_counter()

    def added(self) -> None:
        """What was appended to :attr:`buffer` is complete: write it out if it is time."""
        if len(self.buffer) >= self.SIZE or time.perf_counter() - self._last_flush >= self.EVERY:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            data, self.buffer = self.buffer, bytearray()
            _write_all(self._out, data)
        self._last_flush = time.perf_counter()


def _write_all(out: BinaryIO, data: bytes | bytearray) -> None:
    """Bytes to the operating system now: a kill after this loses none of them."""
    view = memoryview(data)
    while view:
        written = out.write(view)
        if written is None:  # a non-blocking stream that is full; not ours to handle
            raise OSError("output would block")
        view = view[written:]
    out.flush()


# -- resume -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where an interrupted output stops being whole."""

    records: int
    """Complete records in the output (the header not counted)."""
    size: int
    """Bytes to keep; anything after is a torn record."""
    last_line: int | None = None
    """The ``line`` number the last complete record says it answers."""
    last_input: str | None = None
    """The input text of the last complete record."""
    header: list[str] | None = None
    """The CSV header found, if any."""


def jsonl_resume_point(f: BinaryIO) -> ResumePoint:
    """Count the complete lines of a JSON lines output; a last line without newline is torn."""
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
    return ResumePoint(records, last_end, line, text)


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


# -- summary ----------------------------------------------------------------------------------


@dataclass
class Summary:
    """Counts over the verdicts written by this run."""

    records: int = 0
    resumed_after: int = 0
    status: collections.Counter[str] = field(default_factory=collections.Counter)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    countries: collections.Counter[str] = field(default_factory=collections.Counter)

    def add(self, verdict: Verdict) -> None:
        self.records += 1
        self.status[verdict.status] += 1
        error = verdict.error
        if error is not None:
            self.errors[error.code] += 1
        country = verdict.jurisdiction.country
        if country is not None:
            self.countries[country] += 1

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
            "elapsed_s": round(elapsed, 3),
            "records_per_s": round(self.records / elapsed, 1) if elapsed > 0 else None,
            "status": dict(self.status.most_common()),
            "errors": dict(self.errors.most_common()),
            "countries": dict(self.countries.most_common()),
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
    cache = data.get("cache")
    if cache:
        lines.append(
            f"  {'cache':<10} {cache.get('path')}: hit rate {cache.get('hit_rate', 0):.1%} "
            f"of {cache.get('hits', 0) + cache.get('misses', 0):,} look-ups, "
            f"{cache.get('entries', 0):,} entries"
        )
        if cache.get("redis_lost"):
            lines.append(
                f"  {'':<10} Redis lost {cache['redis_lost']} time(s): "
                f"{cache.get('reads_without_redis', 0):,} look-ups made without it"
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


# -- the command ------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``hostlocate batch`` (the locator's own are added by the caller)."""
    parser.add_argument(
        "input", metavar="INPUT", help="file of one URL a line, a CSV file, or - for stdin"
    )
    parser.add_argument(
        "-o", "--output", metavar="OUTPUT", default="-", help="where to write (default: stdout)"
    )
    g = parser.add_argument_group("input")
    g.add_argument(
        "--csv", action="store_true", help="INPUT is CSV with a header (implied by a .csv name)"
    )
    g.add_argument(
        "--column", default="url", metavar="NAME", help="CSV column holding the URL (default url)"
    )
    g.add_argument(
        "--delimiter", default=",", metavar="CHAR", help="CSV field delimiter (default ,)"
    )
    g = parser.add_argument_group("output")
    g.add_argument(
        "--format",
        choices=("jsonl", "csv"),
        help="jsonl (default) or csv (default when OUTPUT ends in .csv)",
    )
    g.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run writing to the same OUTPUT: keep its complete "
        "records, skip as many input records, append the rest",
    )
    g.add_argument(
        "--summary-json", metavar="PATH", help="also write the end-of-run summary as JSON here"
    )
    g = parser.add_argument_group("run")
    g.add_argument(
        "--concurrency",
        type=_positive_int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"records in flight at once (default {DEFAULT_CONCURRENCY})",
    )
    progress = g.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress",
        action="store_true",
        default=None,
        help="show a progress bar on stderr (default: when stderr is a terminal)",
    )
    progress.add_argument(
        "--no-progress", dest="progress", action="store_false", help="never show it"
    )
    cache = g.add_mutually_exclusive_group()
    cache.add_argument(
        "--cache",
        metavar="PATH",
        help="persistent cache file (default: cache.sqlite3 in the user's cache folder)",
    )
    cache.add_argument(
        "--no-cache", action="store_true", help="keep answers in memory only, for this run"
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


@dataclass
class _Options:
    input: str
    output: str
    csv_in: bool
    csv_out: bool
    column: str
    delimiter: str
    resume: bool
    concurrency: int
    progress: bool
    cache: str | None
    use_cache: bool
    summary_json: str | None

    @classmethod
    def from_args(cls, args: argparse.Namespace, stderr: TextIO) -> _Options:
        output = args.output
        csv_in = bool(args.csv) or (args.input != "-" and args.input.lower().endswith(".csv"))
        fmt = args.format or ("csv" if output.lower().endswith(".csv") else "jsonl")
        if args.resume and output == "-":
            raise UsageError("--resume needs -o OUTPUT: the file to continue")
        if output != "-" and args.input != "-" and _same_file(args.input, output):
            raise UsageError("OUTPUT is INPUT: refusing to overwrite the input")
        if len(args.delimiter) != 1:
            raise UsageError("--delimiter must be one character")
        progress = args.progress
        if progress is None:
            progress = stderr.isatty()
        return cls(
            input=args.input,
            output=output,
            csv_in=csv_in,
            csv_out=fmt == "csv",
            column=args.column,
            delimiter=args.delimiter,
            resume=args.resume,
            concurrency=args.concurrency,
            progress=bool(progress),
            cache=args.cache,
            use_cache=not args.no_cache,
            summary_json=args.summary_json,
        )


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def run(
    args: argparse.Namespace,
    make_locator: Callable[..., Locator],
    *,
    stdin: IO[Any] | None = None,
    stdout: BinaryIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run ``hostlocate batch``; returns the exit status (0: every record has its verdict)."""
    err = stderr if stderr is not None else sys.stderr
    try:
        opts = _Options.from_args(args, err)
    except UsageError as exc:
        err.write(f"hostlocate batch: {exc}\n")
        return EXIT_USAGE
    job = _Job(args, opts, make_locator, stdin=stdin, stdout=stdout, stderr=err)
    try:
        return job.run()
    except UsageError as exc:
        err.write(f"hostlocate batch: {exc}\n")
        return EXIT_USAGE
    finally:
        job.close()


class _Job:
    """One run of the command: the resources it opens and closes."""

    def __init__(
        self,
        args: argparse.Namespace,
        opts: _Options,
        make_locator: Callable[..., Locator],
        *,
        stdin: IO[Any] | None,
        stdout: BinaryIO | None,
        stderr: TextIO,
    ) -> None:
        self.args = args
        self.opts = opts
        self.make_locator = make_locator
        self.stdin = stdin
        self.stdout = stdout
        self.err = stderr
        self.text: TextIO | None = None
        self.out: BinaryIO | None = None
        """The output file this job opened (None when writing to stdout)."""
        self.store: SqliteStore | RedisStore | None = None
        self.summary = Summary()

    def close(self) -> None:
        if self.text is not None:
            self.text.close()
        if self.out is not None:
            self.out.close()
        if self.store is not None:
            self.store.close()

    def _stdout(self) -> BinaryIO:
        if self.stdout is not None:
            return self.stdout
        buffer: BinaryIO | None = getattr(sys.stdout, "buffer", None)
        if buffer is None:
            raise UsageError("stdout takes no bytes here: give -o OUTPUT")
        return buffer

    def run(self) -> int:
        opts = self.opts
        started = time.perf_counter()
        try:
            self.text = open_text(opts.input, csv_mode=opts.csv_in, stdin=self.stdin)
        except OSError as exc:
            raise UsageError(f"cannot read {opts.input}: {exc.strerror or exc}") from exc
        records: Iterator[Record]
        if opts.csv_in:
            source = CsvInput(self.text, column=opts.column, delimiter=opts.delimiter)
            input_columns = source.header if source.header else [opts.column]
            records = iter(source)
        else:
            input_columns = [PLAIN_URL_COLUMN]
            records = read_lines(self.text)
        csv_writer = CsvWriter(input_columns) if opts.csv_out else None

        skip = 0
        keep = 0
        if opts.resume:
            point = self._resume_point(csv_writer)
            skip, keep = point.records, point.size
            records = _skip(records, point)
            self.summary.resumed_after = skip

        try:
            locator = self._locator()
        except ConfigError as exc:
            self.err.write(f"hostlocate batch: {exc}\n")
            return EXIT_USAGE
        except DataError as exc:
            self.err.write(f"hostlocate batch: {exc}\n")
            return EXIT_FAILURE

        with locator:
            out = self._open_output(keep)
            writer: JsonLinesWriter | CsvWriter
            if csv_writer is not None:
                writer = csv_writer
                if keep == 0:
                    _write_all(out, writer.header_bytes())
            else:
                writer = JsonLinesWriter()
            bar = self._progress(skip)
            interrupted = False
            status = EXIT_OK
            sink = _Sink(out)
            try:
                try:
                    verdicts = _verdicts(locator, records, opts.concurrency, sink.flush)
                    for record, verdict in verdicts:
                        self.summary.add(emit(sink, writer, record, verdict))
                        if bar is not None:
                            bar.update(1)
                finally:
                    sink.flush()
            except KeyboardInterrupt:
                interrupted = True
            except InputError as exc:
                self.err.write(f"hostlocate batch: reading {opts.input} failed: {exc}\n")
                status = EXIT_FAILURE
            except OSError as exc:
                self.err.write(f"hostlocate batch: writing {opts.output} failed: {exc}\n")
                status = EXIT_FAILURE
            finally:
                if bar is not None:
                    bar.close()
            self._report(locator, time.perf_counter() - started, interrupted)
        return EXIT_INTERRUPTED if interrupted else status

    def _resume_point(self, csv_writer: CsvWriter | None) -> ResumePoint:
        path = Path(self.opts.output)
        if not path.exists() or path.stat().st_size == 0:
            return ResumePoint(0, 0)
        with open(path, "rb") as f:
            if csv_writer is not None:
                url_index = csv_writer.input_columns.index(
                    self.opts.column if self.opts.csv_in else PLAIN_URL_COLUMN
                )
                return csv_resume_point(f, csv_writer.header, url_index)
            return jsonl_resume_point(f)

    def _locator(self) -> Locator:
        if not self.opts.use_cache:
            return self.make_locator(self.args)
        from hostlocate.caches import open_cache

        try:
            self.store = open_cache(self.opts.cache, notice=self.err.write)
        except DataError as exc:
            self.err.write(f"hostlocate batch: {exc}; going on without a persistent cache\n")
            return self.make_locator(self.args)
        from hostlocate.caches import shared_rdap_options

        shared = shared_rdap_options(self.store, dict(getattr(self.args, "rdap_rate", None) or ()))
        return self.make_locator(self.args, cache=self.store, **shared)

    def _open_output(self, keep: int) -> BinaryIO:
        if self.opts.output == "-":
            return self._stdout()
        try:
            if self.opts.resume and keep:
                f = open(self.opts.output, "r+b", buffering=0)  # noqa: SIM115
                f.truncate(keep)
                f.seek(keep)
            else:
                f = open(self.opts.output, "wb", buffering=0)  # noqa: SIM115
        except OSError as exc:
            raise UsageError(f"cannot write {self.opts.output}: {exc.strerror or exc}") from exc
        self.out = f
        return f

    def _progress(self, skip: int) -> Any:
        if not self.opts.progress:
            return None
        from tqdm import tqdm

        total = count_records(self.opts.input, csv_mode=self.opts.csv_in)
        return tqdm(
            total=total,
            initial=skip,
            unit=" rec",
            file=self.err,
            dynamic_ncols=True,
            smoothing=0.1,
            mininterval=0.25,
        )

    def _report(self, locator: Locator, elapsed: float, interrupted: bool) -> None:
        from hostlocate.redis_store import RedisStore

        try:
            stats = locator.stats()
        except Exception as exc:  # the summary must not fail the run
            stats = {"error": repr(exc)}
        cache = None
        if self.store is not None:
            cache = {
                "path": str(self.store.path),
                **self.store.stats.as_dict(),
                "namespaces": self.store.stats_by_namespace(),
                "entries": self.store.count(),
                "evicted": self.store.evicted,
                "errors": self.store.errors,
                **(self.store.summary() if isinstance(self.store, RedisStore) else {}),
            }
        data = self.summary.to_dict(
            elapsed=elapsed, locator_stats=stats, cache=cache, interrupted=interrupted
        )
        self.err.write(render_summary(data))
        if self.opts.summary_json:
            data["input"] = self.opts.input
            data["output"] = self.opts.output
            data["finished_at"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
            try:
                Path(self.opts.summary_json).write_text(
                    json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8"
                )
            except OSError as exc:
                self.err.write(f"hostlocate batch: cannot write the summary: {exc}\n")


def emit(
    out: _Sink, writer: JsonLinesWriter | CsvWriter, record: Record, verdict: Verdict
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
    out.added()
    return verdict


def _skip(records: Iterator[Record], point: ResumePoint) -> Iterator[Record]:
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


def _verdicts(
    locator: Locator,
    records: Iterator[Record],
    concurrency: int,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[tuple[Record, Verdict]]:
    """Each record with its verdict, in order; a locator failure is answered record by record.

    ``pending`` holds the records the locator has read and not yet answered (it
    reads ahead of its look-ups; a failing ``locate_many`` lets go of the input
    before it raises): if ``locate_many`` fails, those are located one at a
    time and a fresh ``locate_many`` takes the rest. Errors reading the
    input are not the locator's and end the run.
    """
    pending: collections.deque[Record] = collections.deque()
    input_error: BaseException | None = None

    def urls() -> Iterator[str]:
        nonlocal input_error
        append = pending.append
        while True:
            try:
                record = next(records)
            except StopIteration:
                return
            except Exception as exc:
                input_error = exc
                return
            append(record)
            yield record.url  # "" for an unreadable record, whose verdict is replaced

    while True:
        progressed = False
        try:
            for verdict in locator.locate_many(urls(), concurrency=concurrency, on_wait=on_wait):
                record = pending.popleft()
                progressed = True
                yield record, _for_record(record, verdict)
            break
        except Exception as exc:
            if not pending and not progressed:
                raise
            failure = exc
        while pending:
            record = pending.popleft()
            yield record, _locate_one(locator, record, failure)
    if input_error is not None:
        raise InputError(str(input_error)) from input_error


def _for_record(record: Record, verdict: Verdict) -> Verdict:
    if record.problem is None:
        return verdict
    return Verdict(input=record.url, status="invalid", error=record.problem, routing=Routing())


def _locate_one(locator: Locator, record: Record, failure: BaseException) -> Verdict:
    if record.problem is not None:
        return _for_record(record, internal_verdict(record.url, ""))
    try:
        return locator.locate(record.url)
    except Exception as exc:
        return internal_verdict(
            record.url, f"internal error: {exc!r} (after the batch failed: {failure!r})"
        )


def _clean(record: Record) -> Record:
    """The record with text that cannot be UTF-8 (lone surrogates) replaced."""

    def clean(text: str) -> str:
        return text.encode("utf-8", "replace").decode("utf-8")

    fields = None
    if record.fields is not None:
        fields = {clean(k): clean(v) for k, v in record.fields.items()}
    return Record(record.number, clean(record.url), fields, tuple(clean(x) for x in record.extra))


def internal_verdict(text: str, message: str) -> Verdict:
    """The verdict of a record the locator could not answer: unresolved, for manual review."""
    return Verdict(
        input=text,
        status="unresolved",
        error=ErrorInfo(code=ErrorCode.INTERNAL.value, message=message),
        routing=Routing(escalation="manual_review"),
    )
