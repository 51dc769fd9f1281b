"""A cache and a registry budget shared by every worker, kept in Redis.

Workers behind one address share the registries' limits whether they know it
or not, and workers on several machines cannot share a SQLite file. Pointing
every worker at one Redis (``--cache redis://HOST:PORT/DB``) shares three
things (docs/scale.md):

- answers: DNS answers, RDAP networks, registrars and remembered 404s, each
  one key written with its own expiry, under a versioned key prefix so that a
  new layout never reads an old one. Networks are found by address in one
  sorted set per RDAP service and IP version, so one service's answer never
  answers an address another service is authoritative for;
- look-ups under way: a short lock per address block (redis-py's ``Lock``:
  ``SET NX PX`` and a compare-and-delete release); the others poll the cache
  until the holder writes or the lock expires (a worker that dies releases
  nothing by hand);
- the budget: a token bucket per registry in one atomic Lua script, on the
  server's clock, and a pause key that a ``Retry-After`` seen by one worker
  sets for all. The budget and the sharing of look-ups live in
  :mod:`hostlocate.redis_shared`.

One connection pool, of redis-py's blocking client, serves everything: the
RDAP client reads its cache synchronously (the ``RdapCache`` protocol), and
the waits (the budget, the locks) run their commands in a worker thread
(``asyncio.to_thread``) so the event loop never blocks on Redis. An asyncio
client would tie its connections to one event loop, which the locator owns
and closes without telling the cache, leaving them unclosed.

A shared cache must never fail a look-up: when Redis goes away the workers
say so once, go on with local caches and a local budget, and come back to
Redis when it answers again. Only opening checks the server and raises.
The password (from the URL or ``HOSTLOCATE_REDIS_PASSWORD``) is never shown:
every repr, message and log line carries the URL with it masked.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import ipaddress
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import msgspec
import redis
import redis.exceptions
import redis.retry
from redis.backoff import NoBackoff

from hostlocate._log import get_logger
from hostlocate.cache import CacheStats, TTLCache
from hostlocate.errors import ConfigError
from hostlocate.redis_shared import ALONE, RedisBudget, SharedLookups
from hostlocate.sources._rdap_ratelimit import DEFAULT_RATE_LIMITS, RateLimit

if TYPE_CHECKING:
    from hostlocate.sources.base import OwnerSource

__all__ = ["ALONE", "KEY_VERSION", "PASSWORD_ENV", "RedisCache", "RedisStore", "mask_url"]

V = TypeVar("V")

KEY_VERSION = 1
"""Part of every key: a store of another layout is never read."""
PASSWORD_ENV = "HOSTLOCATE_REDIS_PASSWORD"
"""Where the password is taken from when the URL has none."""
_MAX_TTL = 365 * 86_400.0
_CANDIDATES = 16
"""Ranges starting at or below an address that a look-up checks (nested ranges)."""

_log = get_logger(__name__)

_FAULTS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
    redis.exceptions.ReadOnlyError,
    OSError,
)
"""What says "Redis is not there now": the worker goes on without it."""
_ANY_FAULT: tuple[type[BaseException], ...] = (*_FAULTS, redis.exceptions.RedisError)

# KEYS[1]: the sorted set of one service and IP version; ARGV[1]: the address as
# fixed-width hex; ARGV[2]: how many candidates. Members are "start:end" in the
# same hex, the value lives in the key KEYS[1] .. "|" .. member, with its expiry.
# Returns {value, milliseconds left} of the first candidate holding the address.
_FIND_NETWORK = """
local found = redis.call('ZREVRANGEBYLEX', KEYS[1], '[' .. ARGV[1] .. ':~', '-',
                         'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(found) do
  local sep = string.find(member, ':', 1, true)
  local last = string.sub(member, sep + 1)
  if last >= ARGV[1] then
    local key = KEYS[1] .. '|' .. member
    local value = redis.call('GET', key)
    if value then
      return {value, redis.call('PTTL', key)}
    end
    redis.call('ZREM', KEYS[1], member)
  end
end
return false
"""

# KEYS[1]: sorted set; ARGV: member, value, ttl in ms.
_PUT_NETWORK = """
local key = KEYS[1] .. '|' .. ARGV[1]
redis.call('SET', key, ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[1], 0, ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
"""


def mask_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``: safe to print."""
    try:
        parts = urlsplit(url)
        password = parts.password
        username = parts.username
    except ValueError:
        return "<unparsable cache URL>"
    if password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = quote(unquote(username), safe="") if username else ""
    return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query, ""))


def _hex(version: int, number: int) -> str:
    return format(number, "08x" if version == 4 else "032x")


class _LocalRanges:
    """Networks kept while Redis is away: per (service, version), sorted by start."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._tables: dict[tuple[str, int], list[tuple[int, int, float, bytes]]] = {}

    def find(self, service: str, version: int, number: int) -> tuple[bytes, float] | None:
        table = self._tables.get((service, version))
        if not table:
            return None
        now = self._clock()
        index = bisect.bisect_right(table, (number, math.inf))
        for start, end, expires, value in reversed(table[max(0, index - _CANDIDATES) : index]):
            if start <= number <= end and expires > now:
                return value, expires - now
        return None

    def put(
        self, service: str, version: int, start: int, end: int, value: bytes, ttl: float
    ) -> None:
        table = self._tables.setdefault((service, version), [])
        entry = (start, end, self._clock() + ttl, value)
        index = bisect.bisect_left(table, (start, end))
        if index < len(table) and table[index][:2] == (start, end):
            table[index] = entry
        else:
            table.insert(index, entry)

    def drain(self) -> Iterator[tuple[str, int, int, int, bytes, float]]:
        """Every live entry (service, version, start, end, value, seconds left); then empty."""
        now = self._clock()
        tables, self._tables = self._tables, {}
        for (service, version), table in tables.items():
            for start, end, expires, value in table:
                if expires > now:
                    yield service, version, start, end, value, expires - now


class RedisStore:
    """One Redis (or Valkey) database shared by every worker; see the module docstring.

    ``url``: ``redis://[[user]:password@]host[:port][/db]`` or ``rediss://`` for
    TLS. A password missing from the URL is read from ``password_env``.
    Opening pings the server and raises :class:`~hostlocate.errors.ConfigError`
    naming the URL (password masked) when it cannot be reached; nothing later
    raises for I/O. ``notice`` receives one line when Redis is lost and one
    when it is back (the command gives its stderr). ``socket_timeout`` bounds
    every command; ``retry_interval`` is how long a worker works alone before
    it tries Redis again. Safe to use from several threads.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "hostlocate",
        password_env: str = PASSWORD_ENV,
        socket_timeout: float = 1.0,
        retry_interval: float = 1.0,
        lock_ttl: float = 10.0,
        notice: Callable[[str], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        try:
            parts = urlsplit(url)
            password = parts.password
        except ValueError as exc:
            raise ConfigError(f"not a Redis URL: {mask_url(url)}") from exc
        if parts.scheme not in ("redis", "rediss"):
            raise ConfigError(f"not a Redis URL (redis:// or rediss://): {mask_url(url)}")
        self.url = mask_url(url)
        """The URL with the password masked: the one form ever shown."""
        options: dict[str, Any] = {
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": socket_timeout,
        }
        if password is None and os.environ.get(password_env):
            options["password"] = os.environ[password_env]
        self.prefix = f"{prefix}:v{KEY_VERSION}:"
        self.lock_ttl, self.retry_interval = lock_ttl, retry_interval
        self._notice, self._clock = notice, clock
        self._lock = threading.Lock()
        self._client: redis.Redis = redis.Redis.from_url(
            url, retry=redis.retry.Retry(NoBackoff(), 0), **options
        )
        self._find_network = self._client.register_script(_FIND_NETWORK)
        self._put_network = self._client.register_script(_PUT_NETWORK)
        self._local_entries: TTLCache[str, bytes] = TTLCache(65_536, clock)
        self._local_ranges = _LocalRanges(clock)
        self._down_until: float | None = None
        self._views: dict[tuple[str, Any], RedisCache[Any]] = {}
        self.stats = CacheStats()
        """Hits and misses of every kind of value together, in this process."""
        self.counts: Counter[str] = Counter()
        """``lost`` (times Redis went away), ``back``, ``local_reads`` and
        ``local_writes`` (served without Redis), ``lock_waits``, ``lock_takeovers``."""
        self.errors = 0
        """Faults other than a lost connection swallowed since opening."""
        self.evicted = 0
        """Always 0: Redis expires and evicts entries itself."""
        try:
            self._client.ping()
        except redis.exceptions.AuthenticationError as exc:
            raise ConfigError(f"the cache {self.url} refused the password: {exc}") from None
        except _ANY_FAULT as exc:
            raise ConfigError(f"cannot reach the cache {self.url}: {exc}") from None

    # -- state -------------------------------------------------------------------------

    @property
    def path(self) -> str:
        """Where the cache is, for summaries: the URL with the password masked."""
        return self.url

    @property
    def shared(self) -> bool:
        """True while Redis answers (False: working alone until it is back)."""
        return self._down_until is None

    def _available(self) -> bool:
        down = self._down_until
        return down is None or self._clock() >= down

    def _lost(self, exc: BaseException) -> None:
        with self._lock:
            first = self._down_until is None
            self._down_until = self._clock() + self.retry_interval
        if first:
            self.counts["lost"] += 1
            self._say(
                f"the shared cache {self.url} is unreachable ({exc}); "
                "going on with local caches and a local registry budget"
            )

    def _ok(self) -> None:
        if self._down_until is None:
            return
        with self._lock:
            if self._down_until is None:
                return
            self._down_until = None
        self.counts["back"] += 1
        self._say(f"the shared cache {self.url} answers again")
        self._push_local()

    def _say(self, line: str) -> None:
        _log.warning("%s", line)
        if self._notice is not None:
            self._notice(line + "\n")

    def _failed(self, exc: BaseException) -> None:
        self.errors += 1
        if self.errors == 1 or self.errors % 1000 == 0:
            _log.warning("cache %s: %s (%d errors so far)", self.url, exc, self.errors)

    def _call(self, action: Callable[[], Any]) -> tuple[bool, Any]:
        """(True, result) from Redis, or (False, None) when it is away or failed."""
        if self._available():
            try:
                return self._settled(action())
            except _ANY_FAULT as exc:
                self._fault(exc)
        return False, None

    async def _acall(self, action: Callable[[], Awaitable[Any]]) -> tuple[bool, Any]:
        """:meth:`_call` for the asyncio client."""
        if not self._available():
            return False, None
        try:
            return self._settled(await action())
        except _ANY_FAULT as exc:
            self._fault(exc)
            return False, None

    def _settled(self, result: Any) -> tuple[bool, Any]:
        self._ok()
        return True, result

    def _fault(self, exc: BaseException) -> None:
        if isinstance(exc, _FAULTS):
            self._lost(exc)
        else:
            self._failed(exc)

    def _push_local(self) -> None:
        """Networks learnt while Redis was away go to Redis, for the other workers."""
        for service, version, start, end, value, ttl in self._local_ranges.drain():
            self.put_network(service, version, start, end, value, ttl)

    # -- keyed values: registrars, negatives, DNS answers -----------------------------------

    def get_entry(self, kind: str, key: str) -> tuple[bytes, float] | None:
        """The live value kept under ``kind``/``key`` and the seconds it has left, or None."""
        return self._counted(self._get_entry(kind, key))

    def _counted(self, found: tuple[bytes, float] | None) -> tuple[bytes, float] | None:
        if found is None:
            self.stats.misses += 1
        else:
            self.stats.hits += 1
        return found

    def _get_entry(self, kind: str, key: str) -> tuple[bytes, float] | None:
        name = f"{self.prefix}{kind}:{key}"

        def read() -> Any:
            with self._client.pipeline(transaction=False) as pipe:
                pipe.get(name)
                pipe.pttl(name)
                return pipe.execute()

        done, result = self._call(read)
        if not done:
            self.counts["local_reads"] += 1
            found = self._local_entries.get_with_expiry(name)
            if found is None:
                return None
            return found[0], found[1] - self._clock()
        value, pttl = result
        if value is None or pttl is None or pttl == -2:
            return None
        return bytes(value), (pttl / 1000 if pttl > 0 else _MAX_TTL)

    def put_entry(self, kind: str, key: str, value: bytes, ttl: float) -> None:
        """Keep ``value`` under ``kind``/``key`` for ``ttl`` seconds (Redis expires it)."""
        if not ttl > 0:
            return
        name = f"{self.prefix}{kind}:{key}"
        ms = max(1, int(min(ttl, _MAX_TTL) * 1000))
        done, _ = self._call(lambda: self._client.set(name, value, px=ms))
        if not done:
            self.counts["local_writes"] += 1
            self._local_entries.put(name, value, ttl)

    def delete_entry(self, kind: str, key: str) -> None:
        """Forget ``kind``/``key``."""
        name = f"{self.prefix}{kind}:{key}"
        self._call(lambda: self._client.delete(name))

    # -- network ranges, per RDAP service ----------------------------------------------------

    def _range_key(self, service: str, version: int) -> str:
        return f"{self.prefix}net:{version}:{service}"

    def find_network(
        self, service: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address
    ) -> tuple[bytes, float] | None:
        """The smallest live range stored for ``service`` holding ``address``: its value
        and the seconds it has left, or None.

        Ranges are members of a lexicographic sorted set in fixed-width hex (exact
        for IPv6, which a floating-point score is not); the script reads the ranges
        starting at or below the address, latest first, and answers with the first
        that also ends at or above it, dropping members whose value has expired.
        """
        version = address.version
        wanted = _hex(version, int(address))
        key = self._range_key(service, version)
        done, result = self._call(
            lambda: self._find_network(keys=[key], args=[wanted, _CANDIDATES])
        )
        if not done:
            self.counts["local_reads"] += 1
            return self._counted(self._local_ranges.find(service, version, int(address)))
        if not result:
            return self._counted(None)
        value, pttl = result
        return self._counted((bytes(value), int(pttl) / 1000 if int(pttl) > 0 else _MAX_TTL))

    def put_network(
        self, service: str, version: int, start: int, end: int, value: bytes, ttl: float
    ) -> None:
        """Keep ``value`` for ``start``..``end`` of IP ``version`` as an answer of ``service``."""
        if not ttl > 0 or version not in (4, 6) or start > end:
            return
        member = f"{_hex(version, start)}:{_hex(version, end)}"
        key = self._range_key(service, version)
        ms = max(1, int(min(ttl, _MAX_TTL) * 1000))
        done, _ = self._call(lambda: self._put_network(keys=[key], args=[member, value, ms]))
        if not done:
            self.counts["local_writes"] += 1
            self._local_ranges.put(service, version, start, end, value, ttl)

    # -- typed views (the DNS answers) --------------------------------------------------------

    def namespace(self, name: str, type: Any = Any) -> RedisCache[Any]:
        """A view of one kind of value decoded into ``type``, as ``SqliteStore.namespace``."""
        key = (name, type)
        if key not in self._views:
            self._views[key] = RedisCache(self, name, type)
        return self._views[key]

    def stats_by_namespace(self) -> dict[str, dict[str, float]]:
        """Hit counts and rates per view, in this process."""
        return {name: view.stats.as_dict() for (name, _), view in list(self._views.items())}

    # -- look-ups under way ------------------------------------------------------------------

    async def claim(self, key: str) -> Any | None:
        """Take the lock of a look-up of ``key`` for ``lock_ttl`` seconds.

        The held lock (pass it to :meth:`release`), None when another worker
        holds it, or :data:`ALONE` when Redis is away (look up without it).
        """
        if not self._available():
            return ALONE
        lock = self._client.lock(
            f"{self.prefix}lock:{key}",
            timeout=self.lock_ttl,
            blocking=False,
            thread_local=False,  # taken and let go from different worker threads
        )
        done, taken = await self._acall(lambda: asyncio.to_thread(lock.acquire, blocking=False))
        if not done:
            return ALONE
        return lock if taken else None

    async def release(self, lock: Any) -> None:
        """Let go of a lock from :meth:`claim` (compare-and-delete: only if still ours)."""
        if lock is ALONE or lock is None:
            return
        with contextlib.suppress(*_ANY_FAULT):  # else it expires by itself
            await asyncio.to_thread(lock.release)

    async def held(self, key: str) -> bool:
        """Whether some worker holds the lock of ``key`` now (False when Redis is away)."""
        name = f"{self.prefix}lock:{key}"
        done, found = await self._acall(lambda: asyncio.to_thread(self._client.exists, name))
        return done and bool(found)

    # -- the registries' budget --------------------------------------------------------------

    def share(self, client: OwnerSource) -> SharedLookups:
        """``client`` with its look-ups under way shared by every worker of this store;
        use it wherever the client itself would be used."""
        return SharedLookups(client, self)

    def budget(
        self, limits: Mapping[str, Sequence[RateLimit]] = DEFAULT_RATE_LIMITS
    ) -> RedisBudget:
        """The per-registry budget every worker of this Redis shares (same limits as given)."""
        return RedisBudget(self, limits)

    # -- whole-store operations --------------------------------------------------------------

    def count(self) -> int:
        """Keys in the database, this store's and any other's (0 when Redis is away):
        ``DBSIZE`` costs nothing, where counting one prefix would scan every key."""
        done, result = self._call(self._client.dbsize)
        return int(result) if done else 0

    def clear(self, under: str = "") -> None:
        """Drop every key of this store's prefix (or of ``under`` within it); other
        prefixes and databases are kept."""
        pattern = f"{self.prefix}{under}*"

        def drop() -> None:
            batch: list[Any] = []
            for key in self._client.scan_iter(match=pattern, count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    self._client.delete(*batch)
                    batch = []
            if batch:
                self._client.delete(*batch)

        self._call(drop)

    def summary(self) -> dict[str, Any]:
        """What the batch summary shows of the shared cache."""
        return {
            "shared": self.shared,
            "redis_lost": self.counts["lost"],
            "redis_back": self.counts["back"],
            "reads_without_redis": self.counts["local_reads"],
            "writes_without_redis": self.counts["local_writes"],
            "lock_waits": self.counts["lock_waits"],
        }

    def close(self) -> None:
        """Close the connections (the data stays in Redis)."""
        self._client.close()

    def __repr__(self) -> str:
        return f"RedisStore({self.url!r})"

    __str__ = __repr__


class RedisCache(Generic[V]):
    """One kind of value of a :class:`RedisStore`, as a :class:`~hostlocate.cache.Cache`.

    Values are msgpack, decoded into the view's type; one that no longer
    decodes is a miss (and is dropped).
    """

    def __init__(self, store: RedisStore, namespace: str, type: Any = Any) -> None:
        self.store = store
        self.namespace = namespace
        self._decoder: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(type)
        self._encode = msgspec.msgpack.Encoder().encode
        self.stats = CacheStats()

    def get(self, key: str) -> V | None:
        """The value, or None."""
        found = self.get_with_ttl(key)
        return found[0] if found else None

    def get_with_ttl(self, key: str) -> tuple[V, float] | None:
        """The value and the seconds it has left to live, or None."""
        found = self.store._get_entry(self.namespace, key)
        if found is not None:
            try:
                value: V = self._decoder.decode(found[0])
            except (msgspec.DecodeError, msgspec.ValidationError):
                self.store.delete_entry(self.namespace, key)
            else:
                self.stats.hits += 1
                self.store.stats.hits += 1
                return value, found[1]
        self.stats.misses += 1
        self.store.stats.misses += 1
        return None

    def get_with_expiry(self, key: str) -> tuple[V, float] | None:
        """The value and the ``time.monotonic()`` moment it expires, or None."""
        found = self.get_with_ttl(key)
        return None if found is None else (found[0], time.monotonic() + found[1])

    def put(self, key: str, value: V, ttl: float) -> None:
        """Keep ``value`` for ``ttl`` seconds; a ttl of zero or less keeps nothing."""
        if ttl > 0:
            self.store.put_entry(self.namespace, key, self._encode(value), ttl)

    def delete(self, key: str) -> None:
        self.store.delete_entry(self.namespace, key)

    def clear(self) -> None:
        """Drop every value of this kind (in every worker sharing the database)."""
        self.store.clear(f"{self.namespace}:")
