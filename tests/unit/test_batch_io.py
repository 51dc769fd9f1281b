"""The pure parts of ``hostlocate batch``: reading records, writing them, resuming, summing up."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hostlocate import batch, decide, serialize
from hostlocate.batch import (
    CSV_VERDICT_COLUMNS,
    BatchHeader,
    CsvInput,
    CsvWriter,
    JsonLinesWriter,
    Record,
    ResumePoint,
    Summary,
    UsageError,
    csv_resume_point,
    jsonl_resume_point,
    open_text,
    read_lines,
    resume,
    verdict_columns,
)
from hostlocate.batch.job import _verdicts
from hostlocate.cli import render_summary
from hostlocate.errors import ErrorCode, HostlocateError
from hostlocate.models import (
    AddressFacts,
    DNSResult,
    ErrorInfo,
    Hotline,
    Jurisdiction,
    NoticeContact,
    Provenance,
    ReportedURL,
    Routing,
    SourceInfo,
    Verdict,
)

# -- plain input -------------------------------------------------------------------------------


def lines_of(text: str, **kw: Any) -> list[tuple[int, str]]:
    return [(r.number, r.url) for r in read_lines(io.StringIO(text), **kw)]


def test_every_line_is_a_record_blank_ones_included() -> None:
    text = "a.example\n\n   \nhttp://b.example/x\r\nlast-without-newline"
    assert lines_of(text) == [
        (1, "a.example"),
        (2, ""),
        (3, "   "),
        (4, "http://b.example/x"),
        (5, "last-without-newline"),
    ]


def test_a_final_newline_makes_no_extra_record() -> None:
    assert lines_of("a\nb\n") == [(1, "a"), (2, "b")]
    assert lines_of("") == []
    assert lines_of("\n") == [(1, "")]


def test_an_over_long_line_is_cut_and_the_rest_skipped() -> None:
    text = "short\n" + "x" * 25 + "\nnext\n" + "y" * 10 + "\n"
    assert lines_of(text, max_chars=10) == [(1, "short"), (2, "x" * 10), (3, "next"), (4, "y" * 10)]


def test_bad_utf8_and_a_bom_still_give_one_record_a_line(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(b"\xef\xbb\xbfhttp://a.example/\nhttp://b\xff\xfe.example/\n\xc3\nok\n")
    with open_text(str(path), csv_mode=False) as f:
        got = [r.url for r in read_lines(f)]
    assert got == ["http://a.example/", "http://b\ufffd\ufffd.example/", "\ufffd", "ok"]


class FakeStdin:
    """A text stdin with its binary buffer, as sys.stdin has."""

    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def test_stdin_is_read_as_utf8_and_left_open() -> None:
    stdin = FakeStdin("193.0.6.139\nbücher.example\n".encode())
    f = open_text("-", csv_mode=False, stdin=stdin)
    assert [r.url for r in read_lines(f)] == ["193.0.6.139", "bücher.example"]
    f.close()
    assert not stdin.buffer.closed


def test_stdin_that_is_already_text_is_used_as_is() -> None:
    f = open_text("-", csv_mode=False, stdin=io.StringIO("a\nb\n"))
    assert [r.url for r in read_lines(f)] == ["a", "b"]


# -- CSV input ---------------------------------------------------------------------------------


def csv_records(text: str, **kw: Any) -> tuple[list[str], list[Record]]:
    source = CsvInput(io.StringIO(text, newline=""), **kw)
    return source.header, list(source)


def test_csv_quotes_embedded_commas_and_newlines() -> None:
    text = (
        'id,url,note\r\n1,"http://a.example/?q=1,2",plain\r\n'
        '2,http://b.example/,"two\nlines, and ""quotes"""\r\n'
    )
    header, records = csv_records(text)
    assert header == ["id", "url", "note"]
    assert [(r.number, r.url) for r in records] == [
        (1, "http://a.example/?q=1,2"),
        (2, "http://b.example/"),
    ]
    assert records[1].fields == {
        "id": "2",
        "url": "http://b.example/",
        "note": 'two\nlines, and "quotes"',
    }


def test_csv_with_a_bom_and_a_chosen_column(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b"\xef\xbb\xbfLink;Case\nhttp://a.example/;17\n")
    with open_text(str(path), csv_mode=True) as f:
        source = CsvInput(f, column="Link", delimiter=";")
        assert source.header == ["Link", "Case"]
        assert [r.fields for r in source] == [{"Link": "http://a.example/", "Case": "17"}]


def test_csv_short_long_and_blank_rows_are_records() -> None:
    _, records = csv_records("url,a,b\nx1\nx2,1,2,3,4\n\nx4,9\n")
    assert [r.url for r in records] == ["x1", "x2", "", "x4"]
    assert records[0].fields == {"url": "x1", "a": "", "b": ""}
    assert records[1].extra == ("3", "4")
    assert records[2].fields == {"url": "", "a": "", "b": ""}
    assert records[3].fields == {"url": "x4", "a": "9", "b": ""}


def test_csv_missing_column_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"no column 'url'.*'link'"):
        CsvInput(io.StringIO("link,id\nx,1\n"))
    with pytest.raises(UsageError, match="twice"):
        CsvInput(io.StringIO("url,url\nx,1\n"))


def test_empty_csv_has_no_records() -> None:
    assert csv_records("") == ([], [])


def test_an_unreadable_csv_row_still_is_a_record() -> None:
    limit = csv.field_size_limit()
    text = "url,n\nhttp://a.example/,1\n" + "x" * (limit + 10) + ",2\nhttp://c.example/,3\n"
    _, records = csv_records(text)
    assert [r.number for r in records] == [1, 2, 3]
    assert records[1].url == ""
    assert records[1].problem is not None
    assert records[1].problem.code == "too_long"
    assert records[2].url == "http://c.example/"


# -- output --------------------------------------------------------------------------------------


def rich_verdict(text: str = "hxxp://www.example[.]co.uk/a") -> Verdict:
    return Verdict(
        input=text,
        status="located",
        url=ReportedURL(
            input=text,
            normalized="http://www.example.co.uk/a",
            scheme="http",
            host="www.example.co.uk",
            host_unicode="www.example.co.uk",
            port=80,
            registered_domain="example.co.uk",
            public_suffix="co.uk",
            icann_registered_domain="example.co.uk",
            icann_public_suffix="co.uk",
            is_ip=False,
            ip_version=None,
            special=None,
            defanged=True,
        ),
        dns=DNSResult(addresses=("192.0.2.10", "2001:db8::10"), rcode="NOERROR"),
        addresses=(
            AddressFacts(ip="192.0.2.10", version=4, public=True, country="GB"),
            AddressFacts(ip="2001:db8::10", version=6, public=True, country="GB"),
        ),
        jurisdiction=Jurisdiction(
            country="GB", confidence="high", basis="geoip", flags=("cdn", "anycast")
        ),
        routing=Routing(
            hotlines=(Hotline(id="gb-iwf", country="GB", name="Internet Watch Foundation"),),
            notice_contacts=(
                NoticeContact(role="hosting", email="abuse@host.test"),
                NoticeContact(role="cdn", email="abuse@cdn.test"),
                NoticeContact(role="registrar", url="https://registrar.test/abuse"),
                NoticeContact(role="hosting", email="abuse@host.test"),
            ),
        ),
    )


def invalid_verdict(text: str = "") -> Verdict:
    return Verdict(
        input=text,
        status="invalid",
        error=ErrorInfo(code="empty_input", message="the input is empty"),
    )


def test_verdict_columns_flatten_lists_with_semicolons() -> None:
    assert verdict_columns(rich_verdict()) == [
        "located",
        "",
        "www.example.co.uk",
        "example.co.uk",
        "GB",
        "high",
        "geoip",
        "cdn;anycast",
        "Internet Watch Foundation",
        "",
        "abuse@host.test;abuse@cdn.test",
        "192.0.2.10;2001:db8::10",
    ]
    assert verdict_columns(invalid_verdict()) == [
        "invalid",
        "empty_input",
        "",
        "",
        "",
        "none",
        "none",
        "",
        "",
        "",
        "",
        "",
    ]
    assert len(verdict_columns(invalid_verdict())) == len(CSV_VERDICT_COLUMNS) - 1


def test_json_lines_put_line_and_record_in_front_and_stay_verdicts() -> None:
    writer = JsonLinesWriter()
    v = rich_verdict()
    out = writer.format(Record(7, v.input), v)
    out += writer.format(Record(8, "", {"url": "", "case": "ü,1"}, ("extra",)), invalid_verdict())
    first, second = out.splitlines()
    assert first.startswith(b'{"line":7,"schema":')
    assert serialize.from_json(first) == v
    obj = json.loads(second)
    assert list(obj)[:3] == ["line", "record", "schema"]
    assert obj["record"] == {"url": "", "case": "ü,1", "_extra": ["extra"]}
    assert serialize.from_json(second) == invalid_verdict()


def test_a_json_line_is_the_verdicts_own_json_with_the_head_in_front() -> None:
    writer = JsonLinesWriter()
    for record, verdict in [
        (Record(1, "x"), rich_verdict()),
        (Record(123456789, ""), invalid_verdict()),
        (Record(2, "a", {"url": "a", "n": "1"}), rich_verdict("a")),
    ]:
        head = b'{"line":%d,' % record.number
        if record.fields is not None:
            head += b'"record":' + json.dumps(record.fields).encode() + b","
        assert writer.format(record, verdict) == head + serialize.to_json(verdict)[1:] + b"\n"


def test_a_verdict_that_cannot_be_written_is_replaced_not_torn_or_lost() -> None:
    sink = batch.Sink(io.BytesIO())
    writer = JsonLinesWriter()
    good = rich_verdict()
    assert batch.emit(sink, writer, Record(1, good.input), good) is good
    bad = "http://a.example/\ud800"  # a lone surrogate: no UTF-8 holds it
    written = batch.emit(sink, writer, Record(2, bad), invalid_verdict(bad))
    assert written.status == "unresolved"
    assert written.error is not None and written.error.code == "internal"
    first, second = bytes(sink.buffer).splitlines()
    assert serialize.from_json(first) == good
    line = json.loads(second)
    assert line["line"] == 2
    assert line["input"] == "http://a.example/?"
    assert "could not be written" in line["error"]["message"]


def test_csv_output_carries_input_columns_through() -> None:
    writer = CsvWriter(["id", "url", "country", "note"])
    assert writer.header[:4] == ["id", "url", "country", "note"]
    assert writer.header[4:] == [
        "verdict_country" if c == "country" else c for c in CSV_VERDICT_COLUMNS
    ]
    out = writer.header_bytes()
    fields = {"id": "1", "url": "x", "country": "reported DE", "note": 'a "b",\nc'}
    out += writer.format(Record(1, "x", fields), rich_verdict("x"))
    rows = list(csv.reader(io.StringIO(out.decode(), newline="")))
    assert rows[0] == writer.header
    assert rows[1][:4] == ["1", "x", "reported DE", 'a "b",\nc']
    assert rows[1][4] == "1"
    assert rows[1][5:] == verdict_columns(rich_verdict("x"))


def test_csv_output_of_plain_input_has_a_url_column() -> None:
    writer = CsvWriter([batch.PLAIN_URL_COLUMN])
    out = writer.format(Record(3, "193.0.6.139"), invalid_verdict("193.0.6.139"))
    row = next(csv.reader(io.StringIO(out.decode())))
    assert row[:3] == ["193.0.6.139", "3", "invalid"]


# -- resume --------------------------------------------------------------------------------------


def jsonl_output(records: Iterable[tuple[int, str]]) -> bytes:
    writer = JsonLinesWriter()
    return b"".join(writer.format(Record(n, text), invalid_verdict(text)) for n, text in records)


def test_jsonl_resume_point_of_a_whole_file() -> None:
    data = jsonl_output((i, f"u{i}") for i in range(1, 6))
    point = jsonl_resume_point(io.BytesIO(data))
    assert point == ResumePoint(5, len(data), 5, "u5")


@pytest.mark.parametrize("cut", [1, 10, -2, -1])
def test_jsonl_resume_point_cuts_a_torn_last_line(cut: int) -> None:
    whole = jsonl_output((i, f"u{i}") for i in range(1, 5))
    kept = jsonl_output((i, f"u{i}") for i in range(1, 4))
    torn = kept + whole[len(kept) : len(whole) + cut if cut < 0 else len(kept) + cut]
    point = jsonl_resume_point(io.BytesIO(torn))
    assert point == ResumePoint(3, len(kept), 3, "u3")


def test_jsonl_resume_point_across_read_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    data = jsonl_output((i, f"u{i}") for i in range(1, 40))
    line = len(data) // 39
    for chunk in (7, 64, 333, line, line * 2 + 5, line * 3 - 5, len(data) - 1):
        monkeypatch.setattr(resume, "_CHUNK", chunk)
        assert jsonl_resume_point(io.BytesIO(data + b'{"line":40,')) == ResumePoint(
            39, len(data), 39, "u39"
        )


def test_jsonl_resume_point_of_two_lines_in_one_read() -> None:
    data = jsonl_output([(1, "u1"), (2, "u2")])
    assert jsonl_resume_point(io.BytesIO(data)) == ResumePoint(2, len(data), 2, "u2")


def test_jsonl_resume_point_of_empty_and_torn_only_files() -> None:
    assert jsonl_resume_point(io.BytesIO(b"")) == ResumePoint(0, 0)
    assert jsonl_resume_point(io.BytesIO(b'{"line":1,"sch')) == ResumePoint(0, 0)


def test_jsonl_resume_refuses_a_file_that_is_not_batch_output() -> None:
    with pytest.raises(UsageError, match="not a batch verdict"):
        jsonl_resume_point(io.BytesIO(b"hello\nworld\n"))
    with pytest.raises(UsageError):
        jsonl_resume_point(io.BytesIO(b'{"input": "x"}\n'))


def csv_output(rows: Iterable[tuple[int, dict[str, str]]], columns: list[str]) -> bytes:
    writer = CsvWriter(columns)
    out = writer.header_bytes()
    for number, fields in rows:
        out += writer.format(Record(number, fields["url"], fields), invalid_verdict(fields["url"]))
    return out


COLUMNS = ["url", "note"]


def note_rows(n: int) -> Iterator[tuple[int, dict[str, str]]]:
    for i in range(1, n + 1):
        yield i, {"url": f"u{i}", "note": f"first\nsecond {i}"}


def header_of(columns: list[str]) -> list[str]:
    return CsvWriter(columns).header


def test_csv_resume_point_of_a_whole_file() -> None:
    data = csv_output(note_rows(4), COLUMNS)
    point = csv_resume_point(io.BytesIO(data), header_of(COLUMNS), 0)
    assert point.records == 4
    assert point.size == len(data)
    assert (point.last_line, point.last_input) == (4, "u4")


def test_csv_resume_point_cuts_every_possible_tear() -> None:
    kept = csv_output(note_rows(3), COLUMNS)
    whole = csv_output(note_rows(4), COLUMNS)
    for end in range(len(kept), len(whole)):  # every byte of the fourth row, torn
        point = csv_resume_point(io.BytesIO(whole[:end]), header_of(COLUMNS), 0)
        assert (point.records, point.size, point.last_input) == (3, len(kept), "u3"), end


def test_csv_resume_point_of_header_only_and_torn_header() -> None:
    header_only = csv_output([], COLUMNS)
    point = csv_resume_point(io.BytesIO(header_only), header_of(COLUMNS), 0)
    assert (point.records, point.size) == (0, len(header_only))
    torn = csv_resume_point(io.BytesIO(header_only[:-5]), header_of(COLUMNS), 0)
    assert (torn.records, torn.size) == (0, 0)


def test_csv_resume_point_stops_at_a_row_missing_columns() -> None:
    header = header_of(COLUMNS)
    data = csv_output(note_rows(2), COLUMNS)
    short = data + b"u3,only two cells\r\n"
    point = csv_resume_point(io.BytesIO(short + data.split(b"\r\n", 1)[1]), header, 0)
    assert (point.records, point.size, point.last_input) == (2, len(data), "u2")


def test_csv_resume_refuses_another_header() -> None:
    data = csv_output(note_rows(2), COLUMNS)
    with pytest.raises(UsageError, match="header differs"):
        csv_resume_point(io.BytesIO(data), header_of(["url", "other"]), 0)


def test_skip_checks_the_output_matches_the_input() -> None:
    records = [Record(i, f"u{i}") for i in range(1, 6)]
    rest = batch.skip_answered(iter(records), ResumePoint(2, 99, 2, "u2"))
    assert [r.number for r in rest] == [3, 4, 5]
    with pytest.raises(UsageError, match="not the output of this input"):
        batch.skip_answered(iter(records), ResumePoint(2, 99, 2, "something else"))
    with pytest.raises(UsageError, match="fewer"):
        batch.skip_answered(iter(records), ResumePoint(9, 99, 9, "u9"))


# -- summary -------------------------------------------------------------------------------------


def test_summary_counts_statuses_errors_and_countries() -> None:
    summary = Summary(resumed_after=10)
    for v in (rich_verdict(), rich_verdict(), invalid_verdict(), invalid_verdict("x")):
        summary.add(v)
    data = summary.to_dict(
        elapsed=2.0,
        locator_stats={
            "dns_cache": {"hits": 3, "misses": 1, "hit_rate": 0.75},
            "rdap": {"requests": {"ripe": 2, "arin": 1}, "requests_total": 3},
        },
    )
    assert data["records"] == 4
    assert data["records_per_s"] == 2.0
    assert data["status"] == {"located": 2, "invalid": 2}
    assert data["errors"] == {"empty_input": 2}
    assert data["countries"] == {"GB": 2}
    assert data["resumed_after"] == 10
    json.dumps(data)
    text = render_summary(data)
    assert "4 records in 2.0 s (2/s), resumed after 10" in text
    assert "located 2, invalid 2" in text
    assert "GB 2" in text
    assert "dns_cache  hit rate 75.0% of 4" in text
    assert "rdap.requests ripe 2, arin 1" in text


# -- the verdict stream -------------------------------------------------------------------------


class BrokenLocator:
    """A locator whose batch method fails midway, as a bug would; single look-ups work."""

    def __init__(self, fail_after: int) -> None:
        self.fail_after = fail_after
        self.calls = 0

    def locate(self, url: str) -> Verdict:
        if url == "boom":
            raise RuntimeError("boom")
        return invalid_verdict(url)

    def locate_many(
        self,
        urls: Iterable[str],
        *,
        concurrency: int = 64,
        on_wait: Callable[[], None] | None = None,
    ) -> Iterator[Verdict]:
        self.calls += 1
        window: list[str] = []
        for i, url in enumerate(urls):
            window.append(url)
            if self.calls == 1 and i == self.fail_after:
                raise RuntimeError("the batch broke")
            if len(window) >= concurrency:
                yield self.locate(window.pop(0))
        for url in window:
            yield self.locate(url)


def test_a_failing_locator_still_answers_every_record_once_in_order() -> None:
    records = [Record(i, "boom" if i == 4 else f"u{i}") for i in range(1, 21)]
    locator = BrokenLocator(fail_after=6)
    got = list(_verdicts(locator, iter(records), 3))  # type: ignore[arg-type]
    assert [r.number for r, _ in got] == list(range(1, 21))
    assert all(v.input == r.url for r, v in got)
    assert got[3][1].error is not None
    assert got[3][1].error.code == "internal"
    assert locator.calls == 2


def test_an_input_error_ends_the_stream_and_is_reported() -> None:
    def records() -> Iterator[Record]:
        yield Record(1, "a")
        raise OSError("disk gone")

    stream = _verdicts(BrokenLocator(10**9), records(), 8)  # type: ignore[arg-type]
    with pytest.raises(batch.InputError, match="disk gone"):
        list(stream)


def test_sink_holds_verdicts_until_size_time_or_flush() -> None:
    out = io.BytesIO()
    sink = batch.Sink(out)
    v = invalid_verdict()
    for i in range(100):  # a burst: held in memory
        sink.buffer += b"r%d\n" % i
        sink.added(v)
    assert out.getvalue() == b""
    sink.flush()  # what the locator's pause (on_wait) calls
    assert out.getvalue() == b"".join(b"r%d\n" % i for i in range(100))
    sink.flush()  # nothing held: nothing written
    big = b"x" * batch.Sink.SIZE
    sink.buffer += big
    sink.added(v)  # past the size: written at once
    assert out.getvalue().endswith(big)
    time.sleep(batch.Sink.EVERY)
    sink.buffer += b"late\n"
    sink.added(v)  # held longer than EVERY since the last write out: written
    assert out.getvalue().endswith(b"late\n")
    sink.buffer += b"appended in place\n"  # how writers add to it
    assert not out.getvalue().endswith(b"place\n")
    sink.added(v)
    time.sleep(batch.Sink.EVERY)
    sink.buffer += b"next\n"
    sink.added(v)
    assert out.getvalue().endswith(b"appended in place\nnext\n")


class FullDisk(io.RawIOBase):
    """A raw file that takes ``room`` bytes, then fails as a full disk does."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        if self.room <= 0:
            raise OSError(28, "No space left on device")
        taken = bytes(b[: self.room])
        self.data += taken
        self.room -= len(taken)
        return len(taken)


def test_sink_reports_as_written_only_the_lines_the_output_holds_whole() -> None:
    counted: list[Verdict] = []
    out = FullDisk(room=25)
    sink = batch.Sink(out, counted.extend)
    verdicts = [invalid_verdict(f"u{i}") for i in range(4)]
    for i, v in enumerate(verdicts):
        sink.buffer += b"line %d ok\n" % i  # 10 bytes a line
        sink.added(v)
    with pytest.raises(OSError, match="No space"):
        sink.flush()
    assert bytes(out.data) == b"line 0 ok\nline 1 ok\nline "
    assert counted == verdicts[:2]  # the third line is torn: not counted


def test_summary_counts_what_is_written_and_says_why_a_run_stopped() -> None:
    summary = Summary()
    summary.add_written([invalid_verdict(), rich_verdict()])
    summary.unclosed_quotes.append(7)
    summary.stopped = "writing out.jsonl failed: No space left on device"
    data = summary.to_dict(elapsed=1.0)
    assert (data["records"], data["unclosed_quotes"], data["unclosed_quote_lines"]) == (2, 1, [7])
    text = render_summary(data)
    assert "STOPPED: writing out.jsonl failed: No space left on device" in text
    assert "1 CSV row(s) with a quote never closed: line 7" in text


# -- a CSV quote never closed --------------------------------------------------------------------


def unclosed(text: str) -> tuple[list[Record], list[int], CsvInput]:
    warned: list[int] = []
    source = CsvInput(io.StringIO(text, newline=""), warn=lambda line, _msg: warned.append(line))
    return list(source), warned, source


def test_an_unclosed_quote_in_the_url_column_loses_no_row() -> None:
    rows = "".join(f"http://h{i}.example/,{i}\n" for i in range(3, 1001))
    text = 'url,n\nhttp://h1.example/,1\n"http://h2.example/,2\n' + rows
    records, warned, source = unclosed(text)
    assert len(records) == 1000
    assert [r.number for r in records] == list(range(1, 1001))
    assert warned == source.broken_lines == [3]  # the physical line, header counted
    broken = records[1]
    assert broken.problem is not None and broken.problem.code == "bad_url"
    assert "line 3" in broken.problem.message and "never closed" in broken.problem.message
    assert broken.url == '"http://h2.example/'
    assert [r.url for r in records[2:4]] == ["http://h3.example/", "http://h4.example/"]
    assert all(r.problem is None for r in records[2:])


def test_an_unclosed_quote_in_another_column_swallowing_rows_is_found() -> None:
    text = (
        'id,url,note\n1,http://a.example/,"oops\n2,http://b.example/,fine\n3,http://c.example/,x\n'
    )
    records, warned, _ = unclosed(text)
    assert [(r.number, r.url, r.problem is None) for r in records] == [
        (1, "http://a.example/", False),
        (2, "http://b.example/", True),
        (3, "http://c.example/", True),
    ]
    assert warned == [2]


def test_an_unclosed_quote_at_the_end_of_the_input_is_found() -> None:
    records, warned, _ = unclosed('id,url,note\n1,http://a.example/,"it never\nends here\n')
    assert warned == [2]
    assert [r.url for r in records] == ["http://a.example/", ""]
    assert records[0].problem is not None


def test_a_quoted_multi_line_note_is_still_one_record() -> None:
    text = 'id,url,note\n1,http://a.example/,"two\nlines, with a comma"\n2,http://b.example/,x\n'
    records, warned, _ = unclosed(text)
    assert warned == []
    assert [r.url for r in records] == ["http://a.example/", "http://b.example/"]
    assert records[0].fields is not None
    assert records[0].fields["note"] == "two\nlines, with a comma"


# -- the header record ---------------------------------------------------------------------------


SOURCES = {
    "geoip_country": SourceInfo(name="DB-IP Lite", version="2026-11", origin="bundled"),
    "psl": SourceInfo(name="Public Suffix List", build_date="2026-11-01"),
}


def with_provenance(v: Verdict, sources: dict[str, SourceInfo]) -> Verdict:
    prov = Provenance(version="0.1.0", resolved_at="2026-12-04T00:00:00Z", elapsed_ms=1.0)
    return msgspec.structs.replace(v, provenance=msgspec.structs.replace(prov, sources=sources))


def test_the_header_record_carries_the_sources_once_and_lines_leave_them_out() -> None:
    header = BatchHeader(version="0.1.0", sources=SOURCES)
    head = batch.formats.header_line(header)
    obj = json.loads(head)
    assert (
        obj["schema"]
        == "hostlocate.batch/1"
        != json.loads(serialize.to_json(rich_verdict()))["schema"]
    )
    writer = JsonLinesWriter(header.sources)
    same = with_provenance(rich_verdict(), dict(SOURCES))
    other = with_provenance(rich_verdict(), {"psl": SourceInfo(name="another list")})
    lines = writer.format(Record(1, same.input), same) + writer.format(Record(2, "x"), other)
    first, second = lines.splitlines()
    assert json.loads(first)["provenance"]["sources"] == {}
    assert json.loads(second)["provenance"]["sources"]["psl"]["name"] == "another list"
    inline = JsonLinesWriter().format(Record(1, same.input), same)
    assert len(first) < len(inline) - 100
    assert serialize.from_json(first).provenance == msgspec.structs.replace(
        same.provenance, sources={}
    )


def test_jsonl_resume_point_reads_past_the_header_record() -> None:
    head = batch.formats.header_line(BatchHeader(version="0.1.0", sources=SOURCES))
    data = head + jsonl_output((i, f"u{i}") for i in range(1, 4))
    point = jsonl_resume_point(io.BytesIO(data + b'{"line":4,'))
    assert point == ResumePoint(3, len(data), 3, "u3", sources=SOURCES)
    only = jsonl_resume_point(io.BytesIO(head))
    assert only == ResumePoint(0, len(head), sources=SOURCES)
    assert jsonl_resume_point(io.BytesIO(head[:-9])) == ResumePoint(0, 0)


def test_usage_and_input_errors_are_in_the_error_tree() -> None:
    assert issubclass(UsageError, HostlocateError) and issubclass(UsageError, ValueError)
    assert issubclass(batch.InputError, HostlocateError)
    assert UsageError("x").code == ErrorCode.USAGE
    assert batch.InputError("x").code == ErrorCode.INPUT


def test_batch_failure_verdicts_use_the_decision_constants() -> None:
    assert batch.internal_verdict("x", "m").status == decide.UNRESOLVED
    problem = ErrorInfo(code="bad_url", message="m")
    assert batch.unreadable_verdict("x", problem).status == decide.INVALID
