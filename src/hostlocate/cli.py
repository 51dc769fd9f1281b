"""The ``hostlocate`` command: parse, locate, batch, data, schema.

The one home of the command line: its options (argparse), its exit statuses
(:class:`ExitStatus`) and how verdicts are shown to a person (:func:`render`).
Library errors map to exit statuses here and nowhere else: a usage or
configuration error is 2, a data error or a failure midway is 1, Ctrl-C is
130, and a reader that goes away (``| head``) ends the command quietly with
141, as a Unix tool killed by SIGPIPE does.
"""

from __future__ import annotations

import argparse
import enum
import functools
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import msgspec

from hostlocate import _log
from hostlocate.errors import ConfigError, DataError, InvalidURLError, UsageError
from hostlocate.models import Report, Verdict

if TYPE_CHECKING:
    from hostlocate.locator import Locator


class ExitStatus(enum.IntEnum):
    """The exit statuses of every ``hostlocate`` command."""

    OK = 0
    """Every input produced a verdict (whatever its status)."""
    FAILURE = 1
    """The locator could not be built (a bad data file), or reading or writing failed midway."""
    USAGE = 2
    """Bad options, unreadable input, an output that cannot be written or is in use."""
    INTERRUPTED = 130
    """Ctrl-C (SIGINT), as a shell reports it: 128 + 2."""
    PIPE_CLOSED = 141
    """The reader of the output went away: 128 + SIGPIPE, as ``yes | head`` ends ``yes``."""


# -- options ----------------------------------------------------------------------------------


def _positive(convert: type[int] | type[float], text: str) -> int | float:
    try:
        value = convert(text)
    except ValueError:
        kind = "whole number" if convert is int else "number"
        raise argparse.ArgumentTypeError(f"not a {kind}: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _rate(text: str) -> tuple[str, float]:
    """``REGISTRY=PER_SECOND``, the registry one the rate limiter knows."""
    from hostlocate.sources._rdap_ratelimit import DEFAULT_RATE_LIMITS

    name, sep, value = text.partition("=")
    try:
        rate = float(value)
    except ValueError:
        rate = -1.0
    if not sep or not name.strip() or not rate > 0:
        raise argparse.ArgumentTypeError(f"expected REGISTRY=PER_SECOND, got {text!r}")
    name = name.strip().lower()
    if name not in DEFAULT_RATE_LIMITS:
        known = ", ".join(sorted(DEFAULT_RATE_LIMITS))
        raise argparse.ArgumentTypeError(f"no registry {name!r}: known are {known}")
    return name, rate


def _add_repeatable(
    group: argparse._ActionsContainer, flag: str, metavar: str, text: str, **kw: Any
) -> None:
    """An option given any number of times; its values collect in a list (empty if none)."""
    group.add_argument(flag, action="append", default=[], metavar=metavar, help=text, **kw)


def _add_locator_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("sources")
    g.add_argument(
        "--nameserver",
        action="append",
        metavar="HOST[:PORT]",
        help="recursive resolver to ask (repeatable); default: the system's",
    )
    g.add_argument(
        "--rdap-bootstrap",
        metavar="DIR",
        help="folder of IANA-format RDAP bootstrap files (ipv4.json, ipv6.json, asn.json, "
        "dns.json), used as given; default: the bundled one for addresses, or the copy "
        "`hostlocate data update rdap_bootstrap` downloaded",
    )
    for kind in ("country", "ASN"):
        g.add_argument(
            f"--geoip-{kind.lower()}", metavar="PATH", help=f"MaxMind-format {kind} database"
        )
    g.add_argument("--no-rdap", action="store_true", help="skip registration (RDAP) look-ups")
    _add_repeatable(
        g,
        "--rdap-rate",
        "REGISTRY=PER_SECOND",
        "requests a second allowed to an RDAP registry (arin, ripe, apnic, lacnic, "
        "afrinic, or * for any other); repeatable; default: the registries' published limits",
        type=_rate,
    )
    g.add_argument(
        "--data-dir",
        metavar="DIR",
        help="read every data set from DIR (a folder with a MANIFEST.json, e.g. from "
        "`hostlocate data export`): pinned data for reproducible verdicts",
    )
    g.add_argument(
        "--timeout",
        type=functools.partial(_positive, float),
        default=5.0,
        metavar="SECONDS",
        help="time budget for one URL (default 5)",
    )


def _add_batch_options(parser: argparse.ArgumentParser) -> None:
    from hostlocate.batch import DEFAULT_CONCURRENCY

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
    g.add_argument(
        "--origin-column",
        metavar="NAME",
        help="CSV column of origin addresses an intermediary disclosed (';' or space apart)",
    )
    g = parser.add_argument_group("output")
    g.add_argument(
        "--format",
        choices=("jsonl", "csv"),
        help="jsonl (default) or csv (default when OUTPUT ends in .csv)",
    )
    g.add_argument(
        "--inline-sources",
        action="store_true",
        help="JSON lines: keep the data sources in every verdict instead of writing them "
        "once in a first header record",
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
        type=functools.partial(_positive, int),
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
        metavar="PATH|URL",
        help="persistent cache: a SQLite file (default: cache.sqlite3 in the user's cache "
        "folder), or redis://HOST:PORT/DB (rediss:// for TLS) shared by many workers",
    )
    cache.add_argument(
        "--no-cache", action="store_true", help="keep answers in memory only, for this run"
    )


COMMANDS = ("parse", "locate", "batch", "data", "schema")
"""The subcommands, in the order ``--help`` lists them."""


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of the command line.

    Given ``argv``, only the options of the command it names are added: the
    ``batch`` and ``data`` options import their packages (defaults, choices),
    which a ``locate`` or ``parse`` must not pay for at every start. Without a
    command named (``--help``, no arguments) every command gets its options.
    """
    parser = argparse.ArgumentParser(
        prog="hostlocate",
        description="Where is a reported URL hosted, and whose jurisdiction is it?",
    )
    from hostlocate import __version__

    parser.add_argument("--version", action="version", version=f"hostlocate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    named = next((arg for arg in argv or () if not arg.startswith("-")), None)
    wanted = {named} if named in COMMANDS else set(COMMANDS)

    p = sub.add_parser("parse", help="parse reported URLs (no network)")
    if "parse" in wanted:
        p.add_argument("urls", nargs="+", metavar="URL", help="reported URLs, or - for stdin")
        p.add_argument("--json", action="store_true", help="JSON lines instead of a table")

    p = sub.add_parser("locate", help="locate reported URLs: one verdict each")
    if "locate" in wanted:
        p.add_argument("urls", nargs="+", metavar="URL", help="reported URLs, or - for stdin")
        p.add_argument("--json", action="store_true", help="JSON lines instead of a readable table")
        _add_repeatable(
            p,
            "--origin",
            "IP",
            "an origin address the CDN or proxy disclosed (repeatable): it decides",
        )
        _add_locator_options(p)

    p = sub.add_parser("batch", help="locate a file of reported URLs (the exchange path)")
    if "batch" in wanted:
        _add_batch_options(p)
        _add_locator_options(p)

    p = sub.add_parser("data", help="bundled and downloaded data: status, update")
    if "data" in wanted:
        from hostlocate import datasets

        datasets.add_arguments(p)

    sub.add_parser("schema", help="print the JSON Schema of a verdict")
    return parser


# -- running ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit status (see :class:`ExitStatus`)."""
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if exc.code in (0, None) else ExitStatus.USAGE
    prefix = "hostlocate batch" if args.command == "batch" else "hostlocate"
    # The library's warnings (a registry set aside, a damaged data file) reach the
    # person at the terminal; records name inputs only by reference (see _log).
    warnings = logging.StreamHandler(sys.stderr)
    warnings.setLevel(logging.WARNING)
    warnings.setFormatter(logging.Formatter(f"{prefix}: %(message)s"))
    library = logging.getLogger(_log.ROOT)
    library.addHandler(warnings)
    try:
        return _dispatch(args)
    except (UsageError, ConfigError) as exc:
        sys.stderr.write(f"{prefix}: {exc}\n")
        return ExitStatus.USAGE
    except DataError as exc:
        sys.stderr.write(f"{prefix}: {exc}\n")
        return ExitStatus.FAILURE
    except KeyboardInterrupt:
        sys.stderr.write(f"\n{prefix}: interrupted\n")
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        return _stdout_gone(ExitStatus.PIPE_CLOSED)
    except OSError as exc:  # a write to stdout failed: a full disk, an I/O error
        sys.stderr.write(f"{prefix}: {exc.strerror or exc}\n")
        return _stdout_gone(ExitStatus.FAILURE)
    finally:
        library.removeHandler(warnings)


def _dispatch(args: argparse.Namespace) -> int:
    out = sys.stdout
    if args.command == "schema":
        import json

        from hostlocate import serialize

        json.dump(serialize.json_schema(), out, indent=2, sort_keys=True)
        out.write("\n")
        out.flush()
        return ExitStatus.OK
    if args.command == "parse":
        return _parse_command(args, out)
    if args.command == "data":
        from hostlocate import datasets

        return datasets.run(args)
    if args.command == "batch":
        return _batch_command(args)
    return _locate_command(args, out)


def _stdout_gone(status: ExitStatus) -> int:
    """Stdout cannot be written: no second error when Python flushes it at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout is not a file (tests)
        pass
    return status


def _inputs(args: Sequence[str], stdin: TextIO) -> Iterator[str]:
    """The URLs given, each ``-`` replaced by the non-blank lines of stdin."""
    for arg in args:
        if arg == "-":
            from hostlocate.batch.records import open_text  # the batch reader, when needed

            with open_text("-", csv_mode=False, stdin=stdin) as lines:
                for line in lines:
                    line = line.rstrip("\r\n")
                    if line.strip():
                        yield line
        else:
            yield arg


def _parse_command(args: argparse.Namespace, out: TextIO) -> int:
    from hostlocate.parse import parse_reported_url

    for text in _inputs(args.urls, sys.stdin):
        try:
            parsed = parse_reported_url(text)
        except InvalidURLError as exc:
            record: dict[str, Any] = {
                "input": text,
                "error": {"code": exc.code.value, "message": exc.message},
            }
        else:
            record = msgspec.to_builtins(parsed)
        if args.json:
            import json  # only this output and `schema` use it

            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            out.write(_render_parsed(record))
        out.flush()
    return ExitStatus.OK


def _render_parsed(record: dict[str, Any]) -> str:
    """A parse result (or its error) as readable lines: ``key  value``, no Python reprs."""
    lines = [record["input"]]
    error = record.get("error")
    if error is not None:
        lines.append(f"  {'error':24} {error['code']}: {error['message']}")
    for key, value in record.items():
        if key in ("input", "error"):
            continue
        if value is None:
            shown = "-"
        elif isinstance(value, bool):
            shown = "yes" if value else "no"
        else:
            shown = str(value)
        lines.append(f"  {key:24} {shown}")
    return "\n".join(lines) + "\n"


def make_locator(args: argparse.Namespace, **extra: Any) -> Locator:
    """The locator the command-line options describe; ``extra`` adds constructor options."""
    from hostlocate.locator import Locator

    if args.rdap_rate:
        extra.setdefault("rdap_options", {})["rate_limits"] = dict(args.rdap_rate)
    return Locator(
        args.nameserver,
        rdap=not args.no_rdap,
        rdap_bootstrap=args.rdap_bootstrap,
        geoip_country=args.geoip_country,
        geoip_asn=args.geoip_asn,
        timeout=args.timeout,
        data_dir=args.data_dir,
        **extra,
    )


def _locate_command(args: argparse.Namespace, out: TextIO) -> int:
    from hostlocate._interrupt import Interrupted, ctrl_c_stops_reading

    with make_locator(args) as locator:
        inputs: Iterator[str | Report] = _inputs(args.urls, sys.stdin)
        if args.origin:
            origin = tuple(args.origin)
            inputs = (Report(url, origin) for url in _inputs(args.urls, sys.stdin))
        verdicts = locator.locate_many(inputs)
        ended = False
        try:
            with ctrl_c_stops_reading():
                for verdict in verdicts:
                    out.write(verdict.to_json() + "\n" if args.json else render(verdict))
                    out.flush()
            ended = True
        except Interrupted:
            raise KeyboardInterrupt from None  # the stream has ended; main() reports it
        finally:
            close = getattr(verdicts, "close", None)
            if not ended and close is not None:
                # Left midway (a closed pipe, a full disk): the stream ends here, while
                # the locator still runs, not when the traceback lets go of it.
                close()
    return ExitStatus.OK


def _batch_command(args: argparse.Namespace) -> int:
    from hostlocate.batch import BatchOptions, Outcome, run_batch

    csv_in = bool(args.csv) or (args.input != "-" and args.input.lower().endswith(".csv"))
    fmt = args.format or ("csv" if args.output.lower().endswith(".csv") else "jsonl")
    progress = args.progress
    opts = BatchOptions(
        input=args.input,
        output=args.output,
        csv_in=csv_in,
        csv_out=fmt == "csv",
        column=args.column,
        delimiter=args.delimiter,
        resume=args.resume,
        concurrency=args.concurrency,
        progress=bool(sys.stderr.isatty() if progress is None else progress),
        cache=args.cache,
        use_cache=not args.no_cache,
        summary_json=args.summary_json,
        inline_sources=args.inline_sources,
        origin_column=args.origin_column,
    )
    result = run_batch(opts, functools.partial(make_locator, args))
    sys.stderr.write(render_summary(result.summary))
    outcome = result.outcome
    if outcome is Outcome.OUTPUT_CLOSED:
        return _stdout_gone(ExitStatus.PIPE_CLOSED)
    if outcome is Outcome.FAILED and opts.output == "-":
        return _stdout_gone(ExitStatus.FAILURE)  # what stdout still holds cannot be written
    return {
        Outcome.COMPLETE: ExitStatus.OK,
        Outcome.FAILED: ExitStatus.FAILURE,
        Outcome.INTERRUPTED: ExitStatus.INTERRUPTED,
    }[outcome]


def render(v: Verdict) -> str:
    """A verdict as a few readable lines for an analyst at a terminal."""
    lines = [v.input]
    j = v.jurisdiction
    head = f"  status     {v.status}"
    if v.error is not None:
        head += f" ({v.error.code}: {v.error.message})"
    lines.append(head)
    if v.url is not None:
        lines.append(f"  url        {v.url.normalized}")
        if v.url.host_unicode != v.url.host:
            lines.append(f"  host       {v.url.host_unicode}  ({v.url.host})")
        if v.url.registered_domain:
            lines.append(f"  domain     {v.url.registered_domain}")
    if v.dns is not None and len(v.dns.cname_chain) > 1:
        lines.append("  cnames     " + " -> ".join(v.dns.cname_chain))
    for a in v.addresses:
        bits = [a.country or "??"]
        if a.asn:
            bits.append(f"AS{a.asn} {a.as_org or ''}".strip())
        if a.provider:
            bits.append(f"{a.provider.name} ({a.provider.kind})")
        if a.network and a.network.cidr:
            bits.append(f"{a.network.rir or ''} {a.network.cidr}".strip())
        if not a.public:
            bits = [a.category or "not public"]
        lines.append(f"  address    {a.ip}  " + ", ".join(bits))
    country = j.country or "-"
    lines.append(f"  country    {country}  confidence {j.confidence}  basis {j.basis}")
    if j.flags:
        lines.append("  flags      " + ", ".join(j.flags))
    lines.extend(f"  reason     {reason}" for reason in j.reasons)
    for h in v.routing.hotlines:
        lines.append(f"  hotline    {h.name} ({h.country})" + ("" if h.certain else " [unsure]"))
    if v.routing.next_step:
        lines.append(f"  next step  {v.routing.next_step}")
    for c in v.routing.notice_contacts:
        lines.append(f"  notice     {c.role}: {c.email or c.url or c.name}")
    return "\n".join(lines) + "\n\n"


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


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
