"""A persistent cache in one SQLite file, shared by the processes of one machine.

The command line keeps DNS answers and registry look-ups here between runs, so
a batch that is restarted, or a second batch over the same hosts, asks the
network again only for what has expired. One :class:`SqliteStore` holds many
namespaces; :meth:`SqliteStore.namespace` gives a view that implements the
:class:`~hostlocate.cache.Cache` protocol for one value type.

Why it is built this way:

- WAL journal, ``synchronous=NORMAL`` and a busy timeout: readers never block
  the writer, and several processes may share the file. Every statement is its
  own short transaction, so a process that is killed leaves nothing locked.
- Expiry is a wall-clock time (the file outlives the process, so a monotonic
  clock would mean nothing to the next one). The clock is injectable for tests.
- Values are msgpack (``msgspec``): Structs and JSON-able values, decoded into
  the type the caller names. A value that no longer decodes (the type changed
  between versions) is a miss and is dropped.
- The size is bounded: an exact row count is kept by triggers, and a write
  that pushes it over ``max_entries`` evicts expired entries first, then those
  closest to expiry, down to 99% of the bound.
- A cache must never fail a look-up: SQLite errors after opening are counted in
  ``errors`` and treated as misses (reads) or dropped (writes).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

import msgspec
import platformdirs

from hostlocate import _resources
from hostlocate._closing import Closing
from hostlocate.cache import Backing, Cache, CacheStats
from hostlocate.errors import DataError
from hostlocate.sources._rdap_cache import range_blocks
from hostlocate.sources.base import RdapEntryKind

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "SqliteCache",
    "SqliteStore",
    "TieredCache",
    "default_cache_path",
]

V = TypeVar("V")

DEFAULT_MAX_ENTRIES = 1_000_000
"""About 200-400 MB on disk for DNS answers and registry networks."""
SCHEMA_VERSION = 1
"""``PRAGMA user_version`` of the file; a file with another version is emptied."""
_MAX_TTL = 365 * 86_400.0
_PAGE = 1000
_RANGE_NS = "rdap-range:"
_ENTRY_NS = "rdap-"


def _block_key(version: int, length: int, key: int) -> str:
    """A CIDR block as a key whose order follows the prefix length."""
    return f"{version}/{length:03d}/{key:x}"


_log = logging.getLogger(__name__)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS entries ("
    " ns TEXT NOT NULL, key TEXT NOT NULL, expires REAL NOT NULL, value BLOB NOT NULL,"
    " PRIMARY KEY (ns, key)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS entries_by_expiry ON entries (expires)",
    "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO counters VALUES ('entries', 0)",
    "CREATE TRIGGER IF NOT EXISTS entries_added AFTER INSERT ON entries BEGIN"
    " UPDATE counters SET value = value + 1 WHERE name = 'entries'; END",
    "CREATE TRIGGER IF NOT EXISTS entries_removed AFTER DELETE ON entries BEGIN"
    " UPDATE counters SET value = value - 1 WHERE name = 'entries'; END",
)
_DROP = (
    "DROP TRIGGER IF EXISTS entries_added",
    "DROP TRIGGER IF EXISTS entries_removed",
    "DROP TABLE IF EXISTS entries",
    "DROP TABLE IF EXISTS counters",
)


def default_cache_path() -> Path:
    """Where the command line keeps its cache: the user's cache folder for hostlocate."""
    return Path(platformdirs.user_cache_dir("hostlocate", appauthor=False)) / "cache.sqlite3"


class SqliteStore(Closing):
    """One SQLite cache file; get per-type views with :meth:`namespace`.

    ``path`` defaults to :func:`default_cache_path`; its folder is created.
    ``clock`` returns wall-clock seconds (expiry survives restarts). Opening a
    file that is not a usable SQLite database raises
    :class:`~hostlocate.errors.DataError`; nothing later raises for I/O.
    Safe to use from several threads (one connection behind a lock) and from
    several processes (each opens its own connection; a store carried across
    ``fork`` reconnects in the child).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        busy_timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self.path = Path(path) if path is not None else default_cache_path()
        self.max_entries = max_entries
        self._low_water = max(1, max_entries - max(1, max_entries // 100))
        self._busy_ms = int(busy_timeout * 1000)
        self._clock = clock
        self._lock = threading.RLock()
        self._views: dict[tuple[str, Any], SqliteCache[Any]] = {}
        self.stats = CacheStats()
        """Hits and misses of every namespace together, in this process."""
        self.errors = 0
        """SQLite errors swallowed since opening (each counted as a miss or a lost write)."""
        self.evicted = 0
        """Entries this process removed to keep the bound (expired ones included)."""
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self._closed = False
        self._conn = self._connect()

    # -- views --------------------------------------------------------------------------

    @overload
    def namespace(self, name: str) -> SqliteCache[Any]: ...

    @overload
    def namespace(self, name: str, type: type[V]) -> SqliteCache[V]: ...

    def namespace(self, name: str, type: Any = Any) -> SqliteCache[Any]:
        """The view of one namespace, decoding values into ``type`` (default: plain values)."""
        with self._lock:
            view = self._views.get((name, type))
            if view is None:
                view = SqliteCache(self, name, type)
                self._views[(name, type)] = view
            return view

    def stats_by_namespace(self) -> dict[str, dict[str, float]]:
        """Hit counts and rates per namespace, in this process."""
        out: dict[str, dict[str, float]] = {}
        for (name, _), view in list(self._views.items()):
            mine = view.stats.as_dict()
            seen = out.get(name)
            if seen is None:
                out[name] = mine
            else:
                total = CacheStats(
                    hits=int(seen["hits"] + mine["hits"]),
                    misses=int(seen["misses"] + mine["misses"]),
                )
                out[name] = total.as_dict()
        return out

    # -- the RDAP cache (hostlocate.sources.base.RdapCache) ------------------------------

    def find_network(
        self, service: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address
    ) -> tuple[bytes, float] | None:
        """The smallest live range kept for ``service`` holding ``address``.

        A range is stored under each CIDR block it splits into, so one indexed
        query over the address's prefixes (33 for IPv4, 129 for IPv6) finds it.
        """
        bits = address.max_prefixlen
        number = int(address)
        keys = [_block_key(address.version, n, number >> (bits - n)) for n in range(bits + 1)]
        marks = ",".join("?" * len(keys))
        with self._lock:
            conn = self._connection()
            try:
                rows = conn.execute(
                    f"SELECT key, expires, value FROM entries WHERE ns = ? AND key IN ({marks})"
                    " AND expires > ? ORDER BY key DESC LIMIT 1",
                    (_RANGE_NS + service, *keys, self._clock()),
                ).fetchall()
            except sqlite3.Error as exc:
                self._failed(exc)
                rows = []
        if not rows:
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        _, expires, value = rows[0]
        return bytes(value), float(expires) - self._clock()

    def put_network(
        self, service: str, version: int, start: int, end: int, value: bytes, ttl: float
    ) -> None:
        """Keep ``value`` under every CIDR block of the range (a range of more
        than 64 blocks is not kept)."""
        blocks = range_blocks(version, start, end)
        if blocks is None or not ttl > 0:
            return
        expires = self._clock() + min(ttl, _MAX_TTL)
        for length, key in blocks:
            self._put(_RANGE_NS + service, _block_key(version, length, key), expires, value)

    def get_entry(self, kind: RdapEntryKind, key: str) -> tuple[bytes, float] | None:
        """The live RDAP entry kept under ``key`` and the seconds it has left."""
        row = self._get(_ENTRY_NS + kind, key)
        remaining = row[0] - self._clock() if row is not None else 0.0
        if row is None or remaining <= 0:
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        return row[1], remaining

    def put_entry(self, kind: RdapEntryKind, key: str, value: bytes, ttl: float) -> None:
        """Keep an RDAP entry under ``key`` for ``ttl`` seconds."""
        if ttl > 0:
            self._put(_ENTRY_NS + kind, key, self._clock() + min(ttl, _MAX_TTL), value)

    # -- whole-file operations ------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """What a batch summary says of the cache beyond its counters: one machine's file."""
        return {"shared": False}

    def count(self) -> int:
        """Entries stored (expired ones not yet evicted included).

        A method, not ``__len__``: an empty store must still be truthy, so that
        ``if cache:`` means "a cache was given".
        """
        row = self._fetchone("SELECT value FROM counters WHERE name = 'entries'", ())
        return int(row[0]) if row else 0

    def clear(self) -> None:
        """Drop every entry of every namespace."""
        self._write(lambda c: c.execute("DELETE FROM entries"))

    def purge_expired(self) -> int:
        """Drop every expired entry; returns how many went."""
        now = self._clock()
        removed = self._write(lambda c: c.execute("DELETE FROM entries WHERE expires <= ?", (now,)))
        if removed:
            self.evicted += removed
        return removed or 0

    def close(self) -> None:
        """Close the connection; the file stays for the next run."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            conn, self._conn = self._conn, None
            if conn is not None and self._pid == os.getpid():
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("PRAGMA optimize")
                conn.close()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r}, max_entries={self.max_entries})"

    # -- the parts the views use ----------------------------------------------------------

    def _get(self, ns: str, key: str) -> tuple[float, bytes] | None:
        row = self._fetchone(
            "SELECT expires, value FROM entries WHERE ns = ? AND key = ?", (ns, key)
        )
        if row is None:
            return None
        return float(row[0]), bytes(row[1])

    def _page(self, ns: str, after: str, limit: int) -> list[tuple[str, float, bytes]]:
        with self._lock:
            conn = self._connection()
            try:
                rows = conn.execute(
                    "SELECT key, expires, value FROM entries WHERE ns = ? AND key > ? "
                    "ORDER BY key LIMIT ?",
                    (ns, after, limit),
                ).fetchall()
            except sqlite3.Error as exc:
                self._failed(exc)
                return []
        return [(str(k), float(e), bytes(v)) for k, e, v in rows]

    def _put(self, ns: str, key: str, expires: float, blob: bytes) -> None:
        def write(conn: sqlite3.Connection) -> int:
            conn.execute(
                "INSERT INTO entries (ns, key, expires, value) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (ns, key) DO UPDATE SET expires = excluded.expires, "
                "value = excluded.value",
                (ns, key, expires, blob),
            )
            row = conn.execute("SELECT value FROM counters WHERE name = 'entries'").fetchone()
            if row is None or int(row[0]) <= self.max_entries:
                return 0
            return self._evict(conn, int(row[0]))

        removed = self._write(write, transaction=True)
        if removed:
            self.evicted += removed

    def _evict(self, conn: sqlite3.Connection, count: int) -> int:
        """Bring the count down to the low-water mark: expired entries first, then the soonest."""
        removed = conn.execute("DELETE FROM entries WHERE expires <= ?", (self._clock(),)).rowcount
        count -= removed
        excess = count - self._low_water
        if excess > 0:
            removed += conn.execute(
                "DELETE FROM entries WHERE (ns, key) IN "
                "(SELECT ns, key FROM entries ORDER BY expires LIMIT ?)",
                (excess,),
            ).rowcount
        return removed

    def _delete(self, ns: str, key: str | None) -> None:
        if key is None:
            self._write(lambda c: c.execute("DELETE FROM entries WHERE ns = ?", (ns,)))
        else:
            self._write(
                lambda c: c.execute("DELETE FROM entries WHERE ns = ? AND key = ?", (ns, key))
            )

    def _now(self) -> float:
        return self._clock()

    # -- connection handling ----------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            self._private()
            conn = sqlite3.connect(
                self.path,
                timeout=self._busy_ms / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
        except (OSError, sqlite3.Error) as exc:
            raise DataError(
                f"cannot open the cache {self.path}: {exc}", path=str(self.path)
            ) from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate(conn)
        except sqlite3.Error as exc:
            conn.close()
            raise DataError(
                f"the cache {self.path} is not a usable SQLite database: {exc}",
                path=str(self.path),
            ) from exc
        return conn

    def _private(self) -> None:
        """Folder 0700, file and its -wal/-shm 0600: the cache holds reported host names.

        SQLite gives the -wal and -shm files the database file's mode, so the file
        is created 0600 before SQLite opens it; copies left looser are tightened.
        A folder that already existed is tightened only when it is the default one.
        """
        _resources.private_dir(self.path.parent, tighten=self.path == default_cache_path())
        _resources.private_file(self.path, create=True)
        for suffix in ("-wal", "-shm", "-journal"):
            _resources.private_file(self.path.with_name(self.path.name + suffix))

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        # One immediate transaction, so that processes opening a new file at once
        # create it once.
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                # A cache of another layout is worth nothing: start afresh.
                for statement in (_DROP if version else ()) + _SCHEMA:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError("this SqliteStore is closed")
        if self._pid != os.getpid():
            # A connection must not cross fork(); the child opens its own.
            self._pid = os.getpid()
            self._conn = self._connect()
        if self._conn is None:
            raise RuntimeError("this SqliteStore is closed")
        return self._conn

    def _fetchone(self, sql: str, params: tuple[Any, ...]) -> Any:
        with self._lock:
            conn = self._connection()
            try:
                return conn.execute(sql, params).fetchone()
            except sqlite3.Error as exc:
                self._failed(exc)
                return None

    def _write(
        self, action: Callable[[sqlite3.Connection], Any], *, transaction: bool = False
    ) -> int:
        with self._lock:
            conn = self._connection()
            try:
                if transaction:
                    conn.execute("BEGIN IMMEDIATE")
                result = action(conn)
                if transaction:
                    conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                self._failed(exc)
                return 0
            if isinstance(result, sqlite3.Cursor):
                return max(result.rowcount, 0)
            return int(result or 0)

    def _failed(self, exc: sqlite3.Error) -> None:
        self.errors += 1
        if self.errors == 1 or self.errors % 1000 == 0:
            _log.warning("cache %s: %s (%d errors so far)", self.path, exc, self.errors)


class SqliteCache(Generic[V]):
    """One namespace of a :class:`SqliteStore`: a :class:`~hostlocate.cache.Cache` of ``str`` keys.

    Values are encoded with msgpack and decoded into the view's type.
    """

    def __init__(self, store: SqliteStore, namespace: str, type: Any = Any) -> None:
        self.store = store
        self.namespace = namespace
        self.stats = CacheStats()
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(type)

    def get(self, key: str) -> V | None:
        found = self.get_with_ttl(key)
        return None if found is None else found[0]

    def get_with_ttl(self, key: str) -> tuple[V, float] | None:
        """The value and the seconds it has left to live, or None."""
        row = self.store._get(self.namespace, key)
        remaining = row[0] - self.store._now() if row is not None else 0.0
        if row is None or remaining <= 0:
            self._miss()
            return None
        try:
            value: V = self._decoder.decode(row[1])
        except (msgspec.DecodeError, msgspec.ValidationError):
            self.store._delete(self.namespace, key)
            self._miss()
            return None
        self.stats.hits += 1
        self.store.stats.hits += 1
        return value, remaining

    def put(self, key: str, value: V, ttl: float) -> None:
        """Keep ``value`` for ``ttl`` seconds; a ttl of zero or less keeps nothing."""
        if not ttl > 0:
            return
        blob = self._encoder.encode(value)
        self.store._put(self.namespace, key, self.store._now() + min(ttl, _MAX_TTL), blob)

    def items(self) -> Iterator[tuple[str, V, float]]:
        """Every live entry as (key, value, seconds left): to warm an in-memory cache at start.

        Read in pages, so a large namespace is never held whole; entries that no
        longer decode are skipped.
        """
        after = ""
        while True:
            rows = self.store._page(self.namespace, after, _PAGE)
            now = self.store._now()
            for key, expires, blob in rows:
                if expires <= now:
                    continue
                try:
                    value: V = self._decoder.decode(blob)
                except (msgspec.DecodeError, msgspec.ValidationError):
                    continue
                yield key, value, expires - now
            if len(rows) < _PAGE:
                return
            after = rows[-1][0]

    def delete(self, key: str) -> None:
        self.store._delete(self.namespace, key)

    def clear(self) -> None:
        """Drop every entry of this namespace (in every process sharing the file)."""
        self.store._delete(self.namespace, None)

    def _miss(self) -> None:
        self.stats.misses += 1
        self.store.stats.misses += 1


class TieredCache(Generic[V]):
    """A fast in-memory cache in front of a persistent one, as one Cache.

    Reads try ``front`` then ``back`` (copying a back hit to the front for the
    time it has left); writes go to both. ``stats`` counts a hit in either.
    """

    def __init__(self, front: Cache[str, V], back: Backing[V]) -> None:
        self.front = front
        self.back = back
        self.stats = CacheStats()

    def get(self, key: str) -> V | None:
        found = self.get_with_expiry(key)
        return None if found is None else found[0]

    def get_with_expiry(self, key: str) -> tuple[V, float] | None:
        """The value and the ``time.monotonic()`` moment it expires, or None."""
        front = self.front.get_with_expiry(key)
        if front is not None:
            self.stats.hits += 1
            return front
        found = self.back.get_with_ttl(key)
        if found is None:
            self.stats.misses += 1
            return None
        value, remaining = found
        self.front.put(key, value, remaining)
        self.stats.hits += 1
        return value, time.monotonic() + remaining

    def put(self, key: str, value: V, ttl: float) -> None:
        self.front.put(key, value, ttl)
        self.back.put(key, value, ttl)

    def clear(self) -> None:
        self.front.clear()
        self.back.clear()
