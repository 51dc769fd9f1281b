"""The RDAP half of the loopback test internet: registry-shaped RDAP on 127.0.0.1.

`start_rdap_lab(workdir)` starts it; `fixtures.py` offers it to pytest as the
session fixture `rdap_lab`; `python -m tests.rdaplab` runs it by hand. It
serves the real recorded responses of `<repo>/../shared/data/rdap-responses/`
in place, the responses written in `responses/`, and generated networks for
the benchmark ranges, and writes an IANA-format bootstrap folder pointing at
itself. See docs/rdap.md.
"""

import math
from typing import Any

from tests.rdaplab.catalogue import DEFAULT_GENERATED, Catalogue, GeneratedRange, shared_data_dir
from tests.rdaplab.lab import LabUnavailable, RdapLab, start_rdap_lab

NO_RATE_LIMITS: dict[str, Any] = {"rate_limits": {"*": math.inf}}
"""``rdap_options`` for a locator aimed at the lab: loopback registries need no
budget, and the published ones would only make tests wait."""

__all__ = [
    "DEFAULT_GENERATED",
    "NO_RATE_LIMITS",
    "Catalogue",
    "GeneratedRange",
    "LabUnavailable",
    "RdapLab",
    "shared_data_dir",
    "start_rdap_lab",
]
