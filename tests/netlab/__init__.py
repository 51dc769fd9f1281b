"""The DNS half of the loopback test internet: NSD, unbound and two relays.

`start_dns_lab(workdir)` starts it; `fixtures.py` offers it to pytest as the
session fixture `dns_lab`; `python -m tests.netlab` runs it by hand.
See docs/test-internet.md.
"""

from tests.netlab.lab import DnsLab, LabError, LabUnavailable, split_address, start_dns_lab
from tests.netlab.zones import SCENARIOS, Scenario, bulk_address, bulk_name, bulk_network

__all__ = [
    "SCENARIOS",
    "DnsLab",
    "LabError",
    "LabUnavailable",
    "Scenario",
    "bulk_address",
    "bulk_name",
    "bulk_network",
    "split_address",
    "start_dns_lab",
]
