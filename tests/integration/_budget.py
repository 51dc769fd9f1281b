"""One verdict from a fresh locator on the loopback test internet, and how long it took.

The hostile-server tests assert that every verdict arrives within the
locator's budget plus :data:`MARGIN`: a correctness bound (nothing waits past
its deadline), not a speed measurement.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from hostlocate import Locator, Verdict
from tests.rdaplab import NO_RATE_LIMITS, RdapLab

MARGIN = 0.5
"""Seconds a verdict may take beyond its budget: scheduling, not waiting."""


def timed_verdict(
    nameservers: Sequence[str],
    rdap_lab: RdapLab,
    url: str,
    *,
    timeout: float = 5.0,
    rdap_options: dict[str, Any] | None = None,
    **options: Any,
) -> tuple[Verdict, float]:
    """The verdict of a fresh locator (no cache from earlier cases), checked against its budget."""
    with Locator(
        list(nameservers),
        rdap_bootstrap=rdap_lab.bootstrap_dir,
        timeout=timeout,
        rdap_options={**NO_RATE_LIMITS, **(rdap_options or {})},
        **options,
    ) as loc:
        started = time.monotonic()
        verdict = loc.locate(url)
        elapsed = time.monotonic() - started
    assert verdict.input == url
    assert elapsed < timeout + MARGIN, (elapsed, verdict.to_json())
    return verdict, elapsed
