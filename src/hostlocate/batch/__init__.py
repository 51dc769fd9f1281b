"""``hostlocate batch``: a file of reported URLs in, one verdict per record out.

The exchange path. Its promises, and how they are kept:

- **One output record per input record, in input order.** A record is a line
  of a plain file (blank lines included) or a row of a CSV file. Bytes that
  are not UTF-8 are replaced by U+FFFD; a line longer than
  :data:`MAX_LINE_CHARS` is cut there. An unreadable CSV row (one whose quote
  is never closed, too) still gets a verdict (``invalid``). A failure of the
  locator is answered record by record.
- **Bounded memory.** Input is streamed; at most ``concurrency`` records are
  in flight.
- **Nothing lost on a kill.** Output is handed to the operating system in
  batches and whenever the locator pauses, so a killed run loses only the
  records in flight. ``--resume`` counts the complete records of the output,
  cuts a torn last one, checks that the last kept record is the matching input
  record, skips that many input records and appends the rest.
- **One writer per output.** The output file is locked for the run; a second
  run on it refuses at once.

The rooms: :mod:`.records` (readers), :mod:`.formats` (writers),
:mod:`.resume`, :mod:`.summary`, :mod:`.failures` (the verdicts batch makes
itself) and :mod:`.job` (one run). The options are parsed, and the summary
rendered, in :mod:`hostlocate.cli`.
"""

from __future__ import annotations

from hostlocate.batch.failures import internal_verdict, unreadable_verdict
from hostlocate.batch.formats import (
    BATCH_SCHEMA,
    CSV_VERDICT_COLUMNS,
    PLAIN_URL_COLUMN,
    BatchHeader,
    CsvWriter,
    JsonLinesWriter,
    Sink,
    emit,
    verdict_columns,
)
from hostlocate.batch.job import (
    DEFAULT_CONCURRENCY,
    BatchOptions,
    BatchResult,
    Outcome,
    run_batch,
)
from hostlocate.batch.records import (
    MAX_LINE_CHARS,
    CsvInput,
    Record,
    count_records,
    open_text,
    read_lines,
)
from hostlocate.batch.resume import (
    ResumePoint,
    csv_resume_point,
    jsonl_resume_point,
    skip_answered,
)
from hostlocate.batch.summary import Summary
from hostlocate.errors import InputError, UsageError

__all__ = [
    "BATCH_SCHEMA",
    "CSV_VERDICT_COLUMNS",
    "DEFAULT_CONCURRENCY",
    "MAX_LINE_CHARS",
    "PLAIN_URL_COLUMN",
    "BatchHeader",
    "BatchOptions",
    "BatchResult",
    "CsvInput",
    "CsvWriter",
    "InputError",
    "JsonLinesWriter",
    "Outcome",
    "Record",
    "ResumePoint",
    "Sink",
    "Summary",
    "UsageError",
    "count_records",
    "csv_resume_point",
    "emit",
    "internal_verdict",
    "jsonl_resume_point",
    "open_text",
    "read_lines",
    "run_batch",
    "skip_answered",
    "unreadable_verdict",
    "verdict_columns",
]
