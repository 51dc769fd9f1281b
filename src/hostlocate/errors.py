"""The one exception tree of hostlocate, and the stable error codes.

::

    HostlocateError(Exception)               .code: ErrorCode
    ├─ InvalidURLError(HostlocateError, ValueError)   the reported text is not a usable URL
    ├─ ConfigError(HostlocateError, ValueError)       a caller passed a bad option
    ├─ DataError(HostlocateError)                     a data file is missing, corrupt or mismatched
    └─ SourceError(HostlocateError)                   a remote source (DNS, RDAP) failed

Inside a look-up a source failure is evidence, not an exception: it ends up in
the verdict (``error.code`` or a flag). Only the parser and constructors raise.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable lower_snake_case words the exchange service can switch on."""

    # input
    EMPTY_INPUT = "empty_input"
    NO_HOST = "no_host"
    BAD_IDNA = "bad_idna"
    BAD_IP_LITERAL = "bad_ip_literal"
    BAD_PORT = "bad_port"
    UNSUPPORTED_SCHEME = "unsupported_scheme"
    TOO_LONG = "too_long"
    BAD_URL = "bad_url"
    BAD_HOST = "bad_host"
    # DNS
    NXDOMAIN = "nxdomain"
    NO_ADDRESS = "no_address"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    DNS_TIMEOUT = "dns_timeout"
    DNS_ERROR = "dns_error"
    CNAME_LOOP = "cname_loop"
    CNAME_TOO_LONG = "cname_too_long"
    # RDAP
    RDAP_NOT_FOUND = "rdap_not_found"
    RDAP_RATE_LIMITED = "rdap_rate_limited"
    RDAP_TIMEOUT = "rdap_timeout"
    RDAP_BAD_RESPONSE = "rdap_bad_response"
    RDAP_TOO_MANY_REDIRECTS = "rdap_too_many_redirects"
    RDAP_REDIRECT_REFUSED = "rdap_redirect_refused"
    RDAP_HTTP_ERROR = "rdap_http_error"
    RDAP_NO_SERVICE = "rdap_no_service"
    RDAP_TOO_LARGE = "rdap_too_large"
    RDAP_UNREACHABLE = "rdap_unreachable"
    # configuration and data
    CONFIG = "config"
    DATA = "data"
    INTERNAL = "internal"


class HostlocateError(Exception):
    """Something went wrong in hostlocate."""

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str | None = None, *, code: ErrorCode | None = None) -> None:
        if code is not None:
            self.code = code
        super().__init__(message or (self.__doc__ or self.code.value).strip())

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class InvalidURLError(HostlocateError, ValueError):
    """The reported text is not a usable URL or host."""

    code = ErrorCode.BAD_URL


class ConfigError(HostlocateError, ValueError):
    """An option passed to hostlocate is not valid."""

    code = ErrorCode.CONFIG


class DataError(HostlocateError):
    """A data file is missing, truncated, corrupt or does not match its manifest."""

    code = ErrorCode.DATA

    def __init__(
        self, message: str | None = None, *, path: str | None = None, code: ErrorCode | None = None
    ) -> None:
        self.path = path
        super().__init__(message, code=code)


class SourceError(HostlocateError):
    """A remote source (DNS resolver, RDAP service) failed."""

    def __init__(
        self,
        message: str | None = None,
        *,
        code: ErrorCode | None = None,
        source: str = "",
        target: str = "",
    ) -> None:
        self.source = source
        self.target = target
        super().__init__(message, code=code)
