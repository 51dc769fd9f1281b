"""The RDAP lab's server process: ``python -m tests.rdaplab.child WORKDIR DATA_DIR GENERATED``.

Binds a free loopback port, builds what it serves, writes the bootstrap folder
and a PID file into WORKDIR, prints one JSON line (origin, bootstrap folder)
on stdout, then serves until its stdin closes: the parent holds the other end,
so the lab ends with the test session even if the parent dies.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import threading
from pathlib import Path

from tests.rdaplab.bootstrap_writer import RIRS, write_bootstrap
from tests.rdaplab.catalogue import Catalogue, GeneratedRange
from tests.rdaplab.server import LabServer

DOMAIN_REGISTRIES = ("verisign", "afnic", "nominet", "denic", "markmonitor", "norid")


async def serve(workdir: Path, data: Path, generated: list[GeneratedRange]) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    origin = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = LabServer(sock, origin)
    bases = {name: f"{origin}/{name}/" for name in (*RIRS, *DOMAIN_REGISTRIES)}
    catalogue = Catalogue(data / "rdap-responses", bases=bases, generated=generated)
    server.catalogue = catalogue
    server.bootstrap_dir = write_bootstrap(
        workdir / "bootstrap",
        base=origin,
        iana_dir=data / "rdap-bootstrap",
        domain_registries=catalogue.domain_registries,
    )
    (workdir / "rdap-lab.pid").write_text(f"{os.getpid()}\n")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def watch_stdin() -> None:
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()
    print(json.dumps({"origin": origin, "bootstrap_dir": str(server.bootstrap_dir)}), flush=True)
    await server.run(stop)


def main(argv: list[str]) -> int:
    workdir, data, spec = Path(argv[0]), Path(argv[1]), json.loads(argv[2])
    generated = [GeneratedRange(**item) for item in spec]
    asyncio.run(serve(workdir, data, generated))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
