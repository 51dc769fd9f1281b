"""Locator and AsyncLocator: reported URL in, jurisdiction verdict out.

Both are thin drivers of one pure plan (:mod:`hostlocate.plan`): the
cache-only driver answers a plan's questions from the sources' caches and
gives up at the first miss; the live driver asks the sources, concurrently
where the plan asks several things at once. The sync ``Locator`` runs the
async one on a private event loop thread and answers what needs no look-up
(bad input, special names, a host decided recently) in the caller's thread.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
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
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import msgspec

from hostlocate import _log, _resources, psl
from hostlocate import decide as _decide
from hostlocate._bridge import Drain, Feed, chunks
from hostlocate.address_book import AddressBook
from hostlocate.cache import Cache, TTLCache
from hostlocate.datasets import resolution
from hostlocate.errors import ConfigError, DataError, ErrorCode, InvalidURLError
from hostlocate.models import DnsPart, DNSResult, ReportedURL, SourceInfo, Verdict
from hostlocate.parse import exceeds_dns_limits, parse_reported_url
from hostlocate.plan import Answer, Need, Outcome, OwnerOf, Plan, RegistrarOf, ResolveName
from hostlocate.sources.base import DnsSource, GeoSource, OwnerSource
from hostlocate.verdicts import VerdictBuilder

if TYPE_CHECKING:
    from hostlocate.store import SqliteStore

log = _log.get_logger(__name__)

DEFAULT_TIMEOUT = 5.0
DEFAULT_CONCURRENCY = 64


class _Known(NamedTuple):
    """A host's decision made from cached answers, until the first of them expires."""

    expires: float
    dns: DNSResult | None
    decision: _decide.Decision


class AsyncLocator:
    """Locates reported URLs with asyncio; one instance per event loop.

    All parameters are keyword-only except ``nameservers``; see the verdict
    contract for their meaning. ``timeout`` is the budget for one URL, in seconds.
    ``cache``: a persistent store (``hostlocate.store.SqliteStore``) that keeps DNS
    answers and RDAP networks across runs and processes; by default answers are
    kept in memory only. The locator does not close it. ``data_dir``: read every
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
        cache: SqliteStore | None = None,
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
        self._store = cache
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
        )
        self._verdicts = VerdictBuilder(
            version=_version(),
            sources=self._collect_sources(rdap),
            resolvers=self._dns.resolver_names,
            rdap=rdap,
        )
        self._known: dict[str, _Known] = {}
        self._known_size = max(1024, address_cache_size // 4)
        self._inflight: dict[str, asyncio.Future[tuple[DNSResult | None, _decide.Decision]]] = {}
        self._closed = False

    def _load(self, rdap: bool, rdap_bootstrap: str | os.PathLike[str] | None) -> None:
        """The data sets and registration settings; raises DataError on a bad file."""
        self._providers = self._data.provider_table()
        self._hotlines = self._data.hotline_directory()
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

    async def locate(self, url: str) -> Verdict:
        """One verdict for one reported URL; never raises for bad input or remote faults.

        Raises ``TypeError`` when ``url`` is not text: that is the caller's bug, not
        a reported URL (``locate_many`` gives such an item an ``invalid`` verdict).
        """
        started = time.perf_counter()
        ready = self._answer_now(_text(url), started)
        if isinstance(ready, Verdict):
            return ready
        return await self._finish(url, ready, started)

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
            if self._owners is not None:
                await self._owners.aclose()
            await self._dns.aclose()
        finally:
            self._geo.close()

    async def __aenter__(self) -> AsyncLocator:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- the drivers ---------------------------------------------------------------------

    def _answer_now(self, text: str, started: float) -> Verdict | ReportedURL:
        """The verdict where it needs no source at all (bad input, special names, a host
        decided recently), else the parsed URL. Safe from any thread: it reads only
        immutable data and the decisions kept per host."""
        try:
            url = self._parse(text)
            special = _decide.decide_special(url, self._hotlines.for_country)
            if special is not None:
                return self._verdicts.build(text, special, started=started, url=url)
            known = self._known.get(url.host)
            if known is not None and known.expires > time.monotonic():
                return self._verdicts.build(
                    text, known.decision, started=started, url=url, dns=known.dns
                )
            return url
        except Exception as exc:  # bad input, a damaged data file, or a bug: never a lost record
            return self._failed(text, exc, started)

    def _answer_cached(self, text: str, started: float) -> Verdict | ReportedURL:
        """The verdict from local data and the sources' caches, else the parsed URL."""
        ready = self._answer_now(text, started)
        if isinstance(ready, Verdict) or ready.host in self._inflight:
            return ready  # a host being looked up: the record shares that look-up
        try:
            known = self._decided_from_cache(ready)
        except Exception as exc:
            return self._failed(text, exc, started)
        if known is None:
            return ready
        return self._verdicts.build(text, known.decision, started=started, url=ready, dns=known.dns)

    def _decided_from_cache(self, url: ReportedURL) -> _Known | None:
        """Run the plan on cached answers only; None at the first answer not cached."""
        steps = self._plan.steps(url)
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
        self._keep(url.host, known)
        return known

    def _keep(self, host: str, known: _Known) -> None:
        if len(self._known) >= self._known_size:
            self._known.clear()
        self._known[host] = known

    def _cached(self, need: Need) -> tuple[Answer, float] | None:
        if isinstance(need, ResolveName):
            return self._dns.cached(need.host, need.rdtype)
        owners = self._owners
        if owners is None:
            return None
        if isinstance(need, OwnerOf):
            return owners.cached_ip(need.ip)
        return owners.cached_domain(need.domain)

    async def _finish(self, text: str, url: ReportedURL, started: float) -> Verdict:
        """The verdict of a parsed URL that needs the sources: their caches, then a look-up."""
        try:
            known = self._decided_from_cache(url)
        except Exception as exc:
            return self._failed(text, exc, started)
        if known is not None:
            return self._verdicts.build(
                text, known.decision, started=started, url=url, dns=known.dns
            )
        return await self._looked_up(text, url, started)

    async def _looked_up(self, text: str, url: ReportedURL, started: float) -> Verdict:
        """The verdict after asking the sources; records of one host share one look-up."""
        try:
            pending = self._inflight.get(url.host)
            if pending is not None:
                dns, decision = await asyncio.shield(pending)
                dns = dns and _no_queries(dns)  # asked by another record
            else:
                known = self._known.get(url.host)
                if known is not None and known.expires > time.monotonic():
                    dns, decision = known.dns, known.decision  # decided while this one waited
                else:
                    dns, decision = await self._look_up_host(url)
            return self._verdicts.build(text, decision, started=started, url=url, dns=dns)
        except Exception as exc:  # a damaged data file or a bug: never a lost record
            return self._failed(text, exc, started)

    async def _look_up_host(self, url: ReportedURL) -> tuple[DNSResult | None, _decide.Decision]:
        future: asyncio.Future[tuple[DNSResult | None, _decide.Decision]]
        future = asyncio.get_running_loop().create_future()
        self._inflight[url.host] = future
        try:
            found = await self._decided_live(url, time.monotonic() + self.timeout)
            future.set_result(found)
            return found
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._inflight[url.host]

    async def _decided_live(
        self, url: ReportedURL, deadline: float
    ) -> tuple[DNSResult | None, _decide.Decision]:
        """Run the plan against the sources, asking what it needs at once concurrently.

        The decision is then kept for the host until the first answer behind it
        leaves the sources' caches, so the next records need no plan at all.
        """
        steps = self._plan.steps(url)
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
        self._keep(url.host, _Known(expires, dns and _no_queries(dns), outcome.decision))
        return dns, outcome.decision

    async def _ask(self, need: Need, deadline: float) -> Answer:
        if isinstance(need, ResolveName):
            return await self._dns.resolve(need.host, need.rdtype, deadline=deadline)
        owners = self._owner_source()
        if isinstance(need, OwnerOf):
            return await owners.lookup_ip(need.ip, deadline=deadline)
        assert isinstance(need, RegistrarOf)
        return await owners.lookup_domain(need.domain, deadline=deadline)

    async def _located(
        self, inputs: AsyncIterator[list[str]], concurrency: int
    ) -> AsyncIterator[list[Verdict]]:
        """The verdicts of lists of inputs, in order, as lists of whatever is ready.

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

        async def looked_up(text: str, url: ReportedURL, started: float) -> Verdict:
            try:
                return await self._looked_up(text, url, started)
            finally:
                slots.release()

        async def produce() -> None:
            answer = self._answer_cached
            append = window.append
            try:
                async for chunk in inputs:
                    for item in chunk:
                        if len(window) >= limit:
                            changed.set()
                            while len(window) >= limit:
                                space.clear()
                                await space.wait()
                        started = time.perf_counter()
                        text = item if isinstance(item, str) else None
                        if text is None:
                            append(self._not_text(item, started))
                            continue
                        ready = answer(text, started)
                        if isinstance(ready, Verdict):
                            append(ready)
                        else:
                            if slots.locked():
                                changed.set()  # let what is ready go while waiting
                            await slots.acquire()
                            append(asyncio.ensure_future(looked_up(text, ready, started)))
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
                    await asyncio.wait((cast(asyncio.Task[Verdict], window[0]),))
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

    # -- the parts ---------------------------------------------------------------------

    def _parse(self, text: str) -> ReportedURL:
        url = parse_reported_url(text, suffixes=self._own_psl)
        if not url.is_ip and exceeds_dns_limits(url.host):
            raise InvalidURLError(
                f"host {url.host[:80]!r}... is longer than DNS allows (253 octets, 63 a label)",
                code=ErrorCode.TOO_LONG,
            )
        return url

    def _owner_source(self) -> OwnerSource:
        """The RDAP source, made at the first look-up (a run answered from local data
        or caches never imports the HTTP stack)."""
        if self._owners is None:
            from hostlocate.sources.rdap import RdapClient

            self._owners = RdapClient(
                bootstrap_dir=self._rdap_bootstrap,
                bootstrap=self._bootstrap,
                timeout=self.timeout,
                store=self._store,
                **self._rdap_options,
            )
        return self._owners

    def _collect_sources(self, rdap: bool) -> dict[str, SourceInfo]:
        sources = self._data.sources()
        sources.update(self._geo.sources())
        if not rdap or self._rdap_bootstrap != self._data.rdap_bootstrap:
            sources.pop("rdap_bootstrap", None)
        self._sources = sources
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


def _no_queries(dns: DNSResult) -> DNSResult:
    return msgspec.structs.replace(dns, queries=0)


def _text(url: object) -> str:
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
    store: SqliteStore | None,
) -> DnsSource:
    from hostlocate.sources.dns import DnsClient
    from hostlocate.sources.dns_cache import CachedDns

    # Keyed "host|A" and "host|AAAA": each answer lives for its own TTL.
    memory: TTLCache[str, DnsPart] = TTLCache(2 * cache_size)
    cache: Cache[str, DnsPart] = memory
    if store is not None:
        from hostlocate.store import TieredCache

        cache = TieredCache(memory, store.namespace("dns-part", DnsPart))
    return CachedDns(DnsClient(nameservers, query_timeout=query_timeout), cache)


class Locator:
    """The synchronous locator: same parameters and method names as :class:`AsyncLocator`.

    Safe to share between threads: look-ups run on one private event loop; what
    needs no look-up (bad input, special names, a host decided recently) is
    answered in the calling thread, without the hop to the loop.
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
        """One verdict for one reported URL; never raises for bad input or remote faults.

        Raises ``TypeError`` when ``url`` is not text.
        """
        started = time.perf_counter()
        ready = self._async._answer_now(_text(url), started)
        if isinstance(ready, Verdict):
            return ready
        verdict: Verdict = self._submit(self._async._finish(url, ready, started)).result()
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
        feed: Feed[str] = Feed(self._loop, capacity=max(4 * concurrency, 1024))
        out: Drain[Verdict] = Drain(self._loop, capacity=max(4 * concurrency, 4096))
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
