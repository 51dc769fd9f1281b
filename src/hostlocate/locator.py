"""Locator and AsyncLocator: reported URL in, jurisdiction verdict out.

The async locator does the work; the sync ``Locator`` drives it on a private
event loop in a background thread, so both give the same verdicts and one
``Locator`` can be shared by many threads. Look-ups of the same host, address
or network that are in flight at the same time are made once.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import datetime as _dt
import os
import threading
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec

from hostlocate import _resources
from hostlocate import decide as _decide
from hostlocate.cache import Cache, TTLCache
from hostlocate.errors import ConfigError, ErrorCode, InvalidURLError
from hostlocate.geo import GeoDatabase
from hostlocate.hotlines import HotlineDirectory
from hostlocate.ipclass import classify_ip
from hostlocate.models import (
    AddressFacts,
    DNSResult,
    ErrorInfo,
    Jurisdiction,
    NoticeContact,
    Provenance,
    Provider,
    ReportedURL,
    Routing,
    SourceInfo,
    Verdict,
)
from hostlocate.parse import parse_reported_url
from hostlocate.providers import ProviderTable
from hostlocate.sources.dns import DnsClient
from hostlocate.sources.rdap import RdapClient
from hostlocate.store import SqliteStore, TieredCache

DEFAULT_TIMEOUT = 5.0
DEFAULT_CONCURRENCY = 64
NEGATIVE_TTL_CAP = 300.0
"""RFC 2308 lets negative answers be cached; this caps how long."""
SERVFAIL_TTL = 5.0
"""A failing zone is asked again soon, but not once per record of a burst."""
MAX_TTL = 86_400.0


def _version() -> str:
    from hostlocate import __version__

    return __version__


class AsyncLocator:
    """Locates reported URLs with asyncio; one instance per event loop.

    All parameters are keyword-only except ``nameservers``; see the verdict
    contract for their meaning. ``timeout`` is the budget for one URL, in seconds.
    ``cache``: a persistent store (``hostlocate.store.SqliteStore``) that keeps DNS
    answers and RDAP networks across runs and processes; by default answers are
    kept in memory only. The locator does not close it.
    """

    def __init__(
        self,
        nameservers: Sequence[str] | None = None,
        *,
        rdap: bool = True,
        rdap_bootstrap: str | os.PathLike[str] | None = None,
        geoip_country: str | os.PathLike[str] | None = None,
        geoip_asn: str | os.PathLike[str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        query_timeout: float | None = None,
        registrar: bool = True,
        dns_cache_size: int = 65_536,
        address_cache_size: int = 262_144,
        rdap_options: dict[str, Any] | None = None,
        cache: SqliteStore | None = None,
    ) -> None:
        if not timeout or timeout <= 0:
            raise ConfigError("timeout must be a positive number of seconds")
        self.timeout = float(timeout)
        self._dns = DnsClient(
            nameservers,
            query_timeout=query_timeout or min(2.0, self.timeout),
        )
        self._geo = GeoDatabase(geoip_country, geoip_asn)
        self._providers = ProviderTable.load()
        self._hotlines = HotlineDirectory.load()
        self._rdap_enabled = rdap
        self._registrar = registrar and rdap
        self._rdap_bootstrap = Path(rdap_bootstrap) if rdap_bootstrap else None
        self._rdap_options = dict(rdap_options or {})
        self._rdap: RdapClient | None = None
        self._store = cache
        memory: TTLCache[str, DNSResult] = TTLCache(dns_cache_size)
        self._dns_cache: Cache[str, DNSResult] = (
            TieredCache(memory, cache.namespace("dns", DNSResult)) if cache else memory
        )
        self._address_cache: collections.OrderedDict[str, AddressFacts] = collections.OrderedDict()
        self._address_cache_size = address_cache_size
        self._dns_inflight: dict[str, asyncio.Future[DNSResult]] = {}
        self._sources = self._collect_sources()
        self._closed = False

    # -- public surface -----------------------------------------------------------

    @property
    def nameservers(self) -> tuple[str, ...]:
        """The resolvers asked, as ``host:port``."""
        return self._dns.resolver_names

    async def locate(self, url: str) -> Verdict:
        """One verdict for one reported URL; never raises for bad input or remote faults."""
        started = time.perf_counter()
        deadline = time.monotonic() + self.timeout
        try:
            return await self._locate(url, started, deadline)
        except InvalidURLError as exc:
            return self._invalid(url, exc.code.value, exc.message, started)
        except Exception as exc:  # a bug must not lose the record
            return self._finish(
                url,
                status=_decide.UNRESOLVED,
                error=ErrorInfo(code=ErrorCode.INTERNAL.value, message=f"internal error: {exc!r}"),
                started=started,
            )

    async def locate_many(
        self,
        urls: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> AsyncIterator[Verdict]:
        """One verdict per input, in input order, with at most ``concurrency`` in flight."""
        if concurrency < 1:
            raise ConfigError("concurrency must be at least 1")
        window: collections.deque[asyncio.Task[Verdict]] = collections.deque()
        try:
            async for url in _aiter(urls):
                window.append(asyncio.ensure_future(self.locate(url)))
                if len(window) >= concurrency:
                    yield await window.popleft()
            while window:
                yield await window.popleft()
        finally:
            for task in window:
                task.cancel()

    def stats(self) -> dict[str, Any]:
        """Cache hit rates and request counts so far."""
        out: dict[str, Any] = {"dns_cache": self._dns_cache.stats.as_dict()}
        if self._rdap is not None:
            out["rdap"] = self._rdap.stats()
        return out

    @property
    def sources(self) -> dict[str, SourceInfo]:
        """The data sources behind every verdict of this locator."""
        return dict(self._sources)

    async def aclose(self) -> None:
        """Release the HTTP client and the databases."""
        if self._closed:
            return
        self._closed = True
        if self._rdap is not None:
            await self._rdap.aclose()
        self._geo.close()

    async def __aenter__(self) -> AsyncLocator:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- the pipeline ------------------------------------------------------------------

    async def _locate(self, text: str, started: float, deadline: float) -> Verdict:
        url = parse_reported_url(text)
        special = _decide.decide_special(url)
        if special is not None:
            status, error, jurisdiction = special
            return self._finish(
                text,
                status=status,
                error=error,
                url=url,
                jurisdiction=jurisdiction,
                routing=_decide.route(
                    jurisdiction,
                    status=status,
                    addresses=(),
                    chain_provider=None,
                    hotlines_for=self._hotlines.for_country,
                ),
                started=started,
            )

        dns_result: DNSResult | None = None
        if url.is_ip:
            ips: tuple[str, ...] = (url.host,)
        else:
            dns_result = await self._resolve(url.host, deadline)
            ips = dns_result.addresses

        chain_provider = self._chain_provider(dns_result.cname_chain if dns_result else ())
        registrar_task: asyncio.Future[NoticeContact | None] | None = None
        if self._registrar and ips and url.icann_registered_domain and not url.is_ip:
            registrar_task = asyncio.ensure_future(
                self._registrar_contact(url.icann_registered_domain, deadline)
            )
        facts = tuple(await asyncio.gather(*(self._address(ip, deadline) for ip in ips)))
        registrar = await registrar_task if registrar_task is not None else None

        status, error, jurisdiction = _decide.decide(
            dns=dns_result,
            addresses=facts,
            chain_provider=chain_provider,
            rdap_enabled=self._rdap_enabled,
        )
        routing = _decide.route(
            jurisdiction,
            status=status,
            addresses=facts,
            chain_provider=chain_provider,
            hotlines_for=self._hotlines.for_country,
            registrar=registrar,
        )
        return self._finish(
            text,
            status=status,
            error=error,
            url=url,
            dns=dns_result,
            addresses=facts,
            jurisdiction=jurisdiction,
            routing=routing,
            started=started,
        )

    async def _resolve(self, host: str, deadline: float) -> DNSResult:
        cached = self._dns_cache.get(host)
        if cached is not None:
            return msgspec.structs.replace(cached, queries=0)
        pending = self._dns_inflight.get(host)
        if pending is not None:
            shared = await asyncio.shield(pending)
            return msgspec.structs.replace(shared, queries=0)
        future: asyncio.Future[DNSResult] = asyncio.get_running_loop().create_future()
        self._dns_inflight[host] = future
        try:
            result = await self._dns.resolve(host, deadline=deadline)
            self._dns_cache.put(host, result, _cache_ttl(result))
            future.set_result(result)
            return result
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._dns_inflight[host]

    def _static_facts(self, ip: str) -> AddressFacts:
        """Facts from local data only (class, GeoIP, ASN, provider), kept per address."""
        cached = self._address_cache.get(ip)
        if cached is not None:
            self._address_cache.move_to_end(ip)
            return cached
        category = classify_ip(ip)
        version = 6 if ":" in ip else 4
        if category is not None:
            facts = AddressFacts(ip=ip, version=version, public=False, category=category)
        else:
            geo = self._geo.lookup(ip)
            provider = self._providers.by_address(ip, geo.asn)
            anycast = geo.anycast or (
                provider is not None
                and provider.id is not None
                and self._providers.is_anycast(provider.id)
            )
            facts = AddressFacts(
                ip=ip,
                version=version,
                public=True,
                country=geo.country,
                registered_country=geo.registered_country,
                asn=geo.asn,
                as_org=geo.as_org,
                provider=provider,
                anycast=bool(anycast),
            )
        self._address_cache[ip] = facts
        if len(self._address_cache) > self._address_cache_size:
            self._address_cache.popitem(last=False)
        return facts

    async def _address(self, ip: str, deadline: float) -> AddressFacts:
        facts = self._static_facts(ip)
        if not facts.public or not self._rdap_enabled:
            return facts
        owner = await self._rdap_client().lookup_ip(ip, deadline=deadline)
        return msgspec.structs.replace(
            facts, network=owner.network, abuse_emails=owner.abuse_emails, rdap_error=owner.error
        )

    async def _registrar_contact(self, domain: str, deadline: float) -> NoticeContact | None:
        info = await self._rdap_client().lookup_domain(domain, deadline=deadline)
        if info.error is not None or not (info.abuse_email or info.name):
            return None
        return NoticeContact(
            role="registrar",
            email=info.abuse_email,
            name=info.name,
            url=info.source_url,
            source="rdap",
        )

    def _chain_provider(self, chain: Sequence[str]) -> Provider | None:
        for name in chain:
            provider = self._providers.by_name(name)
            if provider is not None:
                return provider
        return None

    def _rdap_client(self) -> RdapClient:
        if self._rdap is None:
            self._rdap = RdapClient(
                bootstrap_dir=self._rdap_bootstrap,
                timeout=self.timeout,
                **self._rdap_options,
            )
        return self._rdap

    # -- verdict assembly -----------------------------------------------------------------

    def _collect_sources(self) -> dict[str, SourceInfo]:
        sources = dict(self._geo.sources())
        sources["providers"] = self._providers.source_info()
        sources["hotlines"] = self._hotlines.source_info()
        sources["public_suffix_list"] = _resources.source_info("psl")
        return sources

    def _invalid(self, text: str, code: str, message: str, started: float) -> Verdict:
        return self._finish(
            text,
            status=_decide.INVALID,
            error=ErrorInfo(code=code, message=message),
            started=started,
        )

    def _finish(
        self,
        text: str,
        *,
        status: str,
        started: float,
        error: ErrorInfo | None = None,
        url: ReportedURL | None = None,
        dns: DNSResult | None = None,
        addresses: tuple[AddressFacts, ...] = (),
        jurisdiction: Jurisdiction | None = None,
        routing: Routing | None = None,
    ) -> Verdict:
        if jurisdiction is None:
            jurisdiction = Jurisdiction()
        if routing is None:
            routing = Routing(escalation=None if status == _decide.INVALID else "manual_review")
        now = _dt.datetime.now(_dt.UTC)
        provenance = Provenance(
            version=_version(),
            resolved_at=now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
            elapsed_ms=round((time.perf_counter() - started) * 1000, 3),
            resolvers=self._dns.resolver_names if dns is not None else (),
            rdap=self._rdap_enabled,
            sources=self._sources,
        )
        return Verdict(
            input=text,
            status=status,
            error=error,
            url=url,
            dns=dns,
            addresses=addresses,
            jurisdiction=jurisdiction,
            routing=routing,
            provenance=provenance,
        )


class Locator:
    """The synchronous locator: same parameters and method names as :class:`AsyncLocator`.

    Safe to share between threads: every call runs on one private event loop.
    """

    def __init__(self, nameservers: Sequence[str] | None = None, **options: Any) -> None:
        self._async = AsyncLocator(nameservers, **options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="hostlocate-loop", daemon=True
        )
        self._thread.start()
        self._closed = False

    @property
    def nameservers(self) -> tuple[str, ...]:
        return self._async.nameservers

    @property
    def sources(self) -> dict[str, SourceInfo]:
        return self._async.sources

    def locate(self, url: str) -> Verdict:
        """One verdict for one reported URL; never raises for bad input or remote faults."""
        verdict: Verdict = self._submit(self._async.locate(url)).result()
        return verdict

    def locate_many(
        self, urls: Iterable[str], *, concurrency: int = DEFAULT_CONCURRENCY
    ) -> Iterator[Verdict]:
        """One verdict per input, in input order, streaming with bounded concurrency."""
        if concurrency < 1:
            raise ConfigError("concurrency must be at least 1")
        window: collections.deque[concurrent.futures.Future[Verdict]] = collections.deque()
        try:
            for url in urls:
                window.append(self._submit(self._async.locate(url)))
                if len(window) >= concurrency:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
        finally:
            for future in window:
                future.cancel()

    def stats(self) -> dict[str, Any]:
        return self._async.stats()

    def close(self) -> None:
        """Stop the loop thread and release resources."""
        if self._closed:
            return
        self._closed = True
        try:
            self._submit(self._async.aclose()).result(timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    def __enter__(self) -> Locator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _submit(self, coro: Any) -> concurrent.futures.Future[Any]:
        if self._closed and not self._loop.is_running():
            coro.close()
            raise RuntimeError("this Locator is closed")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)


def _cache_ttl(result: DNSResult) -> float:
    ttl = float(result.min_ttl) if result.min_ttl is not None else 0.0
    if result.addresses:
        return min(ttl, MAX_TTL)
    if result.error in (ErrorCode.NXDOMAIN.value, ErrorCode.NO_ADDRESS.value):
        return min(ttl or NEGATIVE_TTL_CAP, NEGATIVE_TTL_CAP)
    if result.error in (ErrorCode.SERVFAIL.value, ErrorCode.REFUSED.value):
        return SERVFAIL_TTL
    return 0.0


async def _aiter(items: Iterable[str] | AsyncIterable[str]) -> AsyncIterator[str]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


_default: Locator | None = None
_default_lock = threading.Lock()


def default_locator() -> Locator:
    """The lazily built module-level locator (system resolvers, bundled data)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Locator()
        return _default


def reset_default_locator() -> None:
    """Close and forget the module-level locator (tests, configuration changes)."""
    global _default
    with _default_lock:
        if _default is not None:
            _default.close()
        _default = None


def locate(url: str) -> Verdict:
    """Locate one URL with the default locator."""
    return default_locator().locate(url)
