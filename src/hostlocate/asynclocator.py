"""AsyncLocator: reported URL in, jurisdiction verdict out, on an event loop.

It and the sync ``Locator`` (:mod:`hostlocate.locator`) are thin drivers of
one pure plan (:mod:`hostlocate.plan`): the cache-only driver answers a plan's
questions from the sources' caches and gives up at the first miss; the live
driver asks the sources, concurrently where the plan asks several things at
once.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import os
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Iterable,
    Sequence,
)
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import msgspec

from hostlocate import _log, _resources, psl
from hostlocate import decide as _decide
from hostlocate._bridge import chunks
from hostlocate._inflight import InFlight
from hostlocate._stream import in_order
from hostlocate.address_book import AddressBook
from hostlocate.cache import Cache, TTLCache
from hostlocate.datasets import resolution
from hostlocate.errors import ConfigError, DataError, ErrorCode, InvalidURLError
from hostlocate.models import DnsPart, DNSResult, Report, ReportedURL, SourceInfo, Verdict
from hostlocate.parse import exceeds_dns_limits, parse_reported_url
from hostlocate.plan import Answer, AutnumOf, Need, Outcome, OwnerOf, Plan, ResolveName
from hostlocate.sources.base import DnsSource, GeoSource, OwnerSource
from hostlocate.verdicts import VerdictBuilder

if TYPE_CHECKING:
    from hostlocate.redis_store import RedisStore
    from hostlocate.store import SqliteStore

log = _log.get_logger(__name__)

DEFAULT_TIMEOUT = 5.0
DEFAULT_CONCURRENCY = 64


class _Request(NamedTuple):
    """A parsed record that needs the sources: its URL, any disclosed origin, and the
    key its decision is kept and shared under."""

    url: ReportedURL
    origin: tuple[str, ...]
    key: str


class _Known(NamedTuple):
    """A host's decision made from cached answers, until the first of them expires."""

    expires: float
    dns: DNSResult | None
    decision: _decide.Decision


class AsyncLocator:
    """Locates reported URLs with asyncio; one instance per event loop.

    All parameters are keyword-only except ``nameservers``; see the verdict
    contract for their meaning. ``timeout`` is the budget for one URL, in seconds.
    ``cache``: a persistent store that keeps DNS answers and RDAP networks across
    runs and processes (``hostlocate.store.SqliteStore``, or a ``RedisStore`` shared
    by many workers), or its spec (a path, a ``redis://`` URL), which the locator
    opens and closes; by default answers are kept in memory only. A store given
    open is not closed by the locator. ``data_dir``: read every
    data set from this folder (pinning, for reproducible verdicts); by default the
    bundled data, or the user's downloaded copies where newer.

    ``dns``, ``owners`` and ``geo`` replace the default sources (see
    :mod:`hostlocate.sources.base`): a shared cache, another registry client, or a
    fake in a test. The locator closes the sources it was given as its own.
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
        cache: SqliteStore | RedisStore | str | os.PathLike[str] | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        dns: DnsSource | None = None,
        owners: OwnerSource | None = None,
        geo: GeoSource | None = None,
    ) -> None:
        if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
            raise ConfigError("timeout must be a positive number of seconds")
        self.timeout = float(timeout)
        self._data = resolution.resolve(data_dir)
        self._geo = geo if geo is not None else self._data.geo_database(geoip_country, geoip_asn)
        try:
            self._load(rdap, rdap_bootstrap)
        except BaseException:
            self._geo.close()  # the memory maps of a locator that never came to be
            raise
        self._owns_store = isinstance(cache, str | os.PathLike)
        if isinstance(cache, str | os.PathLike):
            from hostlocate.caches import open_cache

            cache = open_cache(cache)
        self._store: SqliteStore | RedisStore | None = cache
        self._dns = (
            dns
            if dns is not None
            else _default_dns(
                nameservers, query_timeout or min(2.0, self.timeout), dns_cache_size, cache
            )
        )
        self._owners = owners
        self._rdap_options = dict(rdap_options or {})
        self._addresses = AddressBook(self._geo, self._providers, address_cache_size)
        self._plan = Plan(
            address_facts=self._addresses.facts,
            provider_for_name=self._providers.by_name,
            hotlines_for=self._hotlines.for_country,
            rdap=rdap,
            registrar=registrar,
            platform_for=self._platform_hit,
            redirector_for=self._platforms.redirector,
        )
        self._sources = self._collect_sources(rdap)
        self._verdicts = VerdictBuilder(
            version=_version(),
            sources=self._sources,
            resolvers=self._dns.resolver_names,
            rdap=rdap,
        )
        self._known: dict[str, _Known] = {}
        self._known_size = max(1024, address_cache_size // 4)
        self._inflight: InFlight[str, tuple[DNSResult | None, _decide.Decision]] = InFlight()
        self._closed = False

    def _load(self, rdap: bool, rdap_bootstrap: str | os.PathLike[str] | None) -> None:
        """The data sets and registration settings; raises DataError on a bad file."""
        self._providers = self._data.provider_table()
        self._hotlines = self._data.hotline_directory()
        self._platforms = self._data.platform_table()
        suffixes = self._data.public_suffixes()
        # The parser reads the bundled list unless given another (pinned, or a
        # newer download).
        self._own_psl = None if suffixes.path == _resources.data_path(psl.SNAPSHOT) else suffixes
        self._rdap_bootstrap = Path(rdap_bootstrap) if rdap_bootstrap else self._data.rdap_bootstrap
        # A bad bootstrap folder is the caller's to fix: refuse it now, not at the
        # first look-up of a batch.
        self._bootstrap: Any = None
        if rdap and self._rdap_bootstrap is not None:
            from hostlocate.sources.bootstrap import Bootstrap

            self._bootstrap = Bootstrap.from_dir(self._rdap_bootstrap)

    # -- public surface -----------------------------------------------------------

    @property
    def nameservers(self) -> tuple[str, ...]:
        """The resolvers asked, as ``host:port``."""
        return self._dns.resolver_names

    async def locate(self, url: str, origin: Sequence[str] = ()) -> Verdict:
        """One verdict for one reported URL; never raises for bad input or remote faults.

        ``origin``: the origin addresses an intermediary (a CDN, a reverse proxy)
        disclosed; they are looked up like the host's own and decide the country.
        Raises ``TypeError`` when ``url`` is not text: that is the caller's bug, not
        a reported URL (``locate_many`` gives such an item an ``invalid`` verdict).
        """
        started = time.perf_counter()
        ready = self._answer_now(text_of(url), started, tuple(origin))
        if isinstance(ready, Verdict):
            return ready
        return await self._finish(url, ready, started)

    async def locate_many(
        self,
        urls: Iterable[str | Report] | AsyncIterable[str | Report],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> AsyncIterator[Verdict]:
        """One verdict per input, in input order, with at most ``concurrency`` look-ups in flight.

        An input is a URL, or a :class:`~hostlocate.models.Report` that carries a
        disclosed origin with it.

        Inputs whose every answer is cached are answered at once, without a task;
        memory stays bounded whatever the input size.
        """
        async for chunk in self._located(chunks(urls), concurrency):
            for verdict in chunk:
                yield verdict

    def stats(self) -> dict[str, Any]:
        """Cache hit rates and request counts so far."""
        out = dict(self._dns.stats())
        if self._owners is not None:
            out["rdap"] = self._owners.stats()
        return out

    @property
    def sources(self) -> dict[str, SourceInfo]:
        """The data sources behind every verdict of this locator."""
        return dict(self._sources)

    async def aclose(self) -> None:
        """Release the sources: HTTP client, sockets, databases."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._inflight.cancel_all()
            if self._owners is not None:
                await self._owners.aclose()
            await self._dns.aclose()
        finally:
            self._geo.close()
            if self._owns_store and self._store is not None:
                self._store.close()

    async def __aenter__(self) -> AsyncLocator:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- the drivers ---------------------------------------------------------------------

    def _answer_now(
        self, text: str, started: float, origin: tuple[str, ...] = ()
    ) -> Verdict | _Request:
        """The verdict where it needs no source at all (bad input, special names, a host
        decided recently), else what to look up. Safe from any thread: it reads only
        immutable data and the decisions kept per host."""
        try:
            url = self._parse(text)
            special = _decide.decide_special(url, self._hotlines.for_country)
            if special is not None:
                return self._verdicts.build(text, special, started=started, url=url)
            request = _request(url, origin)
            known = self._known.get(request.key)
            if known is not None and known.expires > time.monotonic():
                return self._verdicts.build(
                    text, known.decision, started=started, url=url, dns=known.dns
                )
            return request
        except Exception as exc:  # bad input, a damaged data file, or a bug: never a lost record
            return self._failed(text, exc, started)

    def _answer_cached(
        self, text: str, started: float, origin: tuple[str, ...] = ()
    ) -> Verdict | _Request:
        """The verdict from local data and the sources' caches, else what to look up."""
        ready = self._answer_now(text, started, origin)
        if isinstance(ready, Verdict) or ready.key in self._inflight:
            return ready  # a host being looked up: the record shares that look-up
        return self._from_cache(text, ready, started) or ready

    def _from_cache(self, text: str, request: _Request, started: float) -> Verdict | None:
        """The verdict from the sources' caches, or None where a look-up is needed."""
        try:
            known = self._decided_from_cache(request)
        except Exception as exc:
            return self._failed(text, exc, started)
        if known is None:
            return None
        return self._verdicts.build(
            text, known.decision, started=started, url=request.url, dns=known.dns
        )

    def _decided_from_cache(self, request: _Request) -> _Known | None:
        """Run the plan on cached answers only; None at the first answer not cached."""
        steps = self._plan.steps(request.url, request.origin)
        expires = math.inf
        try:
            needs = next(steps)
            while True:
                answers: list[Answer] = []
                for need in needs:
                    hit = self._cached(need)
                    if hit is None:
                        steps.close()
                        return None
                    answers.append(hit[0])
                    expires = min(expires, hit[1])
                needs = steps.send(tuple(answers))
        except StopIteration as done:
            outcome: Outcome = done.value
        known = _Known(expires, outcome.dns, outcome.decision)
        self._keep(request.key, known)
        return known

    def _keep(self, key: str, known: _Known) -> None:
        if len(self._known) >= self._known_size:
            self._known.clear()
        self._known[key] = known

    def _cached(self, need: Need) -> tuple[Answer, float] | None:
        if isinstance(need, ResolveName):
            return self._dns.cached(need.host, need.rdtype)
        owners = self._owners
        if owners is None:
            return None
        if isinstance(need, OwnerOf):
            return owners.cached_ip(need.ip)
        if isinstance(need, AutnumOf):
            return owners.cached_autnum(need.asn)
        return owners.cached_domain(need.domain)

    async def _finish(self, text: str, request: _Request, started: float) -> Verdict:
        """The verdict of a record that needs the sources: their caches, then a look-up."""
        return self._from_cache(text, request, started) or await self._looked_up(
            text, request, started
        )

    async def _looked_up(self, text: str, request: _Request, started: float) -> Verdict:
        """The verdict after asking the sources; records of one host share one look-up."""
        try:
            # Another record's look-up of the host (its answer, or None if it failed).
            shared = await self._inflight.join(request.key, math.inf)
            if shared is not None:
                dns, decision = shared
                dns = dns and _no_queries(dns)  # asked by another record
            else:
                known = self._known.get(request.key)
                if known is not None and known.expires > time.monotonic():
                    dns, decision = known.dns, known.decision  # decided while this one waited
                else:
                    live = self._decided_live(request, time.monotonic() + self.timeout)
                    dns, decision = await self._inflight.lead(request.key, live, math.inf)
            return self._verdicts.build(text, decision, started=started, url=request.url, dns=dns)
        except Exception as exc:  # a damaged data file or a bug: never a lost record
            return self._failed(text, exc, started)

    async def _decided_live(
        self, request: _Request, deadline: float
    ) -> tuple[DNSResult | None, _decide.Decision]:
        """Run the plan against the sources, asking what it needs at once concurrently.

        The decision is then kept for the host until the first answer behind it
        leaves the sources' caches, so the next records need no plan at all.
        """
        steps = self._plan.steps(request.url, request.origin)
        asked: list[Need] = []
        try:
            needs = next(steps)
            while True:
                asked.extend(needs)
                answers = await asyncio.gather(*(self._ask(need, deadline) for need in needs))
                needs = steps.send(tuple(answers))
        except StopIteration as done:
            outcome: Outcome = done.value
        expires = math.inf
        for need in asked:
            hit = self._cached(need)
            if hit is None:  # an answer that is not kept (a timeout, TTL 0)
                return outcome.dns, outcome.decision
            expires = min(expires, hit[1])
        dns = outcome.dns
        self._keep(request.key, _Known(expires, dns and _no_queries(dns), outcome.decision))
        return dns, outcome.decision

    async def _ask(self, need: Need, deadline: float) -> Answer:
        if isinstance(need, ResolveName):
            return await self._dns.resolve(need.host, need.rdtype, deadline=deadline)
        owners = self._owner_source()
        if isinstance(need, OwnerOf):
            return await owners.lookup_ip(need.ip, deadline=deadline)
        if isinstance(need, AutnumOf):
            return await owners.lookup_autnum(need.asn, deadline=deadline)
        return await owners.lookup_domain(need.domain, deadline=deadline)

    def _answer_item(self, item: object, started: float) -> Verdict | tuple[str, _Request]:
        """An input of ``locate_many``: its verdict when ready, else what to look up."""
        origin: tuple[str, ...] = ()
        if isinstance(item, str):
            text = item
        elif isinstance(item, Report) and isinstance(item.url, str):
            text, origin = item.url, item.origin
        else:
            return self._not_text(item, started)
        ready = self._answer_cached(text, started, origin)
        return ready if isinstance(ready, Verdict) else (text, ready)

    async def _look_up_item(self, pending: tuple[str, _Request], started: float) -> Verdict:
        return await self._looked_up(pending[0], pending[1], started)

    def _located(
        self, inputs: AsyncIterator[list[str | Report]], concurrency: int
    ) -> AsyncIterator[list[Verdict]]:
        return in_order(inputs, concurrency, self._answer_item, self._look_up_item)

    # -- the parts ---------------------------------------------------------------------

    def _parse(self, text: str) -> ReportedURL:
        url = parse_reported_url(text, suffixes=self._own_psl)
        if not url.is_ip and exceeds_dns_limits(url.host):
            raise InvalidURLError(
                f"host {url.host[:80]!r}... is longer than DNS allows (253 octets, 63 a label)",
                code=ErrorCode.TOO_LONG,
            )
        return url

    def _platform_hit(self, url: ReportedURL, chain: tuple[str, ...]) -> _decide.PlatformHit | None:
        platform = self._platforms.match(url, chain)
        if platform is None:
            return None
        record = self._platforms.get(platform.id)
        return _decide.PlatformHit(platform, record.front_ends if record is not None else None)

    def _owner_source(self) -> OwnerSource:
        """The RDAP source, made at the first look-up (a run answered from local data
        or caches never imports the HTTP stack)."""
        if self._owners is None:
            from hostlocate.sources.rdap import RdapClient

            options = dict(self._rdap_options)
            shared = _shared(self._store)
            if shared is not None and "budget" not in options:
                # Every worker of one Redis draws on one budget per registry.
                from hostlocate.sources._rdap_ratelimit import limits_from

                options["budget"] = shared.budget(limits_from(options.get("rate_limits")))
            client = RdapClient(
                bootstrap_dir=self._rdap_bootstrap,
                bootstrap=self._bootstrap,
                timeout=self.timeout,
                cache=self._store,
                **options,
            )
            # ... and a network one worker is asking about is not asked by the others.
            self._owners = shared.share(client) if shared is not None else client
        return self._owners

    def _collect_sources(self, rdap: bool) -> dict[str, SourceInfo]:
        sources = self._data.sources()
        sources.update(self._geo.sources())
        if not rdap or self._rdap_bootstrap != self._data.rdap_bootstrap:
            sources.pop("rdap_bootstrap", None)
        return sources

    def _failed(self, text: str, exc: Exception, started: float) -> Verdict:
        """The verdict of a record whose look-up ended in an exception, logged."""
        if isinstance(exc, DataError):
            log.warning("data error on %s: %s", _log.input_ref(text), exc.message)
        elif not isinstance(exc, InvalidURLError):
            # The input itself only at DEBUG: it points at abuse material.
            ref = _log.input_ref(text)
            log.warning("internal error on %s: %s: %s", ref, type(exc).__name__, exc)
            log.debug("internal error on %s: input %r", ref, text, exc_info=exc)
        return self._verdicts.failed(text, exc, started)

    def _not_text(self, item: object, started: float) -> Verdict:
        """An input of ``locate_many`` that is not text: an ``invalid`` verdict, not a
        lost record."""
        error = InvalidURLError(
            f"a reported URL must be text, not {type(item).__name__}", code=ErrorCode.NOT_TEXT
        )
        return self._verdicts.failed(repr(item)[:200], error, started)


def _request(url: ReportedURL, origin: tuple[str, ...]) -> _Request:
    """What to look up; a disclosed origin is part of the key its decision is kept under."""
    if not origin:
        return _Request(url, (), url.host)
    addresses = tuple(dict.fromkeys(_origin_address(text) for text in origin))
    return _Request(url, addresses, url.host + "|" + ",".join(addresses))


def _origin_address(text: object) -> str:
    try:
        return str(ipaddress.ip_address(str(text).strip().strip("[]")))
    except ValueError:
        raise InvalidURLError(
            f"origin {str(text)[:60]!r} is not an IP address", code=ErrorCode.BAD_IP_LITERAL
        ) from None


def _shared(store: object) -> RedisStore | None:
    """The store when it is shared by workers (Redis); the Redis code is loaded only then."""
    from hostlocate.store import SqliteStore

    if store is None or isinstance(store, SqliteStore):
        return None
    from hostlocate.redis_store import RedisStore

    return store if isinstance(store, RedisStore) else None


def _no_queries(dns: DNSResult) -> DNSResult:
    return msgspec.structs.replace(dns, queries=0)


def text_of(url: object) -> str:
    """The reported URL; anything but text is the caller's bug."""
    if not isinstance(url, str):
        raise TypeError(f"a reported URL must be str, not {type(url).__name__}")
    return url


def _version() -> str:
    from hostlocate import __version__

    return __version__


def _default_dns(
    nameservers: Sequence[str] | None,
    query_timeout: float,
    cache_size: int,
    store: SqliteStore | RedisStore | None,
) -> DnsSource:
    from hostlocate.sources._nameservers import DeferredClient
    from hostlocate.sources.dns_cache import CachedDns

    # Keyed "host|A" and "host|AAAA": each answer lives for its own TTL.
    memory: TTLCache[str, DnsPart] = TTLCache(2 * cache_size)
    cache: Cache[str, DnsPart] = memory
    if store is not None:
        from hostlocate.store import TieredCache

        cache = TieredCache(memory, store.namespace("dns-part", DnsPart))
    # The client (dnspython, the UDP transport) is made at the first name to resolve.
    return CachedDns(DeferredClient(nameservers, query_timeout=query_timeout), cache)
