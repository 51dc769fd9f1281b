"""Start-up: a run imports what it needs when it needs it (issue 13).

``hostlocate locate --no-rdap`` of an IP literal asks no resolver and no
registry: it must not pay for dnspython, the UDP transport, httpx, the batch
package, the data-update code or SQLite at every start. Each command runs in a
fresh interpreter, as a user runs it, and reports the modules it loaded.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import dns.resolver
import pytest

from hostlocate.errors import ConfigError
from hostlocate.sources._nameservers import DeferredClient, Nameserver, system_nameservers

_RUN = r"""
import json, sys

from hostlocate.cli import main

status = main(sys.argv[2:])
with open(sys.argv[1], "w", encoding="utf-8") as fh:
    json.dump({"status": status, "modules": sorted(sys.modules)}, fh)
"""

NOT_ON_LOCATE = (
    "dns",  # dnspython: no name to resolve
    "hostlocate.sources.dns",
    "hostlocate.sources._dns_transport",
    "hostlocate.sources._dns_wire",
    "httpx",  # RDAP is off
    "hostlocate.sources.rdap",
    "hostlocate.batch",
    "hostlocate.datasets.command",
    "hostlocate.datasets.download",
    "hostlocate.datasets.updating",
    "hostlocate.datasets.prepare",
    "hostlocate.datasets.exporting",
    "hostlocate.datasets.checks",
    "hostlocate.serialize",  # the JSON Schema, for `schema` only
    "hostlocate.store",
    "sqlite3",
    "tqdm",
    "redis",
    "tldextract",
)


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _command(tmp_path: Path, *args: str) -> tuple[dict[str, object], list[str], set[str]]:
    """Run ``hostlocate ARGS`` in a fresh interpreter: (its run, its verdicts, its modules)."""
    script, report = tmp_path / "run.py", tmp_path / "report.json"
    script.write_text(_RUN, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOSTLOCATE_")}
    env.update(HOME=str(tmp_path), PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run(
        [sys.executable, str(script), str(report), *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run = json.loads(report.read_text(encoding="utf-8"))
    modules = set(run["modules"])
    return run, done.stdout.splitlines(), modules


def _loaded(modules: set[str], name: str) -> bool:
    return name in modules or any(m.startswith(name + ".") for m in modules)


def test_locate_of_an_ip_literal_without_rdap_imports_no_dns_http_batch_or_update_code(
    tmp_path: Path,
) -> None:
    run, lines, modules = _command(tmp_path, "locate", "--no-rdap", "--json", "http://1.1.1.1/")
    assert run["status"] == 0
    verdict = json.loads(lines[0])
    assert verdict["status"] == "located" and verdict["addresses"][0]["ip"] == "1.1.1.1"
    assert [name for name in NOT_ON_LOCATE if _loaded(modules, name)] == []
    # What the verdict needs is there: the event loop and the geo database reader.
    assert {"asyncio", "maxminddb", "hostlocate.sources.geo"} <= modules


def test_the_first_name_to_resolve_brings_in_dnspython_and_the_transport(
    tmp_path: Path,
) -> None:
    nameserver = f"127.0.0.1:{_closed_port()}"
    _, lines, modules = _command(
        tmp_path, "locate", "--no-rdap", "--json", "--timeout", "2",
        "--nameserver", nameserver, "http://nothing.example/",
    )  # fmt: skip
    verdict = json.loads(lines[0])
    assert verdict["error"]["code"] == "dns_refused"
    assert verdict["provenance"]["resolvers"] == [nameserver]
    assert {"dns", "hostlocate.sources.dns", "hostlocate.sources._dns_transport"} <= modules
    assert not _loaded(modules, "httpx") and not _loaded(modules, "hostlocate.batch")


RESOLV_CONFS = {
    "plain": "nameserver 192.0.2.1\nnameserver 192.0.2.2\n",
    "comments and options": (
        "# written by a tool\n; another comment\nnameserver 192.0.2.1 # trailing\n"
        "options ndots:2 timeout:1 rotate\nsearch example.org example.net\n"
        "nameserver 2001:db8::53\n"
    ),
    "domain, blank and short lines": "domain example.org\n\nnameserver\nnameserver 198.51.100.7\n",
    "indented and tabbed": "  nameserver\t203.0.113.9\n",
}


@pytest.mark.parametrize("text", RESOLV_CONFS.values(), ids=RESOLV_CONFS.keys())
def test_system_resolvers_are_read_as_dnspython_reads_them(tmp_path: Path, text: str) -> None:
    path = tmp_path / "resolv.conf"
    path.write_text(text, encoding="utf-8")
    reference = dns.resolver.Resolver(configure=False)
    reference.read_resolv_conf(str(path))
    expected = [Nameserver(str(ns), int(reference.port)) for ns in reference.nameservers]
    assert system_nameservers(str(path)) == expected


def test_system_resolvers_missing_empty_or_not_addresses(tmp_path: Path) -> None:
    assert system_nameservers(str(tmp_path / "absent")) == []
    empty = tmp_path / "empty.conf"
    empty.write_text("# no resolver\noptions edns0\n", encoding="utf-8")
    assert system_nameservers(str(empty)) == []
    odd = tmp_path / "odd.conf"
    odd.write_text("nameserver resolver.example\nnameserver 192.0.2.1\n", encoding="utf-8")
    assert system_nameservers(str(odd)) == [Nameserver("192.0.2.1")]


def test_deferred_client_names_and_checks_its_resolvers_before_any_query() -> None:
    client = DeferredClient(["192.0.2.1", "[2001:db8::1]:5353"], query_timeout=1.0)
    assert client.resolver_names == ("192.0.2.1:53", "[2001:db8::1]:5353")
    assert client._client is None  # nothing made, nothing imported yet
    assert client.client.nameservers == client.nameservers  # made on first use, once
    assert client.client is client.client
    with pytest.raises(ConfigError):
        DeferredClient(["resolver.example"], query_timeout=1.0)
    with pytest.raises(ConfigError):
        DeferredClient(["192.0.2.1"], query_timeout=0)
