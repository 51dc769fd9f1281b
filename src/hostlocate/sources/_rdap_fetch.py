"""One RDAP GET, the hard way: every hop checked, every wait bounded.

The only module of the RDAP client that touches the network. httpx's own
redirect following is off: each ``Location`` is checked against the service
allow-list first (:mod:`._rdap_policy`). Bodies are streamed and cut at the
size cap; the whole exchange, headers and body, runs under one timer, so a
server that trickles bytes cannot hold a look-up past its deadline.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx
import msgspec

from hostlocate.errors import ErrorCode
from hostlocate.sources._rdap_policy import ServicePolicy, normalised_url
from hostlocate.sources._rdap_registries import registry_for_url
from hostlocate.sources.base import RateBudget

__all__ = [
    "Failure",
    "FetchLimits",
    "Fetched",
    "Fetcher",
    "Reachability",
    "Tally",
    "parse_retry_after",
]

log = logging.getLogger("hostlocate.rdap")

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_JSON_TYPES = frozenset({"application/rdap+json", "application/json"})
_SERVER_RETRY_PAUSE = 0.2
_HEADERS = {"Accept": "application/rdap+json, application/json;q=0.9"}


class Failure(Exception):
    """A look-up step failed; ``code`` is what the caller reports."""

    def __init__(self, code: ErrorCode, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code.value}: {detail}" if detail else code.value)


class Fetched(msgspec.Struct, frozen=True):
    """A JSON object from the service that finally answered."""

    url: str
    registry: str
    body: dict[str, Any]


class Tally:
    """Requests made on behalf of one look-up."""

    __slots__ = ("requests",)

    def __init__(self) -> None:
        self.requests = 0


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date);
    may be huge or infinite (the caller bounds the wait); None when unusable."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            return None
        try:
            seconds = when.timestamp() - now
        except (OverflowError, OSError):
            return math.inf
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


class _Reach:
    __slots__ = ("answered", "closed_until", "failures", "probe")

    def __init__(self) -> None:
        self.answered = False
        self.failures = 0
        self.closed_until = 0.0
        self.probe = asyncio.Lock()


class Reachability:
    """Registries that could not be reached lately (refused, no route, no such name).

    After ``after`` such failures in a row a registry is not asked for
    ``pause`` seconds: its look-ups end at once with ``rdap_unreachable``,
    with no wait for its budget. Until a registry has answered (and again
    after a pause), one request at a time probes it while the others wait, so
    a registry that is down costs ``after`` connection attempts, not one per
    look-up queued on its budget. Said once, at WARNING, per client.
    """

    def __init__(
        self, *, after: int = 3, pause: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.after = after
        self.pause = pause
        self._clock = clock
        self._states: dict[str, _Reach] = {}
        self.warned = False

    def _check(self, registry: str, state: _Reach) -> None:
        left = state.closed_until - self._clock()
        if left > 0:
            raise Failure(
                ErrorCode.RDAP_UNREACHABLE,
                f"{registry}: could not be reached {state.failures} times in a row; "
                f"not asked for another {left:.0f} s",
            )

    async def enter(self, registry: str, deadline: float) -> bool:
        """Wait until ``registry`` may be asked; True when this caller probes it
        (then :meth:`leave` must follow). Raises :class:`Failure`."""
        state = self._states.get(registry)
        if state is None:
            state = self._states[registry] = _Reach()
        self._check(registry, state)
        if state.answered:
            return False
        try:
            async with asyncio.timeout_at(_loop_time(deadline, self._clock)):
                await state.probe.acquire()
        except TimeoutError as exc:
            raise Failure(
                ErrorCode.RDAP_TIMEOUT, f"{registry}: deadline passed while it was being probed"
            ) from exc
        if state.answered or state.closed_until > self._clock():
            state.probe.release()
            self._check(registry, state)
            return False
        return True

    def leave(self, registry: str, probing: bool) -> None:
        if probing:
            self._states[registry].probe.release()

    def answered(self, registry: str) -> None:
        """The registry sent an HTTP response, whatever its status."""
        state = self._states[registry]
        state.answered, state.failures = True, 0

    def unreachable(self, registry: str, detail: str) -> None:
        state = self._states[registry]
        state.answered = False
        state.failures += 1
        if state.failures < self.after:
            return
        state.closed_until = self._clock() + self.pause
        level = logging.INFO if self.warned else logging.WARNING
        self.warned = True
        log.log(
            level,
            "RDAP registry %s could not be reached %d times in a row (%s); not asking it "
            "for %.0f s. Without network access, --no-rdap skips registry look-ups.",
            registry,
            state.failures,
            detail,
            self.pause,
        )


def _loop_time(deadline: float, clock: Callable[[], float]) -> float | None:
    """``deadline`` (on ``clock``) as a time of the running loop, None for no deadline."""
    if math.isinf(deadline):
        return None
    return asyncio.get_running_loop().time() + (deadline - clock())


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """What one RDAP request may cost; checked once here, where the client's
    options become the fetcher's rules.

    ``timeout``: seconds per request; ``max_redirects``: hops followed;
    ``max_body_bytes``: the largest body read; ``max_retry_wait``: the longest
    ``Retry-After`` waited for; ``max_concurrent``: requests in flight at once,
    all registries together (more only queue inside httpx, at a cost that
    grows with the queue).
    """

    timeout: float = 5.0
    max_redirects: int = 3
    max_body_bytes: int = 1_000_000
    max_retry_wait: float = 30.0
    max_concurrent: int = 8

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")
        if not 0 <= self.max_retry_wait < math.inf:
            raise ValueError("max_retry_wait must be a finite number of seconds, zero or more")
        if self.max_redirects < 0 or self.max_body_bytes < 1 or self.max_concurrent < 1:
            raise ValueError(
                "max_redirects, max_body_bytes and max_concurrent_requests must be "
                "positive (max_redirects: or zero)"
            )


class Fetcher:
    """GETs RDAP JSON under the allow-list, the budgets and a deadline."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        policy: ServicePolicy,
        budget: RateBudget,
        limits: FetchLimits,
        *,
        max_rate_retries: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.policy = policy
        self.budget = budget
        self.limits = limits
        self.max_rate_retries = max_rate_retries
        self._clock = clock
        # httpx queues requests beyond its pool at a cost that grows with the queue;
        # a semaphore in front keeps bursts cheap. Waiting for it counts against the budget.
        self._slots = asyncio.Semaphore(limits.max_concurrent)
        self.requests: Counter[str] = Counter()
        """Requests sent, per registry."""
        self.retry_after_waits = 0
        self.reach = Reachability(clock=clock)

    async def get_json(self, url: str, deadline: float, tally: Tally) -> Fetched:
        """Follow ``url`` to a 200 JSON object; raises :class:`Failure` otherwise."""
        seen = {url}
        hops = 0
        rate_retries = 0
        server_retried = False
        while True:
            refused = self.policy.check(url)
            if refused is not None:
                code = ErrorCode.RDAP_REDIRECT_REFUSED if hops else ErrorCode.RDAP_NO_SERVICE
                raise Failure(code, refused)
            registry = registry_for_url(url)
            probing = await self.reach.enter(registry, deadline)
            try:
                status, headers, body = await self._send(url, registry, deadline, tally)
            finally:
                self.reach.leave(registry, probing)
            if status in _REDIRECTS:
                location = headers.get("location")
                if not location:
                    raise Failure(ErrorCode.RDAP_BAD_RESPONSE, f"HTTP {status} without Location")
                target = normalised_url(urljoin(url, location.strip()))
                if target in seen or hops >= self.limits.max_redirects:
                    raise Failure(
                        ErrorCode.RDAP_TOO_MANY_REDIRECTS, f"{hops + 1} redirects, last to {target}"
                    )
                seen.add(target)
                hops += 1
                url = target
                continue
            if status == 429:
                delay = parse_retry_after(headers.get("retry-after"), time.time())
                if delay is None:
                    delay = min(self.limits.max_retry_wait, 2.0**rate_retries)
                # Whatever the registry asked (1e400, a date in year 9999), the pause
                # is bounded: a registry is never switched off for the client's life.
                await self.budget.pause(registry, min(delay, self.limits.max_retry_wait))
                if (
                    rate_retries >= self.max_rate_retries
                    or delay > self.limits.max_retry_wait
                    or self._clock() + delay >= deadline
                ):
                    raise Failure(
                        ErrorCode.RDAP_RATE_LIMITED,
                        f"{registry}: HTTP 429, Retry-After {delay:.1f} s",
                    )
                rate_retries += 1
                self.retry_after_waits += 1
                continue
            if status >= 500:
                if not server_retried and self._clock() + _SERVER_RETRY_PAUSE < deadline:
                    server_retried = True
                    await asyncio.sleep(_SERVER_RETRY_PAUSE)
                    continue
                raise Failure(ErrorCode.RDAP_HTTP_ERROR, f"{registry}: HTTP {status}")
            if status == 404:
                raise Failure(ErrorCode.RDAP_NOT_FOUND, f"{registry}: HTTP 404")
            if status != 200 or body is None:
                raise Failure(ErrorCode.RDAP_HTTP_ERROR, f"{registry}: HTTP {status}")
            return Fetched(url=url, registry=registry, body=body)

    async def _send(
        self, url: str, registry: str, deadline: float, tally: Tally
    ) -> tuple[int, httpx.Headers, dict[str, Any] | None]:
        if not await self.budget.acquire(registry, deadline):
            raise Failure(
                ErrorCode.RDAP_RATE_LIMITED,
                f"{registry}: no request budget left before the deadline",
            )
        if deadline - self._clock() <= 0:
            raise Failure(ErrorCode.RDAP_TIMEOUT, "deadline passed")
        tally.requests += 1
        self.requests[registry] += 1
        # Once asked, a registry gets the request's full time even past the
        # deadline: the caller stops waiting at its deadline, the answer is kept.
        try:
            answer = await self._exchange(url, self.limits.timeout)
        except Failure as exc:
            if exc.code is ErrorCode.RDAP_UNREACHABLE:
                self.reach.unreachable(registry, exc.detail)
            raise
        self.reach.answered(registry)
        return answer

    async def _exchange(
        self, url: str, budget: float
    ) -> tuple[int, httpx.Headers, dict[str, Any] | None]:
        try:
            async with (
                asyncio.timeout(budget),
                self._slots,
                self.client.stream(
                    "GET", url, headers=_HEADERS, follow_redirects=False, timeout=budget
                ) as response,
            ):
                if response.status_code != 200:
                    return response.status_code, response.headers, None
                raw = await self._read_body(response)
                charset = response.charset_encoding
                headers = response.headers
        except TimeoutError as exc:
            raise Failure(
                ErrorCode.RDAP_TIMEOUT, f"no complete answer within {budget:.1f} s"
            ) from exc
        except httpx.TimeoutException as exc:
            raise Failure(ErrorCode.RDAP_TIMEOUT, f"{type(exc).__name__}") from exc
        except httpx.ConnectError as exc:
            raise Failure(ErrorCode.RDAP_UNREACHABLE, f"{type(exc).__name__}: {exc}") from exc
        except httpx.InvalidURL as exc:
            raise Failure(ErrorCode.RDAP_NO_SERVICE, f"invalid URL: {exc}") from exc
        except httpx.HTTPError as exc:
            raise Failure(ErrorCode.RDAP_HTTP_ERROR, f"{type(exc).__name__}: {exc}") from exc
        return 200, headers, _decode(raw, charset)

    async def _read_body(self, response: httpx.Response) -> bytes:
        kind = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind not in _JSON_TYPES and not kind.endswith("+json"):
            raise Failure(ErrorCode.RDAP_BAD_RESPONSE, f"content type {kind or 'missing'!r}")
        declared = response.headers.get("content-length")
        most = self.limits.max_body_bytes
        if declared and declared.strip().isdigit() and int(declared) > most:
            raise Failure(ErrorCode.RDAP_TOO_LARGE, f"Content-Length {declared} > {most}")
        chunks = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > most:
                raise Failure(ErrorCode.RDAP_TOO_LARGE, f"body over {most} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def _decode(raw: bytes, charset: str | None) -> dict[str, Any]:
    try:
        value = msgspec.json.decode(raw)
    except RecursionError as exc:  # a body nested deeper than the decoder may go
        raise Failure(ErrorCode.RDAP_BAD_RESPONSE, "JSON nested too deeply") from exc
    except msgspec.DecodeError as exc:
        if not charset or charset.lower().replace("-", "") == "utf8":
            raise Failure(ErrorCode.RDAP_BAD_RESPONSE, f"invalid JSON: {exc}") from exc
        try:
            value = json.loads(raw.decode(charset))
        except (LookupError, UnicodeDecodeError, ValueError, RecursionError) as exc2:
            raise Failure(ErrorCode.RDAP_BAD_RESPONSE, f"invalid JSON: {exc2}") from exc2
    if not isinstance(value, dict):
        raise Failure(ErrorCode.RDAP_BAD_RESPONSE, "JSON body is not an object")
    return value
