"""Who holds an address, its AS, and who registered a domain: RDAP, frugally and safely.

:class:`RdapClient` is the only public piece. For an address it finds the
registry from the IANA bootstrap (:mod:`.bootstrap`), fetches the ``ip
network`` object (following registry redirects through the allow-list),
parses it, and caches the answer by the *range* it names (per service, within
the service's bootstrap entry), so every other address of that network is
answered without a request. Concurrent look-ups of addresses in the same /24
(IPv4) or /48 (IPv6) wait for the one in flight instead of asking again.
Addresses, domains and autonomous systems share that one path
(:mod:`._rdap_query`); the cache and the request budget are given to the
client or built in memory (:mod:`.base` names their protocols). Remote faults
never raise: they come back as an :class:`~hostlocate.errors.ErrorCode` value
in ``error``.

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
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from hostlocate._inflight import InFlight
from hostlocate.errors import ErrorCode
from hostlocate.models import AutnumInfo, IpOwnership, RegistrarInfo
from hostlocate.sources._rdap_cache import MemoryRdapCache, TieredRdapCache
from hostlocate.sources._rdap_fetch import Failure, Fetcher, FetchLimits, Tally
from hostlocate.sources._rdap_parse import (
    EntityRef,
    ParseError,
    parse_entity_abuse,
)
from hostlocate.sources._rdap_policy import ServicePolicy
from hostlocate.sources._rdap_query import (
    IP_DECODER,
    AutnumQuery,
    DomainQuery,
    IpQuery,
    Query,
    decoded,
    domain_key,
)
from hostlocate.sources._rdap_ratelimit import RateLimit, RateLimiter, limits_from
from hostlocate.sources.base import RateBudget, RdapCache, RdapEntryKind
from hostlocate.sources.bootstrap import IANA_BOOTSTRAP_URLS, Bootstrap

__all__ = ["RateLimit", "RdapClient"]

log = logging.getLogger("hostlocate.rdap")

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_T = TypeVar("_T", IpOwnership, RegistrarInfo, AutnumInfo)
_V = TypeVar("_V")


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
        ErrorCode.RDAP_UNREACHABLE.value,
    }
)


def _default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("hostlocate")) / "rdap-bootstrap"


class RdapClient:
    """Asynchronous RDAP look-ups for addresses, domains and AS numbers (one event loop).

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
        self.limits = FetchLimits(
            timeout=timeout,
            max_redirects=max_redirects,
            max_body_bytes=max_body_bytes,
            max_retry_wait=max_retry_wait,
            max_concurrent=max_concurrent_requests,
        )
        """What each request may cost (checked here: a bad value raises ``ValueError``)."""
        if max_entity_requests < 0:
            raise ValueError("max_entity_requests must be zero or more")
        self.max_entity_requests = max_entity_requests
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
            MemoryRdapCache(max_entries=cache_size)
            if cache is None
            else TieredRdapCache(cache, self._span_of, max_entries=cache_size)
        )
        self._negative_ttl = negative_ttl
        self._cache_ttl = cache_ttl
        self._encode = msgspec.msgpack.Encoder().encode
        self._hot: dict[str, tuple[float, IpOwnership]] = {}
        self._hot_size = max(1024, min(4 * cache_size, 262_144))
        self._ip_flights: InFlight[tuple[int, int], IpOwnership] = InFlight()
        self._domain_flights: InFlight[str, RegistrarInfo] = InFlight()
        self._autnum_flights: InFlight[int, AutnumInfo] = InFlight()
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
                timeout=self.limits.timeout,
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
                        timeout=min(self.limits.timeout, 5.0),
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
                    self.limits,
                )
                self._fetcher = fetcher
                self._state = (fetcher, bootstrap)
            return self._state

    # -- look-ups -------------------------------------------------------------------

    async def lookup_ip(self, ip: str, *, deadline: float | None = None) -> IpOwnership:
        """The registered network and abuse contacts of ``ip``; never raises for remote faults.

        ``deadline`` is a ``time.monotonic()`` value: past it the look-up gives
        up with ``rdap_timeout`` (or ``rdap_rate_limited`` when only a budget
        wait stands in the way). Raises ``ValueError`` if ``ip`` is not an
        address.
        """
        hit = self.cached_ip(ip)
        if hit is not None:
            return hit[0]
        return await self._lookup(IpQuery(self, ipaddress.ip_address(ip)), deadline)

    async def lookup_domain(self, domain: str, *, deadline: float | None = None) -> RegistrarInfo:
        """The registrar of ``domain`` (A-label form) and its abuse contact, via ``dns.json``.

        Never raises for remote faults; ``ValueError`` for an empty name.
        """
        name = domain_key(domain)
        if not name:
            raise ValueError("empty domain")
        hit = self.cached_domain(name)
        if hit is not None:
            return hit[0]
        return await self._lookup(DomainQuery(self, name), deadline)

    async def lookup_autnum(self, asn: int, *, deadline: float | None = None) -> AutnumInfo:
        """The name and abuse contacts of autonomous system ``asn``, via ``asn.json``.

        Never raises for remote faults; ``ValueError`` for a number that is not an AS.
        """
        if not 0 <= asn < 2**32:
            raise ValueError(f"not an AS number: {asn}")
        hit = self.cached_autnum(asn)
        if hit is not None:
            return hit[0]
        return await self._lookup(AutnumQuery(self, asn), deadline)

    def cached_ip(self, ip: str) -> tuple[IpOwnership, float] | None:
        """The cached answer for ``ip`` (its network, or a remembered 404) and the
        ``time.monotonic()`` moment it expires, or None; never asks a registry."""
        hot = self._hot.get(ip)
        if hot is not None:
            if hot[0] > time.monotonic():
                self._counts["cache_hits"] += 1
                return hot[1], hot[0]
            del self._hot[ip]
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        return IpQuery(self, address).cached()

    def cached_domain(self, domain: str) -> tuple[RegistrarInfo, float] | None:
        """The cached registrar answer for ``domain`` and when it expires, or None."""
        return DomainQuery(self, domain_key(domain)).cached()

    def cached_autnum(self, asn: int) -> tuple[AutnumInfo, float] | None:
        """The cached answer for AS ``asn`` and when it expires, or None."""
        return AutnumQuery(self, asn).cached()

    async def _lookup(self, query: Query[_T], deadline: float | None) -> _T:
        """The one path of every look-up: join the one under way, or lead one."""
        end = math.inf if deadline is None else deadline
        while query.flight in query.flights:
            try:
                leader = await query.flights.join(query.flight, end)
            except TimeoutError:
                return query.fail(ErrorCode.RDAP_TIMEOUT, "deadline passed while waiting", 0)
            hit = query.cached()
            if hit is not None:
                return hit[0]
            if leader is not None and (query.exact or leader.error in _SHARED_ERRORS):
                self._counts[f"{query.counter}_hits"] += 1
                return msgspec.structs.replace(leader, requests=0, from_cache=True)
        try:
            return await query.flights.lead(query.flight, self._fetch(query, end), end)
        except TimeoutError:
            return query.fail(ErrorCode.RDAP_TIMEOUT, _LATE, 0)

    async def _fetch(self, query: Query[_T], deadline: float) -> _T:
        self._counts[f"{query.counter}_misses"] += 1
        refused = query.refused()
        if refused is not None:
            return query.fail(ErrorCode.RDAP_NO_SERVICE, refused, 0)
        if time.monotonic() >= deadline:
            return query.fail(ErrorCode.RDAP_TIMEOUT, "deadline passed", 0)
        fetcher, bootstrap = await self._ensure_ready()
        url = next(
            (
                f"{base}{query.path}"
                for base in query.services(bootstrap)
                if fetcher.policy.check(f"{base}{query.path}") is None
            ),
            None,
        )
        if url is None:
            # The bootstrap names no service for it (a bundled one holds no dns.json):
            # remembered like a 404, so warm records are not held for a look-up
            # that can never be made.
            result = query.fail(ErrorCode.RDAP_NO_SERVICE, f"no usable RDAP service for {query}", 0)
            self._keep(query.entry, query.key, result, self._negative_ttl)
            return result
        tally = Tally()
        try:
            fetched = await fetcher.get_json(url, deadline, tally)
            result = await query.build(fetcher, fetched, deadline, tally)
        except Failure as exc:
            result = query.fail(exc.code, exc.detail, tally.requests)
            if exc.code is ErrorCode.RDAP_NOT_FOUND:
                self._keep(query.entry, query.key, result, self._negative_ttl)
            return result
        except ParseError as exc:
            return query.fail(ErrorCode.RDAP_BAD_RESPONSE, str(exc), tally.requests)
        query.keep(result)
        if time.monotonic() >= deadline and result.error is None:
            self._counts["late_answers"] += 1  # an answer kept that the caller gave up on
        return result

    def _service_key(self, address: _Address) -> str | None:
        """The service the bootstrap gives ``address`` to: the key of its ranges."""
        if self._bootstrap is None:
            return None
        services = self._bootstrap.service_for_ip(address)
        return services[0] if services else None

    def cacheable_span(
        self, address: _Address, version: int, start: int, end: int
    ) -> tuple[int, int, int] | None:
        """The range to keep a network answer under, for the service of ``address``:
        clipped to the bootstrap entry that gives the address to that service (a
        service answers only for what the bootstrap gives it); None when the range
        does not hold the address."""
        number = int(address)
        if version != address.version or not start <= number <= end:
            return None
        entry = self._bootstrap.ip_entry(address) if self._bootstrap is not None else None
        if entry is not None:
            start, end = max(start, entry[0]), min(end, entry[1])
        return version, start, end

    def _span_of(
        self, service: str, address: _Address, value: bytes
    ) -> tuple[int, int, int] | None:
        """The range a network answer read back from a shared cache covers here."""
        found = decoded(IP_DECODER, (value, 0.0))
        network = None if found is None else found[0].network
        if network is None or not network.start_address or not network.end_address:
            return None
        try:
            first = ipaddress.ip_address(network.start_address)
            last = ipaddress.ip_address(network.end_address)
        except ValueError:
            return None
        return self.cacheable_span(address, first.version, int(first), int(last))

    def _failed(self, code: ErrorCode) -> None:
        self._errors[code.value] += 1

    def _read(
        self, kind: RdapEntryKind, key: str, decoder: msgspec.msgpack.Decoder[_V]
    ) -> tuple[_V, float] | None:
        found = self._cache.get_entry(kind, key)
        return None if found is None else decoded(decoder, found)

    def _keep(self, kind: RdapEntryKind, key: str, value: Any, ttl: float) -> None:
        kept = msgspec.structs.replace(value, from_cache=True, requests=0)
        self._cache.put_entry(kind, key, self._encode(kept), ttl)

    def _remember(self, text: str, found: tuple[IpOwnership, float]) -> None:
        """Remember an address's answer under its text: parsing it costs more than the probe."""
        self._hot[text] = (found[1], found[0])
        if len(self._hot) > self._hot_size:
            del self._hot[next(iter(self._hot))]

    async def _follow_entities(
        self,
        fetcher: Fetcher,
        refs: Sequence[EntityRef],
        answered: str,
        kind: str,
        deadline: float,
        tally: Tally,
    ) -> tuple[str, ...]:
        """Fetch abuse entities named without an e-mail, at most ``max_entity_requests``.

        An answer that came after its record's deadline is still completed (and
        kept), with the time of one more request.
        """
        if not refs or not self.max_entity_requests:
            return ()
        deadline = max(deadline, time.monotonic() + self.limits.timeout)
        cut = answered.rfind(f"/{kind}/")
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

    # -- bookkeeping ----------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Requests per registry, cache hits and misses, budget waits, errors."""
        requests = dict(self._fetcher.requests) if self._fetcher else {}
        budget = self._budget.stats()
        return {
            "requests": requests,
            "requests_total": sum(requests.values()),
            "cache_hits": self._counts["cache_hits"],
            "cache_misses": self._counts["cache_misses"],
            "cache_networks": (
                len(self._cache)
                if isinstance(self._cache, MemoryRdapCache | TieredRdapCache)
                else None
            ),
            "domain_cache_hits": self._counts["domain_cache_hits"],
            "domain_cache_misses": self._counts["domain_cache_misses"],
            "autnum_cache_hits": self._counts["autnum_cache_hits"],
            "autnum_cache_misses": self._counts["autnum_cache_misses"],
            "inflight_joins": sum(f.joins for f in self._all_flights()),
            "late_answers": self._counts["late_answers"],
            "lookups_under_way": sum(len(f.tasks) for f in self._all_flights()),
            "entity_requests": self._counts["entity_requests"],
            "entity_failures": self._counts["entity_failures"],
            "rate_limit_waits": int(budget.get("waits", 0)),
            "rate_limit_wait_seconds": round(budget.get("wait_seconds", 0.0), 3),
            "rate_limit_refusals": int(budget.get("refusals", 0)),
            "retry_after_waits": self._fetcher.retry_after_waits if self._fetcher else 0,
            "errors": dict(self._errors),
            "bootstrap": self._bootstrap.origin if self._bootstrap else None,
        }

    def _all_flights(self) -> tuple[InFlight[Any, Any], ...]:
        return (self._ip_flights, self._domain_flights, self._autnum_flights)

    async def aclose(self) -> None:
        """Stop look-ups still under way and close the HTTP client if this object created it."""
        for flights in self._all_flights():
            await flights.cancel_all()
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


_LATE = "deadline passed; the answer is kept for later records when it comes"


def _user_agent() -> str:
    from hostlocate import __version__

    return f"hostlocate/{__version__} (RDAP client)"
