"""IANA RDAP bootstrap registries (RFC 9224): which service answers for what.

Three ways to get one, in order of preference for the library:

* :meth:`Bootstrap.from_dir` reads a folder of IANA-format files
  (``ipv4.json``, ``ipv6.json``, ``asn.json``, ``dns.json``): pinning, mirrors,
  test networks. Its services are used as given, ``http://`` ones too.
* :meth:`Bootstrap.load_or_fetch` reads IANA's files from a cache folder,
  fetching them from IANA when absent or older than ``max_age_days``. Where
  IANA cannot be reached it uses the stale copy, and where there is none,
  it gives up quickly and returns :meth:`Bootstrap.fallback`; a failed fetch is
  remembered in the cache folder so that the next process does not wait again.
* :meth:`Bootstrap.fallback` starts every address at ARIN, whose service
  answers a query for another registry's space with a redirect to it; the
  five RIR services are the allow-list for those redirects. Domains have no
  such starting point: without a bootstrap, domain look-ups have no service.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from hostlocate import _resources
from hostlocate.errors import DataError

__all__ = [
    "FALLBACK_SERVICE",
    "IANA_BOOTSTRAP_URLS",
    "RIR_SERVICES",
    "Bootstrap",
]

log = logging.getLogger("hostlocate.rdap")

IANA_BOOTSTRAP_URLS: Mapping[str, str] = {
    "ipv4": "https://data.iana.org/rdap/ipv4.json",
    "ipv6": "https://data.iana.org/rdap/ipv6.json",
    "asn": "https://data.iana.org/rdap/asn.json",
    "dns": "https://data.iana.org/rdap/dns.json",
}
"""Where IANA publishes the bootstrap registries (RFC 9224 section 3)."""

RIR_SERVICES: tuple[str, ...] = (
    "https://rdap.arin.net/registry/",
    "https://rdap.db.ripe.net/",
    "https://rdap.apnic.net/",
    "https://rdap.lacnic.net/rdap/",
    "https://rdap.afrinic.net/rdap/",
)
"""The five RIRs' RDAP services: the redirect allow-list when no bootstrap is available."""

FALLBACK_SERVICE = RIR_SERVICES[0]
"""ARIN's service: it redirects queries for other registries' space to them."""

_KINDS = ("ipv4", "ipv6", "asn", "dns")
_REQUIRED = ("ipv4", "ipv6")
_META = "bootstrap-meta.json"

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _base(url: str) -> str:
    url = url.strip()
    return url if url.endswith("/") else url + "/"


def _https_first(urls: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted((_base(u) for u in urls), key=lambda u: not u.startswith("https:")))


class Bootstrap:
    """Parsed bootstrap registries; look-ups return service base URLs, https first."""

    def __init__(
        self,
        documents: Mapping[str, Mapping[str, Any]],
        *,
        origin: str,
        default_services: Sequence[str] = (),
        extra_services: Iterable[str] = (),
        fetched_at: float | None = None,
    ) -> None:
        """Build from parsed IANA documents keyed ``ipv4``/``ipv6``/``asn``/``dns``.

        Raises ``ValueError`` on a document that is not in IANA's format.
        """
        self.origin = origin
        """``user`` (a folder), ``iana`` (just fetched), ``iana-cache``, ``iana-stale`` or
        ``fallback``."""
        self.fetched_at = fetched_at
        """Unix time the IANA files were fetched, where they were."""
        self.publication: dict[str, str | None] = {}
        """Each file's ``publication`` date as IANA wrote it."""
        self.default_services = _https_first(default_services)
        self._ip: dict[int, dict[int, dict[int, tuple[str, ...]]]] = {4: {}, 6: {}}
        self._ip_lengths: dict[int, list[int]] = {4: [], 6: []}
        self._asn: list[tuple[int, int, tuple[str, ...]]] = []
        self._dns: dict[str, tuple[str, ...]] = {}
        services: set[str] = {_base(u) for u in extra_services}
        services.update(self.default_services)
        for kind, doc in documents.items():
            if kind not in _KINDS:
                continue
            self.publication[kind] = _check_document(kind, doc)
            for entry in doc["services"]:
                keys, urls = entry[0], _https_first(entry[1])
                services.update(urls)
                for key in keys:
                    self._add(kind, str(key), urls)
        self.services: frozenset[str] = frozenset(services)
        """Every service base URL the bootstrap names."""
        for version in (4, 6):
            self._ip_lengths[version] = sorted(self._ip[version], reverse=True)
        self._asn.sort()

    def _add(self, kind: str, key: str, urls: tuple[str, ...]) -> None:
        if kind in ("ipv4", "ipv6"):
            net = ipaddress.ip_network(key.strip(), strict=False)
            bits = net.max_prefixlen
            table = self._ip[net.version].setdefault(net.prefixlen, {})
            table[int(net.network_address) >> (bits - net.prefixlen)] = urls
        elif kind == "asn":
            low, _, high = key.partition("-")
            self._asn.append((int(low), int(high or low), urls))
        else:
            self._dns[key.strip().strip(".").lower()] = urls

    # -- look-ups ---------------------------------------------------------------

    def service_for_ip(self, ip: str | _Address) -> list[str]:
        """Base URLs of the services for the longest matching prefix (https first)."""
        address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
        bits = address.max_prefixlen
        number = int(address)
        table = self._ip[address.version]
        for length in self._ip_lengths[address.version]:
            urls = table[length].get(number >> (bits - length))
            if urls is not None:
                return list(urls)
        return list(self.default_services)

    def ip_entry(self, address: _Address) -> tuple[int, int] | None:
        """First and last address (as integers) of the entry giving ``address`` its
        service, or None where no entry does (the default services answer all)."""
        bits = address.max_prefixlen
        number = int(address)
        for length in self._ip_lengths[address.version]:
            if (number >> (bits - length)) in self._ip[address.version][length]:
                host = (1 << (bits - length)) - 1
                return number & ~host, number | host
        return None

    def service_for_domain(self, name: str) -> list[str]:
        """Base URLs for the longest matching label suffix of ``name`` (its TLD at least)."""
        labels = name.strip().strip(".").lower().split(".")
        for i in range(len(labels)):
            urls = self._dns.get(".".join(labels[i:]))
            if urls is not None:
                return list(urls)
        return []

    def service_for_asn(self, asn: int) -> list[str]:
        """Base URLs for the range holding ``asn``."""
        for low, high, urls in self._asn:
            if low <= asn <= high:
                return list(urls)
        return list(self.default_services)

    # -- constructors -----------------------------------------------------------

    @classmethod
    def fallback(cls) -> Bootstrap:
        """No bootstrap: start at ARIN, follow redirects to the five RIRs."""
        return cls(
            {}, origin="fallback", default_services=(FALLBACK_SERVICE,), extra_services=RIR_SERVICES
        )

    @classmethod
    def from_dir(cls, path: str | os.PathLike[str]) -> Bootstrap:
        """Read a folder of IANA-format files; ``ipv4.json`` and ``ipv6.json`` are required.

        Raises :class:`~hostlocate.errors.DataError` naming the file that is
        missing or unreadable.
        """
        folder = Path(path)
        if not folder.is_dir():
            raise DataError(f"RDAP bootstrap folder not found: {folder}", path=str(folder))
        documents: dict[str, Mapping[str, Any]] = {}
        for kind in _KINDS:
            file = folder / f"{kind}.json"
            if not file.exists():
                if kind in _REQUIRED:
                    raise DataError(f"RDAP bootstrap file missing: {file}", path=str(file))
                continue
            documents[kind] = _read_document(kind, file)
        try:
            return cls(documents, origin="user")
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise DataError(
                f"RDAP bootstrap folder {folder} is not valid: {exc}", path=str(folder)
            ) from exc

    @classmethod
    async def load_or_fetch(
        cls,
        cache_dir: str | os.PathLike[str],
        client: httpx.AsyncClient,
        *,
        max_age_days: float = 7.0,
        urls: Mapping[str, str] = IANA_BOOTSTRAP_URLS,
        timeout: float = 5.0,
        retry_failed_after: float = 3600.0,
    ) -> Bootstrap:
        """IANA's bootstrap from ``cache_dir``, fetched when absent or old; never raises.

        A fetch that fails (IANA unreachable, a bad file) within ``timeout``
        seconds leaves the stale cache in use, or gives :meth:`fallback`. A
        failure is recorded, and no new fetch is tried for
        ``retry_failed_after`` seconds.
        """
        folder = Path(cache_dir)
        meta = _read_meta(folder)
        cached = _read_cache(folder, meta)
        now = time.time()
        fetched_at = meta.get("fetched_at")
        fresh = isinstance(fetched_at, int | float) and now - fetched_at < max_age_days * 86_400
        if cached is not None and fresh:
            cached.origin = "iana-cache"
            return cached
        failed_at = meta.get("failed_at")
        if isinstance(failed_at, int | float) and 0 <= now - failed_at < retry_failed_after:
            log.info("RDAP bootstrap: last fetch failed %.0f s ago, not retrying", now - failed_at)
            return _stale_or_fallback(cached)
        try:
            async with asyncio.timeout(timeout):
                bodies = await asyncio.gather(
                    *(_fetch(client, urls[kind], timeout) for kind in _KINDS)
                )
            documents = {
                kind: _parse_document(kind, body, urls[kind])
                for kind, body in zip(_KINDS, bodies, strict=True)
            }
            fresh_bootstrap = cls(documents, origin="iana", fetched_at=now)
        except (TimeoutError, httpx.HTTPError, DataError, ValueError, OSError) as exc:
            log.warning("RDAP bootstrap: could not fetch from IANA (%s)", exc or type(exc).__name__)
            _write_meta(folder, {**meta, "failed_at": now, "error": str(exc)[:200]})
            return _stale_or_fallback(cached)
        _write_cache(folder, bodies, fresh_bootstrap, now)
        return fresh_bootstrap


def _check_document(kind: str, doc: Mapping[str, Any]) -> str | None:
    services = doc.get("services") if isinstance(doc, Mapping) else None
    if not isinstance(services, list):
        raise ValueError(f"{kind}: no 'services' list")
    for entry in services:
        if not (
            isinstance(entry, list)
            and len(entry) >= 2
            and isinstance(entry[0], list)
            and isinstance(entry[1], list)
            and all(isinstance(u, str) for u in entry[1])
        ):
            raise ValueError(f"{kind}: malformed service entry {entry!r:.80}")
    publication = doc.get("publication")
    return publication if isinstance(publication, str) else None


def _parse_document(kind: str, body: bytes, where: str) -> dict[str, Any]:
    try:
        doc = json.loads(body)
        _check_document(kind, doc)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"RDAP bootstrap {where} is not valid: {exc}", path=where) from exc
    if not isinstance(doc, dict):
        raise DataError(f"RDAP bootstrap {where} is not a JSON object", path=where)
    return doc


def _read_document(kind: str, file: Path) -> dict[str, Any]:
    try:
        body = file.read_bytes()
    except OSError as exc:
        raise DataError(f"RDAP bootstrap file unreadable: {file}: {exc}", path=str(file)) from exc
    return _parse_document(kind, body, str(file))


async def _fetch(client: httpx.AsyncClient, url: str, timeout: float) -> bytes:
    response = await client.get(url, timeout=timeout, follow_redirects=False)
    response.raise_for_status()
    if len(response.content) > 10_000_000:
        raise ValueError(f"{url}: body too large")
    return response.content


def _read_meta(folder: Path) -> dict[str, Any]:
    try:
        meta = json.loads((folder / _META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _write_meta(folder: Path, meta: Mapping[str, Any]) -> None:
    with contextlib.suppress(OSError):
        _resources.private_dir(folder, tighten=True)
        _atomic_write(folder / _META, json.dumps(meta, indent=1).encode())


def _atomic_write(path: Path, data: bytes) -> None:
    """Written beside, made private (0600) and renamed: a reader sees the old file or the new."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    _resources.private_file(tmp, create=True)
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _read_cache(folder: Path, meta: Mapping[str, Any]) -> Bootstrap | None:
    if not meta.get("fetched_at"):
        return None
    documents: dict[str, Mapping[str, Any]] = {}
    try:
        for kind in _KINDS:
            documents[kind] = _read_document(kind, folder / f"{kind}.json")
        return Bootstrap(documents, origin="iana-cache", fetched_at=float(meta["fetched_at"]))
    except (DataError, ValueError, TypeError, KeyError, IndexError) as exc:
        log.warning("RDAP bootstrap cache in %s unusable: %s", folder, exc)
        return None


def _write_cache(folder: Path, bodies: Sequence[bytes], bootstrap: Bootstrap, now: float) -> None:
    try:
        _resources.private_dir(folder, tighten=True)
        for kind, body in zip(_KINDS, bodies, strict=True):
            _atomic_write(folder / f"{kind}.json", body)
        meta = {"fetched_at": now, "publication": bootstrap.publication}
        _atomic_write(folder / _META, json.dumps(meta, indent=1).encode())
    except OSError as exc:
        log.warning("RDAP bootstrap: could not write cache in %s: %s", folder, exc)


def _stale_or_fallback(cached: Bootstrap | None) -> Bootstrap:
    if cached is not None:
        cached.origin = "iana-stale"
        return cached
    return Bootstrap.fallback()
