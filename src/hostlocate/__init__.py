"""hostlocate: where is a reported URL hosted, and whose jurisdiction is it?

The public surface is listed in ``__all__``; everything else is private.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hostlocate.errors import (
    ConfigError,
    DataError,
    ErrorCode,
    HostlocateError,
    InvalidURLError,
    SourceError,
)
from hostlocate.models import Report, ReportedURL, Verdict
from hostlocate.parse import parse_reported_url, refang

__version__ = "0.1.0"

if TYPE_CHECKING:
    from hostlocate.locator import AsyncLocator, Locator, locate, reset_default_locator

_LAZY = frozenset({"AsyncLocator", "Locator", "locate", "reset_default_locator"})


def __getattr__(name: str) -> Any:
    # The locator pulls in asyncio, dnspython's I/O and httpx: loaded on first use
    # so that the pure core (parsing, the decision) imports none of them.
    if name in _LAZY:
        from hostlocate import locator

        return getattr(locator, name)
    raise AttributeError(f"module 'hostlocate' has no attribute {name!r}")


__all__ = [
    "AsyncLocator",
    "ConfigError",
    "DataError",
    "ErrorCode",
    "HostlocateError",
    "InvalidURLError",
    "Locator",
    "Report",
    "ReportedURL",
    "SourceError",
    "Verdict",
    "__version__",
    "locate",
    "parse_reported_url",
    "refang",
    "reset_default_locator",
]
