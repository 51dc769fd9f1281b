"""hostlocate: where is a reported URL hosted, and whose jurisdiction is it?"""

from __future__ import annotations

from hostlocate.errors import (
    ConfigError,
    DataError,
    ErrorCode,
    HostlocateError,
    InvalidURLError,
    SourceError,
)
from hostlocate.models import ReportedURL, Verdict

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataError",
    "ErrorCode",
    "HostlocateError",
    "InvalidURLError",
    "ReportedURL",
    "SourceError",
    "Verdict",
    "__version__",
]
