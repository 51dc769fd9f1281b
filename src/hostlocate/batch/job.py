"""One run of ``hostlocate batch``: input records to verdicts to the output.

The command line (:mod:`hostlocate.cli`) parses the options, builds the
locator and turns the :class:`Outcome` into an exit status; this module owns
the run itself: what it opens, locks, writes and counts.
"""

from __future__ import annotations

import collections
import datetime as _dt
import enum
import errno
import fcntl
import json
import os
import stat
import sys
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, TextIO

from hostlocate import __version__
from hostlocate._interrupt import Interrupted, ctrl_c_stops_reading
from hostlocate.batch import formats
from hostlocate.batch.failures import internal_verdict, unreadable_verdict
from hostlocate.batch.records import CsvInput, Record, count_records, open_text, read_lines
from hostlocate.batch.resume import ResumePoint, csv_resume_point, jsonl_resume_point, skip_answered
from hostlocate.batch.summary import Summary
from hostlocate.errors import DataError, InputError, UsageError
from hostlocate.models import Report, Verdict

if TYPE_CHECKING:
    from hostlocate.locator import Locator
    from hostlocate.redis_store import RedisStore
    from hostlocate.store import SqliteStore

__all__ = [
    "DEFAULT_CONCURRENCY",
    "BatchOptions",
    "BatchResult",
    "Interrupted",
    "Outcome",
    "ctrl_c_stops_reading",
    "run_batch",
]

DEFAULT_CONCURRENCY = 64


class Outcome(enum.Enum):
    """How a run ended; the command line maps each to an exit status."""

    COMPLETE = "complete"
    """Every input record has its verdict in the output."""
    FAILED = "failed"
    """Reading the input or writing the output failed midway; the output so far can be resumed."""
    INTERRUPTED = "interrupted"
    """Stopped by Ctrl-C (SIGINT); the output so far can be resumed."""
    OUTPUT_CLOSED = "output_closed"
    """The reader of the output went away (a closed pipe), as ``| head`` does."""


@dataclass(frozen=True)
class BatchResult:
    """How a run ended, and its summary (as ``--summary-json`` holds it)."""

    outcome: Outcome
    summary: dict[str, Any]


@dataclass(frozen=True)
class BatchOptions:
    """What a run reads, writes and how; checked on construction (:class:`UsageError`)."""

    input: str
    output: str = "-"
    csv_in: bool = False
    csv_out: bool = False
    column: str = "url"
    delimiter: str = ","
    resume: bool = False
    concurrency: int = DEFAULT_CONCURRENCY
    progress: bool = False
    cache: str | None = None
    use_cache: bool = True
    summary_json: str | None = None
    inline_sources: bool = False
    """Keep the data sources in every JSON line instead of writing a header record."""
    origin_column: str | None = None
    """CSV column holding origin addresses an intermediary disclosed (``;`` or space apart)."""

    def __post_init__(self) -> None:
        if self.resume and self.output == "-":
            raise UsageError("--resume needs -o OUTPUT: the file to continue")
        if self.output != "-" and self.input != "-" and _same_file(self.input, self.output):
            raise UsageError("OUTPUT is INPUT: refusing to overwrite the input")
        if len(self.delimiter) != 1:
            raise UsageError("--delimiter must be one character")
        if self.origin_column is not None and not self.csv_in:
            raise UsageError("--origin-column needs CSV input")


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def run_batch(
    opts: BatchOptions,
    make_locator: Callable[..., Locator],
    *,
    stdin: IO[Any] | None = None,
    stdout: BinaryIO | None = None,
    stderr: TextIO | None = None,
) -> BatchResult:
    """Run a batch; raises :class:`UsageError` before any verdict is written if it cannot run.

    ``make_locator(**extra)`` builds the locator (``extra`` may hold ``cache``);
    its ``ConfigError`` and ``DataError`` pass through.
    """
    job = _Job(opts, make_locator, stdin, stdout, stderr or sys.stderr)
    try:
        return job.run()
    finally:
        job.close()


@dataclass
class _Job:
    """One run of the command: the resources it opens and closes."""

    opts: BatchOptions
    make_locator: Callable[..., Locator]
    stdin: IO[Any] | None
    stdout: BinaryIO | None
    err: TextIO
    text: TextIO | None = None
    out: BinaryIO | None = None
    """The output file this job opened and locked (None when writing to stdout)."""
    created: bool = False
    store: SqliteStore | RedisStore | None = None
    summary: Summary = field(default_factory=Summary)

    def close(self) -> None:
        if self.text is not None:
            self.text.close()
        if self.out is not None:
            if self.created and os.fstat(self.out.fileno()).st_size == 0:
                Path(self.opts.output).unlink(missing_ok=True)  # a run that never began
            self.out.close()  # closing lets go of the lock
        if self.store is not None:
            self.store.close()

    def warn(self, message: str) -> None:
        self.err.write(f"hostlocate batch: {message}\n")

    def run(self) -> BatchResult:
        opts = self.opts
        started = time.perf_counter()
        try:
            self.text = open_text(opts.input, csv_mode=opts.csv_in, stdin=self.stdin)
        except OSError as exc:
            raise UsageError(f"cannot read {opts.input}: {exc.strerror or exc}") from exc
        records: Iterator[Record]
        if opts.csv_in:
            source = CsvInput(
                self.text, column=opts.column, delimiter=opts.delimiter, warn=self._unclosed
            )
            input_columns = source.header if source.header else [opts.column]
            if opts.origin_column is not None and opts.origin_column not in source.header:
                raise UsageError(f"the CSV input has no column {opts.origin_column!r}")
            records = iter(source)
        else:
            input_columns = [formats.PLAIN_URL_COLUMN]
            records = read_lines(self.text)
        csv_writer = formats.CsvWriter(input_columns) if opts.csv_out else None

        out = self._open_output()
        point = self._resume_point(out, csv_writer)
        records = skip_answered(records, point)
        self.summary.resumed_after = point.records

        with self._locator() as locator:
            if point.size == 0 and out is self.out and self._is_file(out):
                out.truncate(0)  # only a file this run opened: never a stdout opened to append
            elif point.size:
                out.truncate(point.size)
                out.seek(point.size)
            writer: formats.JsonLinesWriter | formats.CsvWriter
            head = b""
            if csv_writer is not None:
                writer = csv_writer
                if point.size == 0:
                    head = writer.header_bytes()
            elif opts.inline_sources or (point.size and point.sources is None):
                writer = formats.JsonLinesWriter()  # an output begun without a header goes on so
            elif point.sources is not None:
                writer = formats.JsonLinesWriter(point.sources)
            else:
                header = formats.BatchHeader(version=__version__, sources=locator.sources)
                head = formats.header_line(header)
                writer = formats.JsonLinesWriter(header.sources)
            outcome = self._write(locator, writer, out, records, point.records, head)
            summary = self._report(locator, time.perf_counter() - started, outcome)
        return BatchResult(outcome, summary)

    def _write(
        self,
        locator: Locator,
        writer: formats.JsonLinesWriter | formats.CsvWriter,
        out: BinaryIO,
        records: Iterator[Record],
        skip: int,
        head: bytes,
    ) -> Outcome:
        """Write ``head`` (a header, if the output has none yet), then a line per record."""
        bar = self._progress(skip)
        sink = formats.Sink(out, self.summary.add_written)
        sink.buffer += head
        verdicts = _verdicts(
            locator, records, self.opts.concurrency, sink.flush, self.opts.origin_column
        )
        ended = False
        try:
            with ctrl_c_stops_reading():
                try:
                    for record, verdict in verdicts:
                        formats.emit(sink, writer, record, verdict)
                        if bar is not None:
                            bar.update(1)
                    ended = True
                finally:
                    if not ended:  # left midway: the look-ups end here, not at collection
                        verdicts.close()
                    sink.flush()
        except (KeyboardInterrupt, Interrupted):
            return Outcome.INTERRUPTED
        except InputError as exc:
            self.warn(f"reading {self.opts.input} failed: {exc}")
            return Outcome.FAILED
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                self.summary.stopped = "the output was closed"
                return Outcome.OUTPUT_CLOSED
            reason = exc.strerror or str(exc)
            self.summary.stopped = f"writing {self.opts.output} failed: {reason}"
            self.warn(self.summary.stopped)
            return Outcome.FAILED
        finally:
            if bar is not None:
                bar.close()
        return Outcome.COMPLETE

    def _unclosed(self, line: int, message: str) -> None:
        self.summary.unclosed_quotes.append(line)
        self.warn(f"{self.opts.input}: {message}")

    def _open_output(self) -> BinaryIO:
        """The output, opened without truncating it and locked against a second run."""
        if self.opts.output == "-":
            if self.stdout is not None:
                return self.stdout
            buffer: BinaryIO | None = getattr(sys.stdout, "buffer", None)
            if buffer is None:
                raise UsageError("stdout takes no bytes here: give -o OUTPUT")
            return buffer
        path = self.opts.output
        existed = os.path.exists(path)
        try:
            f = open(path, "r+b" if existed else "w+b", buffering=0)  # noqa: SIM115
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                # a file system without locks (some network mounts): go on, and say so
                self.warn(f"cannot lock {path} ({exc.strerror or exc}); going on without")
            else:
                f.close()
                raise UsageError(
                    f"{path} is being written by another hostlocate batch: "
                    "refusing to write it too (wait for that run, or give another -o)"
                ) from exc
        self.out = f
        self.created = not existed
        return f

    @staticmethod
    def _is_file(out: BinaryIO) -> bool:
        try:
            return stat.S_ISREG(os.fstat(out.fileno()).st_mode)
        except (OSError, ValueError, AttributeError):
            return False

    def _resume_point(self, out: BinaryIO, csv_writer: formats.CsvWriter | None) -> ResumePoint:
        if not self.opts.resume or not self._is_file(out) or os.fstat(out.fileno()).st_size == 0:
            return ResumePoint(0, 0)
        if csv_writer is not None:
            url_index = csv_writer.input_columns.index(
                self.opts.column if self.opts.csv_in else formats.PLAIN_URL_COLUMN
            )
            return csv_resume_point(out, csv_writer.header, url_index)
        return jsonl_resume_point(out)

    def _locator(self) -> Locator:
        if not self.opts.use_cache:
            return self.make_locator()
        from hostlocate.caches import open_cache

        try:
            # A Redis that cannot be reached is a ConfigError: the run stops (exit 2).
            self.store = open_cache(self.opts.cache)  # its notices go through the log
        except DataError as exc:  # a damaged cache file: the run goes on without it
            self.warn(f"{exc}; going on without a persistent cache")
            return self.make_locator()
        return self.make_locator(cache=self.store)

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

    def _report(self, locator: Locator, elapsed: float, outcome: Outcome) -> dict[str, Any]:
        """The summary's data; written to ``--summary-json`` if asked."""
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
                **self.store.summary(),
            }
        data = self.summary.to_dict(
            elapsed=elapsed,
            locator_stats=stats,
            cache=cache,
            interrupted=outcome is Outcome.INTERRUPTED,
        )
        if self.opts.summary_json:
            data["input"] = self.opts.input
            data["output"] = self.opts.output
            data["finished_at"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
            try:
                Path(self.opts.summary_json).write_text(
                    json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8"
                )
            except OSError as exc:
                self.warn(f"cannot write the summary: {exc}")
        return data


def _verdicts(
    locator: Locator,
    records: Iterator[Record],
    concurrency: int,
    on_wait: Callable[[], None] | None = None,
    origin_column: str | None = None,
) -> Generator[tuple[Record, Verdict], None, None]:
    """Each record with its verdict, in order; a locator failure is answered record by record.

    ``pending`` holds the records the locator has read and not yet answered (it
    reads ahead of its look-ups; a failing ``locate_many`` lets go of the input
    before it raises): if ``locate_many`` fails, those are located one at a
    time and a fresh ``locate_many`` takes the rest. Errors reading the
    input are not the locator's and end the run.
    """
    pending: collections.deque[Record] = collections.deque()
    input_error: BaseException | None = None

    def urls() -> Iterator[str | Report]:
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
            origin = _origin(record, origin_column)
            # "" for an unreadable record, whose verdict is replaced
            yield Report(record.url, origin) if origin else record.url

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
            yield record, _locate_one(locator, record, failure, origin_column)
    if input_error is not None:
        raise InputError(str(input_error)) from input_error


def _for_record(record: Record, verdict: Verdict) -> Verdict:
    if record.problem is None:
        return verdict
    return unreadable_verdict(record.url, record.problem)


def _origin(record: Record, column: str | None) -> tuple[str, ...]:
    """The origin addresses a record's CSV row carries, if a column is named."""
    if column is None or record.fields is None:
        return ()
    return tuple(record.fields.get(column, "").replace(";", " ").split())


def _locate_one(
    locator: Locator, record: Record, failure: BaseException, origin_column: str | None = None
) -> Verdict:
    if record.problem is not None:
        return unreadable_verdict(record.url, record.problem)
    try:
        return locator.locate(record.url, origin=_origin(record, origin_column))
    except Exception as exc:
        return internal_verdict(
            record.url, f"internal error: {exc!r} (after the batch failed: {failure!r})"
        )
