"""Who holds an address, and who registered a domain: RDAP, frugally and safely.

:class:`RdapClient` is the only public piece. For an address it finds the
registry from the IANA bootstrap (:mod:`.bootstrap`), fetches the ``ip
network`` object (following registry redirects through the allow-list),
parses it, and caches the answer by the *range* it names, so every other
address of that network is answered without a request. Concurrent look-ups of
addresses in the same /24 (IPv4) or /48 (IPv6) wait for the one in flight
instead of asking again. Remote faults never raise: they come back as an
:class:`~hostlocate.errors.ErrorCode` value in ``error``.

See docs/rdap.md for the service choice, the redirect rules, the budgets and
what each error code means.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import os
import time
from collections import Counter
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from hostlocate.errors import ErrorCode
from hostlocate.models import IpOwnership, RegistrarInfo
from hostlocate.sources._rdap_cache import MemoryRdapCache
from hostlocate.sources._rdap_fetch import Failure, Fetcher, Tally
from hostlocate.sources._rdap_parse import (
    EntityRef,
    ParseError,
    parse_entity_abuse,
    parse_network,
    parse_registrar,
)
from hostlocate.sources._rdap_policy import ServicePolicy
from hostlocate.sources._rdap_ratelimit import RateLimit, RateLimiter, limits_from
from hostlocate.sources.base import RateBudget, RdapCache, RdapEntryKind
from hostlocate.sources.bootstrap import IANA_BOOTSTRAP_URLS, Bootstrap

__all__ = ["RateLimit", "RdapClient"]

log = logging.getLogger("hostlocate.rdap")

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_CANCELLED = "the look-up in flight was cancelled"

# Errors that say nothing about one address in particular: a look-up waiting on
# another one in flight for the same block takes that answer instead of asking.
_SHARED_ERRORS = frozenset(
    {
        ErrorCode.RDAP_TIMEOUT.value,
        ErrorCode.RDAP_RATE_LIMITED.value,
        ErrorCode.RDAP_HTTP_ERROR.value,
        ErrorCode.RDAP_NO_SERVICE.value,
        ErrorCode.RDAP_BAD_RESPONSE.value,
        ErrorCode.RDAP_TOO_LARGE.value,
        ErrorCode.RDAP_TOO_MANY_REDIRECTS.value,
        ErrorCode.RDAP_REDIRECT_REFUSED.value,
    }
)


def _block_key(address: _Address) -> tuple[int, int]:
    if address.version == 4:
        return 4, int(address) >> 8
    return 6, int(address) >> 80


def _default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("hostlocate")) / "rdap-bootstrap"


class RdapClient:
    """Asynchronous RDAP look-ups for addresses and domains (one event loop).

    ``bootstrap_dir``: a folder of IANA-format bootstrap files; its services
    are trusted as given (``http://`` and private addresses included). Without
    it, IANA's files are fetched on first use and cached in
    ``bootstrap_cache_dir`` (default: the user's cache folder); where that is
    impossible, look-ups start at ARIN and follow its redirects.
    ``user_services``: more base URLs redirects and links may lead to.
    ``allow_private_targets``: follow to loopback/private address literals;
    None (default) allows it exactly when the configured services are
    themselves on such addresses. ``rate_limits``: registry name → requests per
    second (or :class:`RateLimit`), merged over the published defaults; ``"*"``
    is every other registry; ``budget``: the per-registry budget to draw on
    instead (a :class:`~hostlocate.sources.base.RateBudget` shared with other
    workers; ``rate_limits`` then does not apply). ``client``: an
    ``httpx.AsyncClient`` to use (not closed by :meth:`aclose`); its redirect
    setting is ignored. ``cache``: where answers are kept (a
    :class:`~hostlocate.sources.base.RdapCache`, for example a
    ``hostlocate.store.SqliteStore`` that keeps them across runs and
    processes); default: in memory, ``cache_size`` ranges a service.
    ``max_concurrent_requests``: HTTP requests in flight at once, all registries
    together (more only queue inside httpx, at a cost that grows with the queue).
    """

    def __init__(
        self,
        *,
        bootstrap_dir: str | os.PathLike[str] | None = None,
        timeout: float = 5.0,
        max_redirects: int = 3,
        max_body_bytes: int = 1_000_000,
        user_services: Sequence[str] = (),
        allow_private_targets: bool | None = None,
        client: httpx.AsyncClient | None = None,
        rate_limits: Mapping[str, float | RateLimit | Sequence[RateLimit]] | None = None,
        bootstrap: Bootstrap | None = None,
        bootstrap_cache_dir: str | os.PathLike[str] | None = None,
        bootstrap_urls: Mapping[str, str] = IANA_BOOTSTRAP_URLS,
        bootstrap_max_age_days: float = 7.0,
        cache_ttl: float = 86_400.0,
        cache_size: int = 65_536,
        negative_ttl: float = 3_600.0,
        max_entity_requests: int = 2,
        max_retry_wait: float = 30.0,
        max_concurrent_requests: int = 8,
        cache: RdapCache | None = None,
        budget: RateBudget | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if (
            max_redirects < 0
            or max_body_bytes < 1
            or max_entity_requests < 0
            or max_concurrent_requests < 1
        ):
            raise ValueError(
                "max_redirects, max_body_bytes, max_entity_requests and "
                "max_concurrent_requests must be positive (max_redirects, "
                "max_entity_requests: or zero)"
            )
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.max_body_bytes = max_body_bytes
        self.max_entity_requests = max_entity_requests
        self.max_retry_wait = max_retry_wait
        self.max_concurrent_requests = max_concurrent_requests
        self._user_services = tuple(user_services)
        self._allow_private = allow_private_targets
        self._bootstrap_cache_dir = bootstrap_cache_dir
        self._bootstrap_urls = dict(bootstrap_urls)
        self._bootstrap_max_age_days = bootstrap_max_age_days
        if bootstrap is None and bootstrap_dir is not None:
            bootstrap = Bootstrap.from_dir(bootstrap_dir)
        self._bootstrap = bootstrap
        self._given_client = client
        self._made_client: httpx.AsyncClient | None = None
        self._budget: RateBudget = (
            budget if budget is not None else RateLimiter(limits_from(rate_limits))
        )
        self._cache: RdapCache = (
            cache if cache is not None else MemoryRdapCache(max_entries=cache_size)
        )
        self._negative_ttl = negative_ttl
        self._cache_ttl = cache_ttl
        self._encode = msgspec.msgpack.Encoder().encode
        self._ip_decoder = msgspec.msgpack.Decoder(IpOwnership)
        self._domain_decoder = msgspec.msgpack.Decoder(RegistrarInfo)
        self._hot: dict[str, tuple[float, IpOwnership]] = {}
        self._hot_size = max(1024, min(4 * cache_size, 262_144))
        self._hits = 0
        self._inflight: dict[tuple[int, int], asyncio.Future[IpOwnership]] = {}
        self._domain_inflight: dict[str, asyncio.Future[RegistrarInfo]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        """Look-ups under way, some past the deadline of the record that started them."""
        self._fetcher: Fetcher | None = None
        self._state: tuple[Fetcher, Bootstrap] | None = None
        self._ready = asyncio.Lock()
        self._counts: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()

    # -- set-up -------------------------------------------------------------------

    @property
    def _client(self) -> httpx.AsyncClient:
        """The HTTP client, made at the first request: a run answered from the
        cache never pays for one (its TLS context costs tens of milliseconds)."""
        if self._given_client is not None:
            return self._given_client
        if self._made_client is None:
            self._made_client = httpx.AsyncClient(
                headers={
                    "Accept": "application/rdap+json, application/json;q=0.9",
                    "User-Agent": _user_agent(),
                },
                follow_redirects=False,
                trust_env=False,
                timeout=self.timeout,
            )
        return self._made_client

    @property
    def bootstrap(self) -> Bootstrap | None:
        """The bootstrap in use (None until the first look-up loads IANA's)."""
        return self._bootstrap

    async def load_bootstrap(self) -> Bootstrap:
        """Load the bootstrap now (the first look-up does it otherwise); never raises."""
        _, bootstrap = await self._ensure_ready()
        return bootstrap

    async def _ensure_ready(self) -> tuple[Fetcher, Bootstrap]:
        if self._state is not None:
            return self._state
        async with self._ready:
            if self._state is None:
                bootstrap = self._bootstrap
                if bootstrap is None:
                    bootstrap = await Bootstrap.load_or_fetch(
                        self._bootstrap_cache_dir or _default_cache_dir(),
                        self._client,
                        max_age_days=self._bootstrap_max_age_days,
                        urls=self._bootstrap_urls,
                        timeout=min(self.timeout, 5.0),
                    )
                    log.info("RDAP bootstrap: %s", bootstrap.origin)
                    self._bootstrap = bootstrap
                user_given = bootstrap.origin == "user"
                policy = ServicePolicy(
                    listed=() if user_given else bootstrap.services,
                    configured=[*self._user_services, *(bootstrap.services if user_given else ())],
                    allow_private=self._allow_private,
                )
                fetcher = Fetcher(
                    self._client,
                    policy,
                    self._budget,
                    timeout=self.timeout,
                    max_redirects=self.max_redirects,
                    max_body_bytes=self.max_body_bytes,
                    max_retry_wait=self.max_retry_wait,
                    max_concurrent=self.max_concurrent_requests,
                )
                self._fetcher = fetcher
                self._state = (fetcher, bootstrap)
            return self._state

    # -- addresses ------------------------------------------------------------------

    async def lookup_ip(self, ip: str, *, deadline: float | None = None) -> IpOwnership:
        """The registered network and abuse contacts of ``ip``; never raises for remote faults.

        ``deadline`` is a ``time.monotonic()`` value: past it the look-up gives
        up with ``rdap_timeout`` (or ``rdap_rate_limited`` when only a budget
        wait stands in the way). Raises ``ValueError`` if ``ip`` is not an
        address.
        """
        cached = self.peek_ip(ip)
        if cached is not None:
            return cached
        address = ipaddress.ip_address(ip)
        end = math.inf if deadline is None else deadline
        key = _block_key(address)
        joined: set[int] = set()
        while True:
            pending = self._inflight.get(key)
            if pending is None or id(pending) in joined:
                break
            joined.add(id(pending))
            self._counts["inflight_joins"] += 1
            try:
                leader = await _wait(pending, end)
            except TimeoutError:
                return self._fail(ErrorCode.RDAP_TIMEOUT, "deadline passed while waiting", 0)
            found = self._from_cache(address, ip)
            if found is not None:
                return found[0]
            if leader.error in _SHARED_ERRORS:
                self._hits += 1
                return msgspec.structs.replace(leader, requests=0, from_cache=True)
        try:
            return await self._lead(
                self._inflight,
                key,
                self._fetch_ip(address, end),
                end,
                IpOwnership(detail=_CANCELLED),
            )
        except TimeoutError:
            return self._fail(ErrorCode.RDAP_TIMEOUT, _LATE, 0)

    def peek_ip(self, ip: str) -> IpOwnership | None:
        """The cached answer for ``ip`` (its network, or a remembered 404), or None.

        Never asks a registry: the synchronous fast path for warm batches.
        """
        found = self.peek_ip_until(ip)
        return None if found is None else found[0]

    def peek_ip_until(self, ip: str) -> tuple[IpOwnership, float] | None:
        """:meth:`peek_ip` with the ``time.monotonic()`` moment the answer expires."""
        hot = self._hot.get(ip)
        if hot is not None:
            if hot[0] > time.monotonic():
                self._hits += 1
                return hot[1], hot[0]
            del self._hot[ip]
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        return self._from_cache(address, ip)

    def peek_domain(self, domain: str) -> RegistrarInfo | None:
        """The cached registrar answer for ``domain``, or None; never asks a registry."""
        found = self.peek_domain_until(domain)
        return None if found is None else found[0]

    def peek_domain_until(self, domain: str) -> tuple[RegistrarInfo, float] | None:
        """:meth:`peek_domain` with the ``time.monotonic()`` moment the answer expires."""
        hit = self._read("registrar", domain.strip().rstrip(".").lower(), self._domain_decoder)
        if hit is not None:
            self._counts["domain_cache_hits"] += 1
        return hit

    def _service_key(self, address: _Address) -> str | None:
        """The service the bootstrap gives ``address`` to: the key of its ranges."""
        if self._bootstrap is None:
            return None
        services = self._bootstrap.service_for_ip(address)
        return services[0] if services else None

    def _read(
        self, kind: RdapEntryKind, key: str, decoder: msgspec.msgpack.Decoder[_T]
    ) -> tuple[_T, float] | None:
        found = self._cache.get_entry(kind, key)
        return None if found is None else _decoded(decoder, found)

    def _keep(self, kind: RdapEntryKind, key: str, value: Any, ttl: float) -> None:
        kept = msgspec.structs.replace(value, from_cache=True, requests=0)
        self._cache.put_entry(kind, key, self._encode(kept), ttl)

    def _from_cache(self, address: _Address, text: str) -> tuple[IpOwnership, float] | None:
        service = self._service_key(address)
        network = None if service is None else self._cache.find_network(service, address)
        found = None if network is None else _decoded(self._ip_decoder, network)
        if found is not None:
            # Remember the address text itself: parsing it costs more than the range probe.
            self._hot[text] = (found[1], found[0])
            if len(self._hot) > self._hot_size:
                del self._hot[next(iter(self._hot))]
            self._hits += 1
            return found
        negative = self._read("negative", str(address), self._ip_decoder)
        if negative is not None:
            self._hits += 1
        return negative

    def _fail(self, code: ErrorCode, detail: str, requests: int) -> IpOwnership:
        self._errors[code.value] += 1
        return IpOwnership(error=code.value, detail=detail, requests=requests)

    async def _fetch_ip(self, address: _Address, deadline: float) -> IpOwnership:
        self._counts["cache_misses"] += 1
        if not address.is_global:
            return self._fail(ErrorCode.RDAP_NO_SERVICE, "not a public address", 0)
        if time.monotonic() >= deadline:
            return self._fail(ErrorCode.RDAP_TIMEOUT, "deadline passed", 0)
        fetcher, bootstrap = await self._ensure_ready()
        tally = Tally()
        url = self._first_service(fetcher, bootstrap.service_for_ip(address), "ip/", str(address))
        if url is None:
            return self._fail(ErrorCode.RDAP_NO_SERVICE, f"no usable RDAP service for {address}", 0)
        try:
            fetched = await fetcher.get_json(url, deadline, tally)
            facts = parse_network(fetched.body, registry=fetched.registry, source_url=fetched.url)
        except Failure as exc:
            result = self._fail(exc.code, exc.detail, tally.requests)
            if exc.code is ErrorCode.RDAP_NOT_FOUND:
                self._keep("negative", str(address), result, self._negative_ttl)
            return result
        except ParseError as exc:
            return self._fail(ErrorCode.RDAP_BAD_RESPONSE, str(exc), tally.requests)
        emails = facts.abuse_emails
        if not emails and facts.abuse_refs and self.max_entity_requests:
            # An answer that came after its record's deadline is still completed
            # (and kept), with the time of one more request.
            follow = max(deadline, time.monotonic() + self.timeout)
            emails = await self._follow_entities(
                fetcher, facts.abuse_refs, fetched.url, follow, tally
            )
        result = IpOwnership(network=facts.network, abuse_emails=emails, requests=tally.requests)
        holds = facts.version == address.version and facts.start <= int(address) <= facts.end
        service = self._service_key(address)
        if holds and service is not None:
            cached = msgspec.structs.replace(result, from_cache=True, requests=0)
            self._cache.put_network(
                service,
                facts.version,
                facts.start,
                facts.end,
                self._encode(cached),
                self._cache_ttl,
            )
        else:
            log.info("RDAP: %s answered a range that does not hold the address", fetched.registry)
        return result

    def _first_service(
        self, fetcher: Fetcher, bases: Sequence[str], kind: str, value: str
    ) -> str | None:
        for base in bases:
            url = f"{base}{kind}{value}"
            if fetcher.policy.check(url) is None:
                return url
        return None

    async def _follow_entities(
        self,
        fetcher: Fetcher,
        refs: Sequence[EntityRef],
        answered: str,
        deadline: float,
        tally: Tally,
    ) -> tuple[str, ...]:
        """Fetch abuse entities named without an e-mail, at most ``max_entity_requests``."""
        cut = answered.rfind("/ip/")
        base = answered[: cut + 1] if cut >= 0 else None
        emails: list[str] = []
        budget = self.max_entity_requests
        for ref in refs:
            if budget <= 0:
                break
            candidates = list(ref.links)
            if ref.handle and base:
                candidates.append(f"{base}entity/{quote(ref.handle, safe='')}")
            url = next((u for u in candidates if fetcher.policy.check(u) is None), None)
            if url is None:
                continue
            budget -= 1
            self._counts["entity_requests"] += 1
            try:
                fetched = await fetcher.get_json(url, deadline, tally)
                emails.extend(parse_entity_abuse(fetched.body))
            except (Failure, ParseError) as exc:
                self._counts["entity_failures"] += 1
                log.debug("RDAP entity %s: %s", ref.handle, exc)
        return _dedupe(emails)

    # -- domains --------------------------------------------------------------------

    async def lookup_domain(self, domain: str, *, deadline: float | None = None) -> RegistrarInfo:
        """The registrar of ``domain`` (A-label form) and its abuse contact, via ``dns.json``.

        Never raises for remote faults; ``ValueError`` for an empty name.
        """
        name = domain.strip().rstrip(".").lower()
        if not name:
            raise ValueError("empty domain")
        hit = self.peek_domain(name)
        if hit is not None:
            return hit
        end = math.inf if deadline is None else deadline
        pending = self._domain_inflight.get(name)
        if pending is not None:
            self._counts["inflight_joins"] += 1
            try:
                leader = await _wait(pending, end)
            except TimeoutError:
                return RegistrarInfo(
                    domain=name,
                    error=ErrorCode.RDAP_TIMEOUT.value,
                    detail="deadline passed while waiting",
                )
            if leader.detail != _CANCELLED:
                return msgspec.structs.replace(leader, requests=0, from_cache=True)
        try:
            return await self._lead(
                self._domain_inflight,
                name,
                self._fetch_domain(name, end),
                end,
                RegistrarInfo(domain=name, detail=_CANCELLED),
            )
        except TimeoutError:
            return self._domain_fail(name, ErrorCode.RDAP_TIMEOUT, _LATE, 0)

    async def _lead(
        self,
        inflight: dict[_K, asyncio.Future[_T]],
        key: _K,
        fetch: Coroutine[Any, Any, _T],
        deadline: float,
        cancelled: _T,
    ) -> _T:
        """Run ``fetch`` as the one look-up of ``key`` that others join; wait for it until
        ``deadline`` (then raise ``TimeoutError``).

        The look-up itself goes on past the deadline of the record that started
        it, within the request's own timeout: an answer a registry is already
        sending is cached for the records that come next instead of being thrown
        away and asked for again (registries count every request).
        """
        future: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        inflight[key] = future
        task = asyncio.ensure_future(fetch)
        self._tasks.add(task)

        def finished(done: asyncio.Task[_T]) -> None:
            self._tasks.discard(done)
            if inflight.get(key) is future:
                del inflight[key]
            if future.done():
                return
            if done.cancelled() or done.exception() is not None:
                future.set_result(cancelled)  # joiners then look up for themselves
                return
            result = done.result()
            if time.monotonic() >= deadline and getattr(result, "error", None) is None:
                self._counts["late_answers"] += 1  # an answer kept that the caller gave up on
            future.set_result(result)

        task.add_done_callback(finished)
        return await _wait(task, deadline)

    async def _fetch_domain(self, name: str, deadline: float) -> RegistrarInfo:
        self._counts["domain_cache_misses"] += 1
        if time.monotonic() >= deadline:
            return self._domain_fail(name, ErrorCode.RDAP_TIMEOUT, "deadline passed", 0)
        fetcher, bootstrap = await self._ensure_ready()
        url = self._first_service(
            fetcher, bootstrap.service_for_domain(name), "domain/", quote(name, safe=".")
        )
        if url is None:
            return self._domain_fail(
                name, ErrorCode.RDAP_NO_SERVICE, f"no usable RDAP service for {name}", 0
            )
        tally = Tally()
        try:
            fetched = await fetcher.get_json(url, deadline, tally)
            facts = parse_registrar(fetched.body)
        except Failure as exc:
            result = self._domain_fail(name, exc.code, exc.detail, tally.requests)
            if exc.code is ErrorCode.RDAP_NOT_FOUND:
                self._keep("registrar", name, result, self._negative_ttl)
            return result
        except ParseError as exc:
            return self._domain_fail(name, ErrorCode.RDAP_BAD_RESPONSE, str(exc), tally.requests)
        result = RegistrarInfo(
            domain=name,
            name=facts.registrar,
            iana_id=facts.iana_id,
            abuse_email=facts.abuse_email,
            abuse_phone=facts.abuse_phone,
            source_url=fetched.url,
            requests=tally.requests,
        )
        self._keep("registrar", name, result, self._cache_ttl)
        return result

    def _domain_fail(self, name: str, code: ErrorCode, detail: str, requests: int) -> RegistrarInfo:
        self._errors[code.value] += 1
        return RegistrarInfo(domain=name, error=code.value, detail=detail, requests=requests)

    # -- bookkeeping ----------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Requests per registry, cache hits and misses, budget waits, errors."""
        requests = dict(self._fetcher.requests) if self._fetcher else {}
        budget = self._budget.stats()
        return {
            "requests": requests,
            "requests_total": sum(requests.values()),
            "cache_hits": self._hits,
            "cache_misses": self._counts["cache_misses"],
            "cache_networks": (
                len(self._cache) if isinstance(self._cache, MemoryRdapCache) else None
            ),
            "domain_cache_hits": self._counts["domain_cache_hits"],
            "domain_cache_misses": self._counts["domain_cache_misses"],
            "inflight_joins": self._counts["inflight_joins"],
            "late_answers": self._counts["late_answers"],
            "lookups_under_way": len(self._tasks),
            "entity_requests": self._counts["entity_requests"],
            "entity_failures": self._counts["entity_failures"],
            "rate_limit_waits": int(budget.get("waits", 0)),
            "rate_limit_wait_seconds": round(budget.get("wait_seconds", 0.0), 3),
            "rate_limit_refusals": int(budget.get("refusals", 0)),
            "retry_after_waits": self._fetcher.retry_after_waits if self._fetcher else 0,
            "errors": dict(self._errors),
            "bootstrap": self._bootstrap.origin if self._bootstrap else None,
        }

    async def aclose(self) -> None:
        """Stop look-ups still under way and close the HTTP client if this object created it."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._made_client is not None:
            await self._made_client.aclose()

    async def __aenter__(self) -> RdapClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _dedupe(values: Sequence[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    out = []
    for value in values:
        if value.lower() not in seen:
            seen.add(value.lower())
            out.append(value)
    return tuple(out)


_T = TypeVar("_T")
_K = TypeVar("_K")
_LATE = "deadline passed; the answer is kept for later records when it comes"


async def _wait(future: asyncio.Future[_T], deadline: float) -> _T:
    if math.isinf(deadline):
        return await asyncio.shield(future)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    async with asyncio.timeout(remaining):
        return await asyncio.shield(future)


def _decoded(
    decoder: msgspec.msgpack.Decoder[_T], found: tuple[bytes, float]
) -> tuple[_T, float] | None:
    """A cached value and the ``time.monotonic()`` moment it expires; None when
    the bytes no longer decode (a record changed between versions)."""
    try:
        return decoder.decode(found[0]), time.monotonic() + found[1]
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def _user_agent() -> str:
    from hostlocate import __version__

    return f"hostlocate/{__version__} (RDAP client)"
