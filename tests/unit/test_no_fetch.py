"""README's promise, run as a user would: the default ``hostlocate locate`` fetches no data,
writes no file and loads no data-update code.

The command runs in a subprocess with a fresh home, cache and data folder and no
route out: every connection, datagram or name look-up to anything but loopback
is refused and logged, and the system's resolvers are a closed loopback port.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from hostlocate import _resources

_GUARD = r"""
import ipaddress, json, socket, sys

import dns.resolver

LOG, PORT = sys.argv[1], int(sys.argv[2])


def _note(kind, where):
    with open(LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps([kind, str(where)]) + "\n")


def _loopback(host):
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return str(host) == "localhost"


def _guarded(kind, original, position):
    def guard(self, *args):
        address = args[position]
        if isinstance(address, tuple) and not _loopback(address[0]):
            _note(kind, address[0])
            raise OSError(101, "network is unreachable (denied by the test)")
        return original(self, *args)

    return guard


socket.socket.connect = _guarded("connect", socket.socket.connect, 0)
socket.socket.connect_ex = _guarded("connect", socket.socket.connect_ex, 0)
socket.socket.sendto = _guarded("sendto", socket.socket.sendto, -1)
_getaddrinfo = socket.getaddrinfo


def getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and not _loopback(name):
        _note("resolve", name)
        raise socket.gaierror(socket.EAI_NONAME, "name resolution denied by the test")
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = getaddrinfo


def read_resolv_conf(self, f):
    self.nameservers = ["127.0.0.1"]
    self.port = PORT


dns.resolver.Resolver.read_resolv_conf = read_resolv_conf

from hostlocate.sources import _nameservers

_nameservers.system_nameservers = lambda *a: [_nameservers.Nameserver("127.0.0.1", PORT)]

from hostlocate.cli import main

status = main(["locate", "--json", *sys.argv[3:]])
for name in ("download", "updating", "prepare", "exporting", "checks"):
    if f"hostlocate.datasets.{name}" in sys.modules:
        _note("loaded", f"hostlocate.datasets.{name}")
sys.exit(status)
"""


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_the_default_locate_fetches_no_data_and_writes_no_file(tmp_path: Path) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    for folder in (home, work):
        folder.mkdir()
    guard, log = tmp_path / "guard.py", tmp_path / "attempts.jsonl"
    guard.write_text(_GUARD, encoding="utf-8")
    log.touch()
    bundled = _resources.data_dir()
    bundled_before = _tree(bundled)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HOSTLOCATE_", "XDG_")) and k not in {"HTTP_PROXY", "HTTPS_PROXY"}
    }
    env.update(HOME=str(home), PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run(
        [
            sys.executable,
            str(guard),
            str(log),
            str(_closed_port()),
            "http://193.0.6.139/report",
            "hxxp://www[.]example[.]com/x",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    verdicts = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(verdicts) == 2
    # No file anywhere in the fresh home (cache, data, config) or the working folder,
    # and nothing added to the bundled data.
    assert _tree(home) == [] and _tree(work) == []
    assert _tree(bundled) == bundled_before
    # Only registry look-ups were attempted, and only of the RDAP service the
    # bundled bootstrap names for that address: no data publisher, no IANA.
    attempts = {tuple(json.loads(line)) for line in log.read_text().splitlines()}
    loaded = {what for kind, what in attempts if kind == "loaded"}
    assert attempts - {("loaded", m) for m in loaded} <= {("resolve", "rdap.db.ripe.net")}
    # Nor is the data-update code loaded: `locate` builds no download (issue 13).
    assert loaded == set()
    # The RDAP bootstrap is the bundled snapshot, not a download.
    sources = verdicts[0]["provenance"]["sources"]
    assert sources["rdap_bootstrap"]["origin"] == "bundled"
