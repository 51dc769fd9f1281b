"""Run the RDAP lab by hand: ``python -m tests.rdaplab [WORKDIR]``; Ctrl-C stops it."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from tests.rdaplab.lab import start_rdap_lab


def main(argv: list[str]) -> int:
    workdir = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="rdap_lab-"))
    with start_rdap_lab(workdir) as lab:
        print(f"RDAP lab at {lab.base_url}/<registry>/  bootstrap: {lab.bootstrap_dir}")
        print(f"counts: {lab.base_url}/_lab/counts")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
