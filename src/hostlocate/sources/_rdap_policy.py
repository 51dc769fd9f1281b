"""Which URLs the RDAP client may fetch: registry services only.

A registry's answer (a redirect, an entity link) names the next URL, and
that answer comes from the network, so it is checked before it is followed:

* it must lie under a known service: an ``https://`` service of the IANA
  bootstrap, or a service the user configured (a user-given bootstrap folder
  or ``user_services``; their ``http://`` services count, as given);
* its host must not be a loopback, private, link-local or otherwise
  non-public address literal, nor ``localhost``, unless private targets are
  allowed. They are allowed when the caller says so, or, by default, when the
  user's own configured services are themselves on such addresses (a test
  network or a mirror on the local network).

The path compared is the one the server will serve: percent-encoded dots
decoded and ``.``/``..`` segments applied (RFC 3986 section 5.2.4), so
``/ripe/../other/`` is not under ``/ripe/``. A path that climbs above the
root, or hides a separator as ``%2F`` or ``%5C`` (or a backslash), is refused.

Host names are not resolved here: a listed registry host whose DNS points at a
private address is trusted like the list itself.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "ServicePolicy",
    "host_is_private",
    "normalised_path",
    "normalised_url",
    "split_service",
]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def split_service(url: str) -> tuple[str, str, int, str] | None:
    """(scheme, host, port, path ending in '/') of an http(s) URL, or None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    path = parts.path or "/"
    if not path.endswith("/"):
        path = path.rsplit("/", 1)[0] + "/"
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme], path


_ENCODED_DOT = re.compile("%2e", re.IGNORECASE)
_HIDDEN_SEPARATOR = re.compile(r"%2f|%5c|\\", re.IGNORECASE)


def normalised_path(path: str) -> str | None:
    """``path`` as a server resolves it (encoded dots decoded, dot segments
    removed), or None when it climbs above the root or hides a separator."""
    if _HIDDEN_SEPARATOR.search(path):
        return None
    segments = _ENCODED_DOT.sub(".", path or "/").split("/")
    out: list[str] = []
    for segment in segments:
        if segment == "..":
            if len(out) <= 1:
                return None
            out.pop()
        elif segment != ".":
            out.append(segment)
    if segments[-1] in (".", ".."):
        out.append("")  # "/a/b/.." is the folder "/a/"
    return "/".join(out) or "/"


def normalised_url(url: str) -> str:
    """``url`` with its path normalised, so that what is fetched is what was checked;
    unchanged where the path cannot be normalised (the check refuses it)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    path = normalised_path(parts.path)
    return url if path is None or path == parts.path else urlunsplit(parts._replace(path=path))


def host_is_private(host: str) -> bool:
    """A literal non-public address, or a ``localhost`` name."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    return not address.is_global


class ServicePolicy:
    """The allow-list of RDAP services and the private-address rule."""

    def __init__(
        self,
        *,
        listed: Iterable[str] = (),
        configured: Iterable[str] = (),
        allow_private: bool | None = None,
    ) -> None:
        self._services: list[tuple[str, str, int, str]] = []
        configured_parts = [p for p in (split_service(u) for u in configured) if p]
        for parts in (split_service(u) for u in listed):
            if parts is not None and parts[0] == "https":
                self._services.append(parts)
        self._services.extend(configured_parts)
        if allow_private is None:
            allow_private = any(host_is_private(p[1]) for p in configured_parts)
        self.allow_private = allow_private

    def check(self, url: str) -> str | None:
        """None when ``url`` may be fetched, else why not."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return "not a URL"
        if parts.username or parts.password:
            return "credentials in URL"
        target = split_service(url)
        if target is None:
            return "not an http(s) URL"
        scheme, host, port, _ = target
        if host_is_private(host) and not self.allow_private:
            return f"non-public host {host}"
        path = normalised_path(parts.path)
        if path is None:
            return f"path {parts.path!r} climbs out of every service"
        for s_scheme, s_host, s_port, s_path in self._services:
            if (scheme, host, port) == (s_scheme, s_host, s_port) and path.startswith(s_path):
                return None
        return f"{scheme}://{host}:{port} is not a listed or configured RDAP service"
