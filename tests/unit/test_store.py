"""The persistent SQLite cache: expiry, eviction, persistence, several processes."""

from __future__ import annotations

import ipaddress
import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hostlocate.cache import TTLCache
from hostlocate.errors import DataError
from hostlocate.models import DNSResult, Network
from hostlocate.sources._rdap_cache import MemoryRdapCache
from hostlocate.sources.base import RdapCache
from hostlocate.store import SqliteStore, TieredCache, default_cache_path


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "store.sqlite3"


ANSWER = DNSResult(
    cname_chain=("www.example.test", "edge.cdn.test"),
    addresses=("192.0.2.10", "2001:db8::10"),
    rcode="NOERROR",
    min_ttl=300,
    queries=2,
)


def test_round_trips_a_struct_into_its_type(path: Path, clock: Clock) -> None:
    with SqliteStore(path, clock=clock) as store:
        dns = store.namespace("dns", DNSResult)
        dns.put("www.example.test", ANSWER, 300)
        got = dns.get("www.example.test")
    assert got == ANSWER
    assert isinstance(got, DNSResult)
    assert isinstance(got.addresses, tuple)


def test_plain_values_and_namespaces_are_separate(path: Path, clock: Clock) -> None:
    with SqliteStore(path, clock=clock) as store:
        a = store.namespace("a")
        b = store.namespace("b", dict[str, int])
        a.put("k", {"x": [1, 2]}, 10)
        b.put("k", {"y": 3}, 10)
        assert a.get("k") == {"x": [1, 2]}
        assert b.get("k") == {"y": 3}
        assert store.namespace("a") is a
        a.clear()
        assert a.get("k") is None
        assert b.get("k") == {"y": 3}


def test_entries_expire_by_the_injected_clock(path: Path, clock: Clock) -> None:
    with SqliteStore(path, clock=clock) as store:
        dns = store.namespace("dns", DNSResult)
        dns.put("h", ANSWER, 60)
        clock.now += 59
        found = dns.get_with_ttl("h")
        assert found is not None
        assert found[1] == pytest.approx(1.0)
        clock.now += 1
        assert dns.get("h") is None
        assert dns.stats.hits == 1
        assert dns.stats.misses == 1
        assert store.stats.hit_rate == 0.5
        assert store.purge_expired() == 1
        assert store.count() == 0


def test_zero_or_negative_ttl_keeps_nothing(path: Path, clock: Clock) -> None:
    with SqliteStore(path, clock=clock) as store:
        ns = store.namespace("x")
        ns.put("zero", 1, 0)
        ns.put("negative", 1, -5)
        assert store.count() == 0


def test_rewriting_a_key_replaces_it_and_counts_once(path: Path, clock: Clock) -> None:
    with SqliteStore(path, clock=clock) as store:
        ns = store.namespace("x", int)
        for i in range(5):
            ns.put("k", i, 10)
        assert ns.get("k") == 4
        assert store.count() == 1


def test_size_is_bounded_expired_first_then_soonest_to_expire(path: Path, clock: Clock) -> None:
    with SqliteStore(path, clock=clock, max_entries=200) as store:
        ns = store.namespace("x", int)
        ns.put("short", 0, 1)
        clock.now += 2  # "short" has expired
        for i in range(199):
            ns.put(f"k{i:03}", i, 1000 + i)
        assert store.count() == 200
        assert store.evicted == 0
        ns.put("long", -1, 10_000)  # 201 entries: over the bound
        assert store.count() == 198  # down to the low-water mark (99%)
        assert store.evicted == 3
        assert ns.get("long") == -1
        assert ns.get("k000") is None  # the soonest to expire went first
        assert ns.get("k001") is None
        assert ns.get("k002") == 2
        for i in range(1000):
            ns.put(f"m{i}", i, 5000)
        assert store.count() <= 200
        count = sqlite3.connect(path).execute("SELECT COUNT(*) FROM entries").fetchone()[0]
        assert count == store.count()


def test_survives_close_and_reopen(path: Path, clock: Clock) -> None:
    with SqliteStore(path, clock=clock) as store:
        store.namespace("dns", DNSResult).put("h", ANSWER, 600)
        store.namespace("net", Network).put("192.0.2.0/24", Network(cidr="192.0.2.0/24"), 600)
    clock.now += 100
    with SqliteStore(path, clock=clock) as again:
        found = again.namespace("dns", DNSResult).get_with_ttl("h")
        assert found is not None
        assert found[0] == ANSWER
        assert found[1] == pytest.approx(500)
        assert again.namespace("net", Network).get("192.0.2.0/24") == Network(cidr="192.0.2.0/24")
        assert again.count() == 2


def test_a_value_of_a_changed_type_is_a_miss_and_is_dropped(path: Path, clock: Clock) -> None:
    with SqliteStore(path, clock=clock) as store:
        store.namespace("dns").put("h", {"addresses": "not a list"}, 60)
        assert store.namespace("dns", DNSResult).get("h") is None
        assert store.count() == 0


def test_a_file_of_another_layout_version_is_emptied(path: Path, clock: Clock) -> None:
    with SqliteStore(path, clock=clock) as store:
        store.namespace("x").put("k", 1, 60)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with SqliteStore(path, clock=clock) as store:
        assert store.count() == 0
        assert store.namespace("x").get("k") is None
        store.namespace("x").put("k", 2, 60)
        assert store.namespace("x").get("k") == 2


def test_a_file_that_is_not_a_database_is_a_data_error(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_bytes(b"these are somebody's notes, not a cache\n" * 100)
    with pytest.raises(DataError) as caught:
        SqliteStore(bogus)
    assert caught.value.path == str(bogus)
    assert bogus.read_bytes().startswith(b"these are somebody's notes")


def test_uses_wal_and_a_busy_timeout(path: Path) -> None:
    with SqliteStore(path, busy_timeout=7.5) as store:
        conn = store._connection()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 7500


def test_closed_store_refuses_use(path: Path) -> None:
    store = SqliteStore(path)
    ns = store.namespace("x")
    store.close()
    store.close()
    with pytest.raises(RuntimeError):
        ns.get("k")


def test_default_path_is_in_the_user_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_path() == tmp_path / "xdg" / "hostlocate" / "cache.sqlite3"


def test_tiered_cache_fills_the_front_from_the_back(path: Path, clock: Clock) -> None:
    with SqliteStore(path, clock=clock) as store:
        back = store.namespace("dns", DNSResult)
        back.put("h", ANSWER, 120)
        clock.now += 20
        front: TTLCache[str, DNSResult] = TTLCache(16, clock=clock)
        tiered = TieredCache(front, back)
        assert tiered.get("h") == ANSWER  # from the back
        assert front.get("h") == ANSWER  # copied forward
        clock.now += 99
        assert front.get("h") == ANSWER
        clock.now += 1  # the front keeps it only for the time it had left
        assert front.get("h") is None
        tiered.put("new", ANSWER, 30)
        assert back.get("new") == ANSWER
        assert tiered.get("missing") is None
        assert (tiered.stats.hits, tiered.stats.misses) == (1, 1)


# -- several processes on one file -----------------------------------------------------------

WORKERS = 3
KEYS = 400


def _worker(path: str, worker: int, queue: Any) -> None:
    """Write own keys and shared keys, read everyone's; report what was wrong."""
    problems: list[str] = []
    try:
        with SqliteStore(path, max_entries=700, busy_timeout=30) as store:
            ns = store.namespace("net", Network)
            for i in range(KEYS):
                ns.put(f"w{worker}-{i}", Network(cidr=f"10.{worker}.{i // 256}.{i % 256}/32"), 3600)
                ns.put(f"shared-{i % 50}", Network(name=f"shared-{i % 50}"), 3600)
                other = (worker + 1) % WORKERS
                got = ns.get(f"w{other}-{i}")
                if got is not None and got.cidr != f"10.{other}.{i // 256}.{i % 256}/32":
                    problems.append(f"wrong value {got!r}")
                shared = ns.get(f"shared-{i % 50}")
                if shared is not None and shared.name != f"shared-{i % 50}":
                    problems.append(f"wrong shared value {shared!r}")
            if store.errors:
                problems.append(f"{store.errors} SQLite errors")
    except Exception as exc:  # reported to the parent, which fails the test
        problems.append(repr(exc))
    queue.put((worker, problems))


def test_three_processes_share_one_file(path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    SqliteStore(path).close()  # created before, as the command line would find it
    procs = [context.Process(target=_worker, args=(str(path), w, queue)) for w in range(WORKERS)]
    for p in procs:
        p.start()
    results = dict(queue.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert results == {w: [] for w in range(WORKERS)}
    with SqliteStore(path) as store:
        rows = sqlite3.connect(path).execute("SELECT COUNT(*) FROM entries").fetchone()[0]
        assert rows == store.count()
        assert rows <= 700
        ns = store.namespace("net", Network)
        assert sum(ns.get(f"shared-{i}") is not None for i in range(50)) == 50
        # Eviction takes the entries closest to expiry: what survives of each worker
        # is a run of its newest writes. (Which workers survive at all depends on
        # how the three processes were scheduled.)
        survivors = 0
        for w in range(WORKERS):
            kept = [i for i in range(KEYS) if ns.get(f"w{w}-{i}") is not None]
            survivors += len(kept)
            assert kept == list(range(KEYS - len(kept), KEYS)), (w, kept[:5])
            for i in kept[-3:]:
                assert ns.get(f"w{w}-{i}") == Network(cidr=f"10.{w}.{i // 256}.{i % 256}/32")
        assert survivors > 0


def test_a_fresh_file_opened_by_several_processes_at_once(tmp_path: Path) -> None:
    path = tmp_path / "fresh.sqlite3"
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    procs = [context.Process(target=_worker, args=(str(path), w, queue)) for w in range(WORKERS)]
    for p in procs:
        p.start()
    results = dict(queue.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=30)
    assert results == {w: [] for w in range(WORKERS)}


def test_values_are_msgpack(path: Path, clock: Clock) -> None:
    with SqliteStore(path, clock=clock) as store:
        store.namespace("dns", DNSResult).put("h", ANSWER, 60)
    blob = sqlite3.connect(path).execute("SELECT value FROM entries").fetchone()[0]
    assert msgspec.msgpack.decode(blob, type=DNSResult) == ANSWER


def test_items_lists_live_entries_in_pages(path: Path, clock: Clock) -> None:
    with SqliteStore(path, clock=clock) as store:
        nets = store.namespace("net", Network)
        for i in range(2500):
            nets.put(f"{i:05}", Network(name=str(i)), 10 if i % 2 else 100)
        store.namespace("other").put("00001", "not a network", 100)
        clock.now += 50
        items = list(nets.items())
    assert [k for k, _, _ in items] == [f"{i:05}" for i in range(0, 2500, 2)]
    assert all(v == Network(name=str(int(k))) for k, v, _ in items)
    assert {left for _, _, left in items} == {50.0}


def test_an_empty_store_is_still_truthy(path: Path) -> None:
    with SqliteStore(path) as store:
        assert store.count() == 0
        assert store  # "if cache:" must mean "a cache was given"


def _v4(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


@pytest.mark.parametrize("make", ["sqlite", "memory"])
def test_rdap_ranges_are_found_by_address_within_their_service(
    path: Path, clock: Clock, make: str
) -> None:
    """Both RDAP caches: smallest range first, one service's ranges never answer another's."""
    cache: RdapCache = (
        SqliteStore(path, clock=clock) if make == "sqlite" else MemoryRdapCache(clock=clock)
    )
    ripe, arin = "https://ripe.test/", "https://arin.test/"
    cache.put_network(ripe, 4, _v4("193.0.0.0"), _v4("193.0.7.255"), b"allocation", 600)
    cache.put_network(ripe, 4, _v4("193.0.6.0"), _v4("193.0.6.255"), b"assignment", 60)
    cache.put_network(ripe, 6, 0x2A00 << 112, (0x2A00 << 112) | (1 << 112) - 1, b"v6", 600)
    inside = ipaddress.IPv4Address("193.0.6.139")
    assert cache.find_network(ripe, inside) == (b"assignment", 60)
    assert cache.find_network(ripe, ipaddress.IPv4Address("193.0.1.1")) == (b"allocation", 600)
    assert cache.find_network(ripe, ipaddress.IPv6Address("2a00::1")) == (b"v6", 600)
    assert cache.find_network(arin, inside) is None
    assert cache.find_network(ripe, ipaddress.IPv4Address("193.0.8.0")) is None
    clock.now += 61
    assert cache.find_network(ripe, inside) == (b"allocation", 539)
    cache.put_entry("registrar", "example.com", b"registrar", 30)
    assert cache.get_entry("registrar", "example.com") == (b"registrar", 30)
    assert cache.get_entry("negative", "example.com") is None
    clock.now += 30
    assert cache.get_entry("registrar", "example.com") is None
    if isinstance(cache, SqliteStore):
        cache.close()
