"""Run the DNS lab by hand: `python -m tests.netlab [--latency-ms 30]`.

Prints the addresses and serves until Ctrl-C (or SIGTERM).
"""

from __future__ import annotations

import argparse
import signal
import tempfile
import threading
from pathlib import Path

from tests.netlab.lab import start_dns_lab


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.netlab", description=__doc__)
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="also start a forwarder with this delay"
    )
    parser.add_argument(
        "--workdir", type=Path, help="keep configs and logs here (default: a temp folder)"
    )
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with (
        tempfile.TemporaryDirectory(prefix="netlab-") as tmp,
        start_dns_lab(args.workdir or Path(tmp), latency_ms=args.latency_ms) as lab,
    ):
        print(f"resolver      {lab.resolver}")
        print(f"authoritative {lab.authoritative}")
        print(f"blackhole     {lab.blackhole}")
        if lab.slow:
            print(f"slow          {lab.slow}  (+{args.latency_ms:g} ms)")
        print(f"workdir       {lab.workdir}")
        print("Ctrl-C to stop", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
