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
import contextlib
import math
import os
import threading
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Sequence,
)
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

from hostlocate import _log, _resources, datasets, psl
from hostlocate import decide as _decide
from hostlocate.cache import Cache, TTLCache
from hostlocate.errors import ConfigError, DataError, ErrorCode, InvalidURLError
from hostlocate.ipclass import classify_ip
from hostlocate.models import (
    AddressFacts,
    DnsPart,
    DNSResult,
    ErrorInfo,
    IpOwnership,
    Jurisdiction,
    NoticeContact,
    Provenance,
    Provider,
    RegistrarInfo,
    ReportedURL,
    Routing,
    SourceInfo,
    Verdict,
)
from hostlocate.parse import exceeds_dns_limits, parse_reported_url
from hostlocate.sources.bootstrap import Bootstrap
from hostlocate.sources.dns import DnsClient
from hostlocate.sources.rdap import RdapClient
from hostlocate.store import SqliteStore, TieredCache

log = _log.get_logger(__name__)

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
    kept in memory only. The locator does not close it. ``data_dir``: read every
    data set from this folder (pinning, for reproducible verdicts); by default the
    bundled data, or the user's downloaded copies where newer.
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
        address_cache_size: int = 131_072,
        rdap_options: dict[str, Any] | None = None,
        cache: SqliteStore | None = None,
        data_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
            raise ConfigError("timeout must be a positive number of seconds")
        self.timeout = float(timeout)
        self._dns = DnsClient(
            nameservers,
            query_timeout=query_timeout or min(2.0, self.timeout),
        )
        self._data = datasets.resolve(data_dir)
        self._geo = self._data.geo_database(geoip_country, geoip_asn)
        try:
            self._load(rdap, rdap_bootstrap, rdap_options, registrar)
        except BaseException:
            self._geo.close()  # the memory maps of a locator that never came to be
            raise
        self._store = cache
        # Keyed "host|A" and "host|AAAA": each answer lives for its own TTL.
        memory: TTLCache[str, DnsPart] = TTLCache(2 * dns_cache_size)
        self._dns_cache: Cache[str, DnsPart] = (
            TieredCache(memory, cache.namespace("dns-part", DnsPart)) if cache else memory
        )
        self._address_cache: collections.OrderedDict[str, AddressFacts] = collections.OrderedDict()
        self._address_cache_size = address_cache_size
        self._dns_inflight: dict[str, asyncio.Future[DnsPart]] = {}
        self._sources = self._collect_sources()
        self._version = _version()
        self._hosts: dict[str, tuple[float, DNSResult | None, _Core]] = {}
        """Each host's last decision from cached answers, until the first of them expires."""
        self._host_memo_size = max(1024, address_cache_size // 4)
        self._closed = False

    def _load(
        self,
        rdap: bool,
        rdap_bootstrap: str | os.PathLike[str] | None,
        rdap_options: dict[str, Any] | None,
        registrar: bool,
    ) -> None:
        """The data sets and registration settings; raises DataError on a bad file."""
        self._providers = self._data.provider_table()
        self._hotlines = self._data.hotline_directory()
        self._psl = self._data.public_suffixes()
        # The parser reads the bundled list unless given another (pinned, or a
        # newer download).
        bundled_psl = _resources.data_path(psl.SNAPSHOT)
        self._own_psl = None if self._psl.path == bundled_psl else self._psl
        self._rdap_enabled = rdap
        self._registrar = registrar and rdap
        self._rdap_bootstrap = Path(rdap_bootstrap) if rdap_bootstrap else self._data.rdap_bootstrap
        self._rdap_options = dict(rdap_options or {})
        # A bad bootstrap folder is the caller's to fix: refuse it now, not at the
        # first look-up of a batch.
        self._bootstrap = (
            Bootstrap.from_dir(self._rdap_bootstrap)
            if rdap and self._rdap_bootstrap is not None
            else None
        )
        self._rdap: RdapClient | None = None

    # -- public surface -----------------------------------------------------------

    @property
    def nameservers(self) -> tuple[str, ...]:
        """The resolvers asked, as ``host:port``."""
        return self._dns.resolver_names

    async def locate(self, url: str) -> Verdict:
        """One verdict for one reported URL; never raises for bad input or remote faults."""
        return await self._looked_up(url, None, time.perf_counter())

    async def _looked_up(self, url: str, parsed: ReportedURL | None, started: float) -> Verdict:
        try:
            if parsed is None:
                parsed = self._parse(url)
                verdict = self._locate_cached(url, parsed, started)
                if verdict is not None:
                    return verdict
            return await self._locate(url, parsed, started, time.monotonic() + self.timeout)
        except Exception as exc:  # bad input, a damaged data file, or a bug: never a lost record
            return self._failed(url, exc, started)

    async def locate_many(
        self,
        urls: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> AsyncIterator[Verdict]:
        """One verdict per input, in input order, with at most ``concurrency`` look-ups in flight.

        Inputs whose every answer is cached are answered at once, without a task;
        memory stays bounded whatever the input size.
        """
        async for chunk in self._located(_chunks(urls), concurrency):
            for verdict in chunk:
                yield verdict

    async def _located(
        self, chunks: AsyncIterator[list[str]], concurrency: int
    ) -> AsyncIterator[list[Verdict]]:
        """The verdicts of ``chunks`` of inputs, in order, as lists of whatever is ready.

        Work moves in lists, not one input at a time: on a warm cache a verdict
        costs microseconds, and a suspension or a thread hop per record would
        cost more than the verdict itself.
        """
        if concurrency < 1:
            raise ConfigError("concurrency must be at least 1")
        window: collections.deque[Verdict | asyncio.Task[Verdict]] = collections.deque()
        limit = max(4 * concurrency, 1024)
        slots = asyncio.Semaphore(concurrency)
        changed = asyncio.Event()
        space = asyncio.Event()

        async def looked_up(url: str, parsed: ReportedURL, started: float) -> Verdict:
            try:
                return await self._looked_up(url, parsed, started)
            finally:
                slots.release()

        async def produce() -> None:
            try_cached = self._try_cached
            append = window.append
            try:
                async for chunk in chunks:
                    for url in chunk:
                        if len(window) >= limit:
                            changed.set()
                            while len(window) >= limit:
                                space.clear()
                                await space.wait()
                        started = time.perf_counter()
                        ready = try_cached(url, started)
                        if isinstance(ready, Verdict):
                            append(ready)
                        else:
                            if slots.locked():
                                changed.set()  # let what is ready go while waiting
                            await slots.acquire()
                            append(asyncio.ensure_future(looked_up(url, ready, started)))
                    changed.set()
            finally:
                changed.set()

        # Reading runs beside yielding, so verdicts are handed out as soon as they
        # and those before them are ready, even while the next input is awaited.
        producer = asyncio.ensure_future(produce())
        try:
            while True:
                ready: list[Verdict] = []
                while window:
                    head = window[0]
                    if isinstance(head, Verdict):
                        ready.append(head)
                    elif head.done():
                        ready.append(head.result())
                    else:
                        break
                    window.popleft()
                if ready:
                    space.set()
                    yield ready
                    continue
                if window:
                    head = window[0]
                    assert not isinstance(head, Verdict)
                    await asyncio.wait((head,))
                    continue
                if producer.done():
                    producer.result()
                    return
                changed.clear()
                if not window and not producer.done():
                    await changed.wait()
        finally:
            producer.cancel()
            for left in window:
                if not isinstance(left, Verdict):
                    left.cancel()

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

    def _try_cached(self, text: str, started: float) -> Verdict | ReportedURL:
        """The verdict when no look-up is needed (bad input, special names, warm caches),
        else the parsed URL to look up."""
        try:
            parsed = self._parse(text)
            return self._locate_cached(text, parsed, started) or parsed
        except Exception as exc:  # bad input, a damaged data file, or a bug: never a lost record
            return self._failed(text, exc, started)

    def _parse(self, text: str) -> ReportedURL:
        url = parse_reported_url(text, suffixes=self._own_psl)
        if not url.is_ip and exceeds_dns_limits(url.host):
            raise InvalidURLError(
                f"host {url.host[:80]!r}... is longer than DNS allows (253 octets, 63 a label)",
                code=ErrorCode.TOO_LONG,
            )
        return url

    def _locate_cached(self, text: str, url: ReportedURL, started: float) -> Verdict | None:
        """The verdict from local data and caches only, or None where a look-up is needed."""
        special = _decide.decide_special(url)
        if special is not None:
            return self._special(text, url, special, started)
        found = self._decision(url)
        if found is None:
            return None
        return self._from_core(text, url, found[1], found[2], started)

    def _decision(self, url: ReportedURL) -> tuple[float, DNSResult | None, _Core] | None:
        """The host's decision from cached answers, made once and reused until the first
        answer behind it expires; None where an answer is not cached."""
        # Most records of a batch repeat a host whose evidence is still fresh.
        host = url.host
        memo = self._hosts.get(host)
        if memo is not None:
            if memo[0] > time.monotonic():
                return memo
            del self._hosts[host]
        found = self._evidence_cached(url)
        if found is None:
            return None
        if len(self._hosts) >= self._host_memo_size:
            self._hosts.clear()
        self._hosts[host] = found
        return found

    def _evidence_cached(self, url: ReportedURL) -> tuple[float, DNSResult | None, _Core] | None:
        """A host's decision from cached answers, with the moment the first of them expires."""
        expires = math.inf
        dns_result: DNSResult | None = None
        if url.is_ip:
            ips: tuple[str, ...] = (url.host,)
        else:
            dns = self._dns_cached(url.host)
            if dns is None:
                return None
            dns_result, expires = dns
            ips = dns_result.addresses
        rdap = self._rdap if self._rdap_enabled else None
        local = [self._static_facts(ip) for ip in ips]
        owners: list[IpOwnership | None] = []
        for fact in local:
            if self._rdap_enabled and fact.public:
                owned = rdap.cached_ip(fact.ip) if rdap is not None else None
                if owned is None:
                    return None
                owners.append(owned[0])
                expires = min(expires, owned[1])
            else:
                owners.append(None)
        info: RegistrarInfo | None = None
        domain = self._registrar_domain(url, ips)
        if domain is not None:
            registered = rdap.cached_domain(domain) if rdap is not None else None
            if registered is None:
                return None
            info = registered[0]
            expires = min(expires, registered[1])
        facts = tuple(_owned(f, o) for f, o in zip(local, owners, strict=True))
        registrar = _registrar_notice(info) if info is not None else None
        return expires, dns_result, self._decide(dns_result, facts, registrar)

    async def _locate(
        self, text: str, url: ReportedURL, started: float, deadline: float
    ) -> Verdict:
        dns_result: DNSResult | None = None
        if url.is_ip:
            ips: tuple[str, ...] = (url.host,)
        else:
            dns_result = await self._resolve(url.host, deadline)
            ips = dns_result.addresses
        registrar_task: asyncio.Future[NoticeContact | None] | None = None
        domain = self._registrar_domain(url, ips)
        if domain is not None:
            registrar_task = asyncio.ensure_future(self._registrar_contact(domain, deadline))
        facts = tuple(await asyncio.gather(*(self._address(ip, deadline) for ip in ips)))
        registrar = await registrar_task if registrar_task is not None else None
        # Records of a host looked up together share one decision, made from the
        # answers now cached, when those are the answers this record got (a short
        # TTL may have brought others meanwhile); it keeps its own DNS result, which
        # counts the queries it made.
        shared = self._decision(url)
        if shared is not None and (
            dns_result is None
            if shared[1] is None
            else dns_result is not None
            and msgspec.structs.replace(dns_result, queries=0) == shared[1]
        ):
            return self._from_core(text, url, dns_result, shared[2], started)
        return self._assemble(text, url, dns_result, facts, registrar, started)

    def _registrar_domain(self, url: ReportedURL, ips: tuple[str, ...]) -> str | None:
        if self._registrar and ips and url.icann_registered_domain and not url.is_ip:
            return url.icann_registered_domain
        return None

    def _special(
        self,
        text: str,
        url: ReportedURL,
        special: tuple[str, ErrorInfo | None, Jurisdiction],
        started: float,
    ) -> Verdict:
        status, error, jurisdiction = special
        routing = _decide.route(
            jurisdiction,
            status=status,
            addresses=(),
            chain_provider=None,
            hotlines_for=self._hotlines.for_country,
        )
        return self._finish(
            text,
            status=status,
            error=error,
            url=url,
            jurisdiction=jurisdiction,
            routing=routing,
            started=started,
        )

    def _assemble(
        self,
        text: str,
        url: ReportedURL,
        dns_result: DNSResult | None,
        facts: tuple[AddressFacts, ...],
        registrar: NoticeContact | None,
        started: float,
    ) -> Verdict:
        core = self._decide(dns_result, facts, registrar)
        return self._from_core(text, url, dns_result, core, started)

    def _from_core(
        self,
        text: str,
        url: ReportedURL,
        dns_result: DNSResult | None,
        core: _Core,
        started: float,
    ) -> Verdict:
        return self._finish(
            text,
            status=core.status,
            error=core.error,
            url=url,
            dns=dns_result,
            addresses=core.facts,
            cname_providers=core.cname_providers,
            jurisdiction=core.jurisdiction,
            routing=core.routing,
            started=started,
        )

    def _decide(
        self,
        dns_result: DNSResult | None,
        facts: tuple[AddressFacts, ...],
        registrar: NoticeContact | None,
    ) -> _Core:
        """Decision and routing over the gathered facts: the pure end of the pipeline."""
        cname_providers = self._chain_providers(dns_result.cname_chain if dns_result else ())
        # A CDN or proxy anywhere in the chain fronts the answer; else the first match.
        chain_provider = next(
            (p for p in cname_providers if p.kind in _decide.CDN_KINDS),
            cname_providers[0] if cname_providers else None,
        )
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
        return _Core(
            facts=facts,
            cname_providers=cname_providers,
            status=status,
            error=error,
            jurisdiction=jurisdiction,
            routing=routing,
        )

    async def _resolve(self, host: str, deadline: float) -> DNSResult:
        v4, v6 = await asyncio.gather(
            self._dns_part(host, "A", deadline), self._dns_part(host, "AAAA", deadline)
        )
        return self._dns.combine(host, v4, v6)

    def _dns_cached(self, host: str) -> tuple[DNSResult, float] | None:
        """The host's DNS facts when both its A and AAAA answers are cached, and when
        the first of them expires."""
        v4 = self._dns_cache.get_with_expiry(host + "|A")
        if v4 is None:
            return None
        v6 = self._dns_cache.get_with_expiry(host + "|AAAA")
        if v6 is None:
            return None
        return self._dns.combine(host, v4[0], v6[0]), min(v4[1], v6[1])

    async def _dns_part(self, host: str, rdtype: str, deadline: float) -> DnsPart:
        key = f"{host}|{rdtype}"
        cached = self._dns_cache.get(key)
        if cached is not None:
            return cached
        pending = self._dns_inflight.get(key)
        if pending is not None:
            shared = await asyncio.shield(pending)
            return msgspec.structs.replace(shared, queries=0)
        future: asyncio.Future[DnsPart] = asyncio.get_running_loop().create_future()
        self._dns_inflight[key] = future
        try:
            part = await self._dns.resolve_part(host, rdtype, deadline=deadline)
            # Cached copies made no query of their own.
            self._dns_cache.put(key, msgspec.structs.replace(part, queries=0), _cache_ttl(part))
            future.set_result(part)
            return part
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._dns_inflight[key]

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
        return _owned(facts, await self._rdap_client().lookup_ip(ip, deadline=deadline))

    async def _registrar_contact(self, domain: str, deadline: float) -> NoticeContact | None:
        info = await self._rdap_client().lookup_domain(domain, deadline=deadline)
        return _registrar_notice(info)

    def _chain_providers(self, chain: Sequence[str]) -> tuple[Provider, ...]:
        found: list[Provider] = []
        for name in chain:
            provider = self._providers.by_name(name)
            if provider is not None:
                found.append(msgspec.structs.replace(provider, matched_name=name))
        return tuple(found)

    def _rdap_client(self) -> RdapClient:
        if self._rdap is None:
            self._rdap = RdapClient(
                bootstrap_dir=self._rdap_bootstrap,
                bootstrap=self._bootstrap,
                timeout=self.timeout,
                cache=self._store,
                **self._rdap_options,
            )
        return self._rdap

    # -- verdict assembly -----------------------------------------------------------------

    def _collect_sources(self) -> dict[str, SourceInfo]:
        sources = self._data.sources()
        sources.update(self._geo.sources())
        if not self._rdap_enabled or self._rdap_bootstrap != self._data.rdap_bootstrap:
            sources.pop("rdap_bootstrap", None)
        return sources

    def _failed(self, text: str, exc: Exception, started: float) -> Verdict:
        """The verdict of a record whose look-up ended in an exception."""
        if isinstance(exc, InvalidURLError):
            status, code, message = _decide.INVALID, exc.code.value, exc.message
        elif isinstance(exc, DataError):
            # A data file damaged past what opening it checks: the verdict names it.
            log.warning("data error on %s: %s", _log.input_ref(text), exc.message)
            status, code, message = _decide.UNRESOLVED, ErrorCode.DATA.value, exc.message
        else:
            # The input itself only at DEBUG: it points at abuse material.
            ref = _log.input_ref(text)
            log.warning("internal error on %s: %s: %s", ref, type(exc).__name__, exc)
            log.debug("internal error on %s: input %r", ref, text, exc_info=exc)
            status, code = _decide.UNRESOLVED, ErrorCode.INTERNAL.value
            message = f"internal error: {exc!r}"
        return self._finish(
            text, status=status, error=ErrorInfo(code=code, message=message), started=started
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
        cname_providers: tuple[Provider, ...] = (),
        jurisdiction: Jurisdiction | None = None,
        routing: Routing | None = None,
    ) -> Verdict:
        if jurisdiction is None:
            jurisdiction = Jurisdiction()
        if routing is None:
            routing = Routing(escalation=None if status == _decide.INVALID else "manual_review")
        provenance = Provenance(
            version=self._version,
            resolved_at=_utc_stamp(),
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
            cname_providers=cname_providers,
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
        self,
        urls: Iterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_wait: Callable[[], None] | None = None,
    ) -> Iterator[Verdict]:
        """One verdict per input, in input order, streaming with bounded concurrency.

        The inputs are read on a thread of their own, so a slow source (a pipe)
        never stalls look-ups already under way; verdicts come back in batches of
        whatever is ready, so a warm cache costs no thread hop per record.
        ``on_wait`` is called, in the caller's thread, when no verdict has come
        for a moment (20 ms): the moment to flush what was written so far.
        """
        if concurrency < 1:
            raise ConfigError("concurrency must be at least 1")
        feed = _Feed(self._loop, capacity=max(4 * concurrency, 1024))
        out = _Drain(self._loop, capacity=max(4 * concurrency, 4096))
        reader = threading.Thread(
            target=feed.fill, args=(iter(urls),), name="hostlocate-input", daemon=True
        )
        pump = self._submit(out.pump(self._async._located(feed.chunks(), concurrency)))
        reader.start()
        try:
            while True:
                chunk = out.take(on_wait)
                if not chunk:
                    break
                yield from chunk
            pump.result()
            feed.reraise()
        except GeneratorExit:
            raise  # the caller stopped reading: it does not wait for a blocked input
        except BaseException:
            # A failure: wait until the reader has let go of the input, so that a
            # caller going on with the same iterator never shares it with this thread.
            feed.stop()
            reader.join()
            raise
        finally:
            feed.stop()
            if not pump.done():
                pump.cancel()
                out.release()

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


def _owned(facts: AddressFacts, owner: IpOwnership | None) -> AddressFacts:
    """An address's local facts with what RDAP says of its holder (if asked)."""
    if owner is None:
        return facts
    return msgspec.structs.replace(
        facts, network=owner.network, abuse_emails=owner.abuse_emails, rdap_error=owner.error
    )


def _registrar_notice(info: RegistrarInfo) -> NoticeContact | None:
    if info.error is not None or not (info.abuse_email or info.name):
        return None
    return NoticeContact(
        role="registrar",
        email=info.abuse_email,
        name=info.name,
        url=info.source_url,
        source="rdap",
    )


class _Core(NamedTuple):
    """A host's decision: the parts of its verdicts that do not change from record to record."""

    facts: tuple[AddressFacts, ...]
    cname_providers: tuple[Provider, ...]
    status: str
    error: ErrorInfo | None
    jurisdiction: Jurisdiction
    routing: Routing


_stamp_cache: tuple[int, str] = (-1, "")


def _utc_stamp() -> str:
    """Now in UTC, ISO 8601 to the millisecond; formatted once per millisecond."""
    global _stamp_cache
    now_ms = time.time_ns() // 1_000_000
    cached_ms, text = _stamp_cache
    if now_ms != cached_ms:
        seconds, millis = divmod(now_ms, 1000)
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"
        _stamp_cache = (now_ms, text)
    return text


class _Feed:
    """Inputs read on a thread of the caller's, handed to the event loop in lists.

    The loop is woken only when the queue goes from empty to not empty and then
    takes everything queued: a fast source costs a deque append per input, not
    a thread hop.
    """

    CHUNK = 512
    """Most inputs the loop takes at once (it answers them before it looks again)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, capacity: int) -> None:
        self._loop = loop
        self._items: collections.deque[str] = collections.deque()
        self._capacity = capacity
        self._wake_pending = False
        self._lock = threading.Lock()
        self._ready: asyncio.Event | None = None
        self._room = threading.Event()
        """Set by the loop when it takes inputs: the reader of a full queue waits on it."""
        self._ended = False
        self._stopped = False
        self._error: BaseException | None = None

    def fill(self, urls: Iterator[str]) -> None:
        items = self._items
        capacity = self._capacity
        try:
            for url in urls:
                while len(items) >= capacity:  # the look-ups are behind
                    if self._stopped:
                        return
                    self._room.clear()
                    if len(items) >= capacity:
                        self._room.wait(0.05)
                if self._stopped:
                    return
                items.append(url)
                if len(items) == 1:
                    self._wake()
        except BaseException as exc:  # handed to the caller's thread
            self._error = exc
        finally:
            self._ended = True
            self._wake()

    def _wake(self) -> None:
        with self._lock:
            if self._wake_pending:
                return
            self._wake_pending = True
        with contextlib.suppress(RuntimeError):  # a closed loop has nobody to wake
            self._loop.call_soon_threadsafe(self._woken)

    def _woken(self) -> None:
        with self._lock:
            self._wake_pending = False
        if self._ready is not None:
            self._ready.set()

    async def chunks(self) -> AsyncIterator[list[str]]:
        """The inputs in lists of whatever has been read, until the reader ends."""
        self._ready = ready = asyncio.Event()
        items = self._items
        popleft = items.popleft
        while True:
            if items:
                chunk = [popleft() for _ in range(min(len(items), self.CHUNK))]
                if not self._room.is_set():
                    self._room.set()
                yield chunk
                continue
            if self._ended and not items:
                return
            ready.clear()
            if items or self._ended:
                continue
            await ready.wait()

    def stop(self) -> None:
        self._stopped = True
        self._room.set()

    def reraise(self) -> None:
        if self._error is not None:
            raise self._error


class _Drain:
    """Verdicts made on the event loop, taken in batches by the caller's thread."""

    PAUSE = 0.02
    """Seconds without a verdict after which the caller's ``on_wait`` runs."""

    def __init__(self, loop: asyncio.AbstractEventLoop, capacity: int) -> None:
        self._loop = loop
        self._capacity = capacity
        self._items: list[Verdict] = []
        self._cond = threading.Condition()
        self._done = False
        self._space: asyncio.Event | None = None

    async def pump(self, chunks: AsyncIterator[list[Verdict]]) -> None:
        self._space = asyncio.Event()
        self._space.set()
        try:
            async for chunk in chunks:
                with self._cond:
                    was_empty = not self._items
                    self._items.extend(chunk)
                    full = len(self._items) >= self._capacity
                    if was_empty or full:
                        self._cond.notify()
                    if full:
                        self._space.clear()
                if full:
                    await self._space.wait()
        finally:
            with self._cond:
                self._done = True
                self._cond.notify()

    def take(self, on_wait: Callable[[], None] | None = None) -> list[Verdict]:
        with self._cond:
            if on_wait is not None and not self._items and not self._done:
                # Only a real pause calls on_wait: a warm run that briefly drains
                # the queue should not pay for a flush each time.
                self._cond.wait(self.PAUSE)
                if not self._items and not self._done:
                    self._cond.release()
                    try:
                        on_wait()
                    finally:
                        self._cond.acquire()
            while not self._items and not self._done:
                self._cond.wait()
            if len(self._items) < 64 and not self._done:
                # A moment more lets verdicts that trickle in (look-ups ending one
                # by one) be handed over together rather than a wake-up each.
                self._cond.wait(0.0005)
            items, self._items = self._items, []
        if self._space is not None and not self._space.is_set():
            self.release()
        return items

    def release(self) -> None:
        space = self._space
        if space is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(space.set)


def _cache_ttl(part: DnsPart) -> float:
    """How long one record type's answer is kept: its own TTL, RFC 2308 for negatives."""
    ttl = float(part.min_ttl) if part.min_ttl is not None else 0.0
    if part.addresses:
        return min(ttl, MAX_TTL)
    if part.error is None or part.error in (ErrorCode.NXDOMAIN.value, ErrorCode.NO_ADDRESS.value):
        # NXDOMAIN, or NODATA (no error, no address): the negative answer's TTL, capped.
        return min(ttl or NEGATIVE_TTL_CAP, NEGATIVE_TTL_CAP)
    if part.error in (
        ErrorCode.SERVFAIL.value,
        ErrorCode.REFUSED.value,
        ErrorCode.CNAME_LOOP.value,
        ErrorCode.CNAME_TOO_LONG.value,
    ):
        return SERVFAIL_TTL
    return 0.0


async def _chunks(
    items: Iterable[str] | AsyncIterable[str], size: int = 64
) -> AsyncIterator[list[str]]:
    """Inputs in lists: up to ``size`` from a plain iterable, one by one from an async one."""
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield [item]
        return
    iterator = iter(items)
    while True:
        chunk: list[str] = []
        try:
            for item in iterator:
                chunk.append(item)
                if len(chunk) >= size:
                    break
        except BaseException:
            if chunk:  # what was read before the failure is still answered
                yield chunk
            raise
        if chunk:
            yield chunk
        if len(chunk) < size:
            return


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
