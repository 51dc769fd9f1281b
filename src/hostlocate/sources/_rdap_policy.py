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

Host names are not resolved here: a listed registry host whose DNS points at a
private address is trusted like the list itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["ServicePolicy", "host_is_private", "split_service"]

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
        path = parts.path or "/"
        for s_scheme, s_host, s_port, s_path in self._services:
            if (scheme, host, port) == (s_scheme, s_host, s_port) and path.startswith(s_path):
                return None
        return f"{scheme}://{host}:{port} is not a listed or configured RDAP service"
