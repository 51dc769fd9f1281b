"""Where downloads come from, how large they may be, and fetching and unpacking them.

Everything here touches the network or untrusted archives, with hard limits on
bytes and time; what the bytes must say is left to :mod:`hostlocate.datasets.checks`.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import re
import tarfile
import time
import zlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote, urljoin, urlsplit

import msgspec

from hostlocate.datasets.sets import LICENCE_KEY_ENV, SOURCES

if TYPE_CHECKING:
    import httpx

# -- publishers ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Publisher:
    upstream: str
    licence: str | None
    attribution: str | None


PUBLISHERS: Mapping[str, _Publisher] = {
    "dbip": _Publisher(
        "DB-IP Lite databases, monthly (https://db-ip.com/db/lite.php)",
        "CC-BY-4.0",
        "IP Geolocation by DB-IP (https://db-ip.com), CC-BY-4.0",
    ),
    "maxmind": _Publisher(
        "MaxMind GeoLite2 (https://www.maxmind.com), downloaded with the user's licence key",
        "GeoLite2 End User License Agreement (https://www.maxmind.com/en/geolite2/eula)",
        "This product includes GeoLite2 data created by MaxMind, available from "
        "https://www.maxmind.com",
    ),
    "psl": _Publisher(
        "Public Suffix List (https://publicsuffix.org)",
        "MPL-2.0",
        "Public Suffix List, Mozilla Foundation and contributors, MPL-2.0 "
        "(https://publicsuffix.org)",
    ),
    "iana": _Publisher(
        "IANA RDAP bootstrap registries, RFC 9224 (https://data.iana.org/rdap/)",
        # IANA and the IETF Trust dedicate the Protocol Registries to the public domain.
        "CC0-1.0 (IANA Protocol Registries, https://www.iana.org/help/licensing-terms)",
        "RDAP bootstrap registries published by IANA (https://www.iana.org)",
    ),
}


class Limits(msgspec.Struct, frozen=True):
    """Size bounds of one kind of download, in bytes."""

    download: int
    """The most bytes accepted from the wire."""
    unpacked: int
    """The most bytes a compressed download may unpack to."""
    minimum: int
    """The smallest plausible file: less is a truncated or wrong download."""


LIMITS: Mapping[str, Limits] = {
    "mmdb": Limits(download=256 << 20, unpacked=512 << 20, minimum=16 << 10),
    "psl": Limits(download=16 << 20, unpacked=16 << 20, minimum=64 << 10),
    "rdap": Limits(download=4 << 20, unpacked=4 << 20, minimum=64),
    "ranges": Limits(download=4 << 20, unpacked=4 << 20, minimum=16),
}

DOWNLOAD_BUDGET = 900.0
"""Seconds one download may take in all."""
MAX_REDIRECTS = 5


class _Refused(Exception):
    """A download arrived but is not acceptable."""


class _Unavailable(Exception):
    """A download could not be made: network, HTTP status, missing licence key."""


class _NotFound(_Unavailable):
    pass


# -- downloading ---------------------------------------------------------------------


_KEY_PARAM = re.compile(r"(?i)(license_key=)[^&#]*")


@dataclasses.dataclass
class _Fetcher:
    """Downloads one source into a file: https only (but for user-given URLs), capped."""

    client: httpx.Client
    overrides: Mapping[str, str]
    licence_key: str | None
    now: datetime
    budget: float = DOWNLOAD_BUDGET

    def redact(self, text: str) -> str:
        text = _KEY_PARAM.sub(r"\1REDACTED", text)
        if self.licence_key:
            for form in {self.licence_key, quote(self.licence_key, safe="")}:
                text = text.replace(form, "REDACTED")
        return text

    def _months(self) -> list[str]:
        first = self.now.astimezone(UTC).replace(day=1)
        previous = first - timedelta(days=1)
        return [first.strftime("%Y-%m"), previous.strftime("%Y-%m")]

    def _fill(self, template: str, month: str = "") -> str:
        key = quote(self.licence_key or "", safe="")
        return template.replace("{month}", month).replace("{licence_key}", key)

    def fetch(self, key: str, dest: Path, max_bytes: int) -> str:
        """Download source ``key`` into ``dest``; the (redacted) URL it came from."""
        given = self.overrides.get(key)
        if given is not None:
            candidates = [self._fill(given, self._months()[0])]
        else:
            template = SOURCES[key]
            if "{licence_key}" in template and not self.licence_key:
                raise _Unavailable(
                    "MaxMind downloads need a licence key: --maxmind-licence-key KEY or "
                    f"{LICENCE_KEY_ENV}"
                )
            # This month's DB-IP file appears in its first days: fall back to last month's.
            months = self._months() if "{month}" in template else [""]
            candidates = [self._fill(template, month) for month in months]
        missing: _NotFound | None = None
        for url in candidates:
            try:
                return self._get(url, dest, max_bytes, user_given=given is not None)
            except _NotFound as exc:
                missing = exc
        assert missing is not None
        raise missing

    def _get(self, url: str, dest: Path, max_bytes: int, *, user_given: bool) -> str:
        import httpx

        deadline = time.monotonic() + self.budget
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            shown = self.redact(current)
            scheme = urlsplit(current).scheme.lower()
            if scheme != "https" and not (user_given and scheme == "http"):
                raise _Unavailable(f"{shown}: not fetched, publisher downloads use https only")
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Unavailable(f"{shown}: took longer than {self.budget:.0f} s")
            try:
                # No single wait may outlast the budget: a read blocks at most this long.
                with self.client.stream("GET", current, timeout=self._timeout(left)) as response:
                    if response.is_redirect:
                        location = response.headers.get("location")
                        if not location:
                            raise _Unavailable(f"{shown}: redirect without a location")
                        current = urljoin(current, location)
                        continue
                    if response.status_code == 404:
                        raise _NotFound(f"{shown}: HTTP 404, not published")
                    if response.status_code != 200:
                        raise _Unavailable(f"{shown}: HTTP {response.status_code}")
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes:
                        raise _Refused(
                            f"{shown}: announces {declared} bytes, over the {max_bytes}-byte limit"
                        )
                    self._save(response, dest, max_bytes, deadline, shown)
                    return shown
            except httpx.HTTPError as exc:
                raise _Unavailable(f"{shown}: {type(exc).__name__}: {exc or 'failed'}") from exc
        raise _Unavailable(f"{self.redact(url)}: more than {MAX_REDIRECTS} redirects")

    def _timeout(self, left: float) -> httpx.Timeout:
        import httpx

        given = self.client.timeout
        return httpx.Timeout(
            connect=min(given.connect or left, left),
            read=min(given.read or left, left),
            write=min(given.write or left, left),
            pool=min(given.pool or left, left),
        )

    def _save(
        self, response: httpx.Response, dest: Path, max_bytes: int, deadline: float, shown: str
    ) -> None:
        def in_time() -> Iterator[bytes]:
            # Each piece as it comes off the wire (no chunk size: a source dripping a
            # byte a second must not fill a 64 KiB buffer before the clock is read).
            for chunk in response.iter_bytes():
                if time.monotonic() > deadline:
                    raise _Unavailable(f"{shown}: took longer than {self.budget:.0f} s")
                yield chunk

        over = f"{shown}: more than the {max_bytes}-byte limit"
        if not _write_synced(in_time(), dest, max_bytes, over):
            raise _Refused(f"{shown}: empty response")


# -- unpacking -----------------------------------------------------------------------


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Capped:
    """A read-only stream that refuses to yield more than ``limit`` bytes in all."""

    def __init__(self, raw: _Readable, limit: int) -> None:
        self._raw = raw
        self._left = limit
        self._limit = limit

    def read(self, size: int = -1) -> bytes:
        want = self._left + 1 if size < 0 else min(size, self._left + 1)
        data = self._raw.read(want)
        self._left -= len(data)
        if self._left < 0:
            raise _Refused(_unpacks_over(self._limit))
        return data


def _unpacks_over(limit: int) -> str:
    return f"unpacks to more than {limit} bytes"


def _pieces(stream: _Readable) -> Iterator[bytes]:
    """``stream`` read in 1 MiB pieces, to its end."""
    while piece := stream.read(1 << 20):
        yield piece


def _write_synced(pieces: Iterable[bytes], dest: Path, max_bytes: int, over: str) -> int:
    """Write ``pieces`` to ``dest`` and sync it to disk; the bytes written.

    Raises :class:`_Refused` (``over``) past ``max_bytes``: downloads and
    unpacking alike stop at the limit rather than fill the disk first.
    """
    written = 0
    with dest.open("wb") as out:
        for piece in pieces:
            written += len(piece)
            if written > max_bytes:
                raise _Refused(over)
            out.write(piece)
        out.flush()
        os.fsync(out.fileno())
    return written


def _check_gzip_magic(path: Path) -> None:
    with path.open("rb") as fh:
        if fh.read(2) != b"\x1f\x8b":
            raise _Refused("not a gzip file")


def gunzip_limited(src: Path, dest: Path, *, max_bytes: int) -> int:
    """Unpack a gzip file, refusing one that unpacks past ``max_bytes`` or ends early."""
    _check_gzip_magic(src)
    try:
        with gzip.open(src, "rb") as packed:
            return _write_synced(_pieces(packed), dest, max_bytes, _unpacks_over(max_bytes))
    except EOFError as exc:
        raise _Refused("truncated gzip file") from exc
    except (OSError, zlib.error) as exc:
        raise _Refused(f"corrupt gzip file: {exc}") from exc


def untar_member(src: Path, dest: Path, *, suffix: str, max_bytes: int) -> str:
    """Copy the first regular file named ``*suffix`` out of a ``.tar.gz``; its name there.

    Nothing is extracted by the archive's own paths, so names like ``../x`` do no
    harm; the archive is read as a stream, capped at about twice ``max_bytes`` unpacked.
    """
    _check_gzip_magic(src)
    try:
        with gzip.open(src, "rb") as packed:
            stream = _Capped(packed, 2 * max_bytes + (1 << 20))  # room for headers, padding
            with tarfile.open(fileobj=stream, mode="r|") as archive:  # type: ignore[call-overload]
                for member in archive:
                    if not member.name.endswith(suffix):
                        continue
                    if not member.isreg():
                        raise _Refused(f"{member.name} in the archive is not a regular file")
                    if member.size > max_bytes:
                        raise _Refused(f"{member.name} is over the {max_bytes}-byte limit")
                    source = archive.extractfile(member)
                    if source is None:
                        raise _Refused(f"{member.name} cannot be read from the archive")
                    _write_synced(_pieces(source), dest, max_bytes, _unpacks_over(max_bytes))
                    return str(member.name)
    except EOFError as exc:
        raise _Refused("truncated archive") from exc
    except (tarfile.TarError, OSError, zlib.error) as exc:
        raise _Refused(f"corrupt archive: {exc}") from exc
    raise _Refused(f"the archive holds no *{suffix} file")
