"""The naive per-record pipeline that ``bench_batch.py`` compares hostlocate with.

Per record, what a script written without hostlocate does: refang and split
the URL, ``socket.getaddrinfo`` the host, look each address up with geoip2
(ASN) and maxminddb (country), and ask ``ipwhois.IPWhois(ip).lookup_rdap()``
for the holder, with nothing cached between records.

It must reach only the loopback test internet, so ``bench_batch.py`` runs it:

* in a private mount namespace whose ``/etc/resolv.conf`` names 127.0.0.1,
  where a latency forwarder (``forward53`` below) listens on port 53 in front of
  the lab's unbound: ``getaddrinfo`` (glibc) and ipwhois's own dnspython
  resolver both read that file, and neither can be given a port;
* with ipwhois's per-registry RDAP URLs pointed at the RDAP lab and its ASN
  look-up restricted to DNS (Team Cymru's ``origin.asn.cymru.com`` TXT, which
  the DNS lab answers for the bulk networks), so that it never falls back to
  whois on port 43 or to HTTP elsewhere;
* under an audit hook that ends the process at once if any socket connects or
  sends to an address outside 127.0.0.0/8.

Modes (run by ``bench_batch.py``, not by hand):

    python _naive.py forward53 --upstream 127.0.0.1:PORT --latency-ms 30
    python _naive.py run --input FILE --rdap-base URL --country-db PATH --asn-db PATH
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import os
import resource
import socket
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FORWARD_PORT = 53
"""glibc's resolver and ipwhois's only ever ask port 53."""

# -- the loopback guard ------------------------------------------------------------------------

_checked = {"connections": 0}


def _is_loopback(host: object) -> bool:
    if not isinstance(host, str):
        return False
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _guard(event: str, args: tuple[Any, ...]) -> None:
    """Abort the whole process on any traffic that would leave loopback."""
    if event not in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        return
    address = args[1] if len(args) > 1 else None
    if isinstance(address, tuple) and address:
        if not _is_loopback(address[0]):
            os.write(2, f"naive baseline: {event} to {address!r} refused: aborting\n".encode())
            os._exit(3)
        _checked["connections"] += 1


def install_guard() -> None:
    sys.addaudithook(_guard)


def _resolv_conf_is_loopback() -> list[str]:
    servers = []
    with open("/etc/resolv.conf", encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver":
                servers.append(parts[1])
    if not servers or not all(_is_loopback(s) for s in servers):
        raise SystemExit(f"naive baseline: /etc/resolv.conf names {servers}, not loopback only")
    return servers


# -- the pipeline ------------------------------------------------------------------------------


def _host_of(text: str) -> str | None:
    """The host, as a script would find it: undo the usual defanging, then urlsplit."""
    text = text.strip().replace("hxxp", "http").replace("hXXp", "http").replace("[.]", ".")
    if "://" not in text:
        text = "http://" + text
    return urllib.parse.urlsplit(text).hostname


class NaivePipeline:
    """getaddrinfo + geoip2 + maxminddb + ipwhois per record, nothing kept between records."""

    def __init__(self, country_db: str, asn_db: str) -> None:
        import geoip2.database
        import maxminddb
        from ipwhois import IPWhois

        self.ipwhois = IPWhois  # imported here: its import cost is not per record
        self.asn_reader = geoip2.database.Reader(asn_db)
        self.geoip2_country_note = "geoip2 read the country database"
        try:
            geoip2.database.Reader(country_db).country("193.0.6.139")
        except (TypeError, ValueError) as exc:
            # DB-IP's flat {"country_code": ...} file is not a GeoIP2 Country database.
            self.geoip2_country_note = f"geoip2 refuses the DB-IP country file ({exc}): maxminddb"
        self.country_reader = maxminddb.open_database(country_db)

    def locate(self, url: str) -> dict[str, Any]:
        out: dict[str, Any] = {"input": url, "addresses": []}
        host = _host_of(url)
        if not host:
            out["error"] = "no host"
            return out
        out["host"] = host
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError as exc:
            out["error"] = f"getaddrinfo: {exc}"
            return out
        for ip in sorted({str(info[4][0]) for info in infos}):
            entry: dict[str, Any] = {"ip": ip}
            try:
                asn = self.asn_reader.asn(ip)
                entry["asn"] = asn.autonomous_system_number
                entry["as_org"] = asn.autonomous_system_organization
            except Exception as exc:  # geoip2.errors.AddressNotFoundError and kin
                entry["asn_error"] = repr(exc)
            record = self.country_reader.get(ip)
            entry["country"] = record.get("country_code") if isinstance(record, dict) else None
            try:
                rdap = self.ipwhois(ip, timeout=5).lookup_rdap(asn_methods=["dns"], depth=0)
            except Exception as exc:
                entry["rdap_error"] = repr(exc)
            else:
                network = rdap.get("network") or {}
                entry["network"] = {k: network.get(k) for k in ("cidr", "name", "country")}
                entry["rdap_asn"] = rdap.get("asn")
                entry["abuse_emails"] = sorted(
                    email["value"]
                    for obj in (rdap.get("objects") or {}).values()
                    if "abuse" in (obj.get("roles") or [])
                    for email in ((obj.get("contact") or {}).get("email") or [])
                )
            out["addresses"].append(entry)
        return out


def _point_ipwhois_at(rdap_base: str) -> None:
    from ipwhois import rdap

    for registry, lab_path in (
        ("arin", "arin"),
        ("ripencc", "ripe"),
        ("apnic", "apnic"),
        ("lacnic", "lacnic"),
        ("afrinic", "afrinic"),
    ):
        rdap.RIR_RDAP[registry] = {
            "ip_url": f"{rdap_base}/{lab_path}/ip/{{0}}",
            "entity_url": f"{rdap_base}/{lab_path}/entity/{{0}}",
        }
    rdap.BOOTSTRAP_URL = f"{rdap_base}/arin"


def run(args: argparse.Namespace) -> None:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        os.environ.pop(name, None)
    servers = _resolv_conf_is_loopback()
    install_guard()
    _point_ipwhois_at(args.rdap_base.rstrip("/"))
    pipeline = NaivePipeline(args.country_db, args.asn_db)
    urls = Path(args.input).read_text(encoding="utf-8").splitlines()
    statuses = {"with_network": 0, "no_network": 0, "failed": 0}
    first: dict[str, Any] | None = None
    started = time.perf_counter()
    for url in urls:
        result = pipeline.locate(url)
        json.dumps(result)  # the record a script would write
        if first is None:
            first = result
        if result.get("error"):
            statuses["failed"] += 1
        elif result["addresses"] and all("network" in a for a in result["addresses"]):
            statuses["with_network"] += 1
        else:
            statuses["no_network"] += 1
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "records": len(urls),
                "elapsed_s": elapsed,
                "records_per_s": len(urls) / elapsed if elapsed else None,
                "statuses": statuses,
                "resolv_conf": servers,
                "loopback_connections_checked": _checked["connections"],
                "geoip2_country_note": pipeline.geoip2_country_note,
                "first_result": first,
                "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        ),
        flush=True,
    )


# -- a latency forwarder on 127.0.0.1:53 ----------------------------------------------------------


async def _forward(upstream: tuple[str, int], latency_ms: float) -> None:
    sys.path.insert(0, str(REPO))
    from tests.netlab import relays

    loop = asyncio.get_running_loop()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        udp.bind((relays.HOST, FORWARD_PORT))
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        tcp.bind((relays.HOST, FORWARD_PORT))
    except OSError as exc:
        print(f"error: {relays.HOST}:{FORWARD_PORT} is taken ({exc})", flush=True)
        return
    tcp.listen(128)
    udp.setblocking(False)
    tcp.setblocking(False)
    delay = latency_ms / 1000.0
    # The lab's own forwarder, bound to the one port a resolv.conf can name.
    _, up = await loop.create_datagram_endpoint(relays._Upstream, remote_addr=upstream)
    await loop.create_datagram_endpoint(lambda: relays._DelayingUdp(up, delay), sock=udp)
    server = await asyncio.start_server(relays._delaying_tcp(upstream, delay), sock=tcp)
    print(FORWARD_PORT, flush=True)
    with contextlib.suppress(OSError):
        await relays._until_stdin_closes()
    server.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    forward = sub.add_parser("forward53", help="latency forwarder on 127.0.0.1:53")
    forward.add_argument("--upstream", required=True, metavar="HOST:PORT")
    forward.add_argument("--latency-ms", type=float, default=30.0)
    go = sub.add_parser("run", help="run the naive pipeline over a file of URLs")
    go.add_argument("--input", required=True)
    go.add_argument("--rdap-base", required=True)
    go.add_argument("--country-db", required=True)
    go.add_argument("--asn-db", required=True)
    args = parser.parse_args(argv)
    if args.mode == "forward53":
        host, _, port = args.upstream.rpartition(":")
        asyncio.run(_forward((host, int(port)), args.latency_ms))
    else:
        run(args)


if __name__ == "__main__":
    main()
