"""The ``hostlocate`` command: parse, locate, batch, data, schema.

Exit status: 0 when every input produced a verdict (whatever its status),
2 for a usage error, 1 when the locator could not be built (bad data file).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import msgspec

from hostlocate import serialize
from hostlocate.errors import ConfigError, DataError, InvalidURLError
from hostlocate.models import Verdict

if TYPE_CHECKING:
    from hostlocate.locator import Locator

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


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
        "dns.json); default: IANA's, fetched and cached",
    )
    g.add_argument("--geoip-country", metavar="PATH", help="MaxMind-format country database")
    g.add_argument("--geoip-asn", metavar="PATH", help="MaxMind-format ASN database")
    g.add_argument("--no-rdap", action="store_true", help="skip registration (RDAP) look-ups")
    g.add_argument(
        "--rdap-rate",
        action="append",
        default=[],
        metavar="REGISTRY=PER_SECOND",
        type=_rate,
        help="requests a second allowed to an RDAP registry (arin, ripe, apnic, lacnic, "
        "afrinic, or * for any other); repeatable; default: the registries' published limits",
    )
    g.add_argument(
        "--data-dir",
        metavar="DIR",
        help="read every data set from DIR (a folder with a MANIFEST.json, e.g. from "
        "`hostlocate data export`): pinned data for reproducible verdicts",
    )
    g.add_argument(
        "--timeout",
        type=_positive_float,
        default=5.0,
        metavar="SECONDS",
        help="time budget for one URL (default 5)",
    )


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _rate(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    try:
        rate = float(value)
    except ValueError:
        rate = -1.0
    if not sep or not name.strip() or not rate > 0:
        raise argparse.ArgumentTypeError(f"expected REGISTRY=PER_SECOND, got {text!r}")
    return name.strip().lower(), rate


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hostlocate",
        description="Where is a reported URL hosted, and whose jurisdiction is it?",
    )
    from hostlocate import __version__

    parser.add_argument("--version", action="version", version=f"hostlocate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("parse", help="parse reported URLs (no network)")
    p.add_argument("urls", nargs="+", metavar="URL", help="reported URLs, or - for stdin")
    p.add_argument("--json", action="store_true", help="JSON lines instead of a table")

    p = sub.add_parser("locate", help="locate reported URLs: one verdict each")
    p.add_argument("urls", nargs="+", metavar="URL", help="reported URLs, or - for stdin")
    p.add_argument("--json", action="store_true", help="JSON lines instead of a readable table")
    _add_locator_options(p)

    p = sub.add_parser("batch", help="locate a file of reported URLs (the exchange path)")
    from hostlocate import batch

    batch.add_arguments(p)
    _add_locator_options(p)

    p = sub.add_parser("data", help="bundled and downloaded data: status, update")
    from hostlocate import datasets

    datasets.add_arguments(p)

    sub.add_parser("schema", help="print the JSON Schema of a verdict")
    return parser


def _inputs(args: Sequence[str], stdin: TextIO) -> Iterator[str]:
    for arg in args:
        if arg == "-":
            for line in stdin:
                line = line.rstrip("\r\n")
                if line.strip():
                    yield line
        else:
            yield arg


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if exc.code in (0, None) else EXIT_USAGE
    out = sys.stdout
    if args.command == "schema":
        json.dump(serialize.json_schema(), out, indent=2, sort_keys=True)
        out.write("\n")
        return EXIT_OK
    if args.command == "parse":
        return _parse_command(args, out)
    if args.command == "data":
        from hostlocate import datasets

        return datasets.run(args)
    if args.command == "batch":
        from hostlocate import batch

        return batch.run(args, make_locator)
    return _locate_command(args, out)


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
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            out.write(f"{text}\n")
            for key, value in record.items():
                if key != "input":
                    out.write(f"  {key:24} {value}\n")
    return EXIT_OK


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
    try:
        locator = make_locator(args)
    except ConfigError as exc:
        sys.stderr.write(f"hostlocate: {exc}\n")
        return EXIT_USAGE
    except DataError as exc:
        sys.stderr.write(f"hostlocate: {exc}\n")
        return EXIT_FAILURE
    with locator:
        for verdict in locator.locate_many(_inputs(args.urls, sys.stdin)):
            if args.json:
                out.write(verdict.to_json() + "\n")
            else:
                out.write(render(verdict))
            out.flush()
    return EXIT_OK


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
    for h in v.routing.hotlines:
        lines.append(f"  hotline    {h.name} ({h.country})" + ("" if h.certain else " [unsure]"))
    if v.routing.next_step:
        lines.append(f"  next step  {v.routing.next_step}")
    for c in v.routing.notice_contacts:
        lines.append(f"  notice     {c.role}: {c.email or c.url or c.name}")
    return "\n".join(lines) + "\n\n"


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
