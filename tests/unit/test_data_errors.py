"""Missing, truncated or corrupt data fails when the locator is built, naming the file.

A verdict is evidence; one made from half a database would be wrong without
saying so. So every file a ``Locator`` reads is opened and checked when it is
built, and a bad one raises :class:`~hostlocate.DataError` whose message and
``path`` name it, before any URL is looked at.

The corrupt GeoIP databases are made here from a small valid one (built with
mmdb-writer), after the kinds of damage in the MaxMind DB project's
``test-data/bad-data`` set (no installed package ships those files): a file cut
short, no metadata marker, metadata that is not a map or declares a string
longer than the file, an unsupported record size or IP version, a node count
beyond the file, a search tree pointing past the data section, a data section
of garbage, a pointer to itself, and a map key that is not UTF-8.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hostlocate import DataError, Locator
from hostlocate.store import SqliteStore
from tests._need import mmdb_writer

MARKER = b"\xab\xcd\xefMaxMind.com"
NO_DNS = ["127.0.0.1:9"]  # nothing listens there; these tests never get as far as a query


def _writer() -> ModuleType:
    return mmdb_writer()


def _build(path: Path, records: list[tuple[str, dict[str, Any]]], database_type: str) -> bytes:
    mmdb_writer = _writer()
    from netaddr import IPSet

    writer = mmdb_writer.MMDBWriter(
        ip_version=6, ipv4_compatible=True, database_type=database_type, int_type="u32"
    )
    for cidr, record in records:
        writer.insert_network(IPSet([cidr]), record)
    writer.to_db_file(str(path))
    return path.read_bytes()


@pytest.fixture(scope="module")
def country_db(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A valid GeoLite2-layout country database: 40 networks, one shared record."""
    rows = [(f"81.2.{i}.0/24", {"country": {"iso_code": "GB"}}) for i in range(40)]
    return _build(tmp_path_factory.mktemp("mmdb") / "good.mmdb", rows, "GeoLite2-Country")


def _replace(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data, old
    return data.replace(old, new, 1)


def _sections(data: bytes) -> tuple[int, int, int]:
    """(end of the search tree, start of the data section, start of the metadata marker)."""
    import maxminddb

    with maxminddb.open_database(io.BytesIO(data), maxminddb.MODE_FD) as reader:
        meta = reader.metadata()
        tree_end = meta.node_count * meta.record_size // 4
    return tree_end, tree_end + 16, data.rindex(MARKER)


def _huge_node_count(d: bytes) -> bytes:
    at = d.rindex(b"Jnode_count") + len(b"Jnode_count")
    size = d[at] & 0x1F  # a uint32's control byte holds its length
    return d[:at] + b"\xc4\x7f\xff\xff\xff" + d[at + 1 + size :]


def _tree_beyond_data(d: bytes) -> bytes:
    tree_end, _, _ = _sections(d)
    return b"\xff" * tree_end + d[tree_end:]


def _garbage_data(d: bytes) -> bytes:
    _, start, marker = _sections(d)
    return d[:start] + b"\xff" * (marker - start) + d[marker:]


def _self_pointer(d: bytes) -> bytes:
    _, start, _ = _sections(d)
    return d[:start] + b"\x20\x00" + d[start + 2 :]


def _metadata_not_a_map(d: bytes) -> bytes:
    return d[: d.rindex(MARKER)] + MARKER + b"\xa1\x05"


CORRUPTIONS: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda d: b"",
    "half": lambda d: d[: len(d) // 2],
    "tail-cut": lambda d: d[:-20],
    "garbage": lambda d: b"not a database " * 100,
    "no-metadata-marker": lambda d: d.replace(MARKER, b"\0" * len(MARKER)),
    "metadata-not-a-map": _metadata_not_a_map,
    "metadata-string-past-the-end": lambda d: _replace(
        d, b"Kdescription\xe0", b"Kdescription\x5f\xff\xff\xff"
    ),
    "record-size-7": lambda d: _replace(d, b"Krecord_size\xa1\x18", b"Krecord_size\xa1\x07"),
    "ip-version-5": lambda d: _replace(d, b"Jip_version\xa1\x06", b"Jip_version\xa1\x05"),
    "node-count-past-the-file": _huge_node_count,
    "tree-points-past-the-data": _tree_beyond_data,
    "data-section-garbage": _garbage_data,
    "pointer-to-itself": _self_pointer,
    "map-key-not-utf8": lambda d: _replace(d, b"country", b"c\xffuntry"),
}


def _bad_file(tmp_path: Path, good: bytes, corruption: str) -> Path:
    path = tmp_path / f"{corruption}.mmdb"
    path.write_bytes(CORRUPTIONS[corruption](good))
    return path


def _refused(path: Path, **options: Any) -> DataError:
    with pytest.raises(DataError) as info:
        Locator(NO_DNS, rdap=False, **options).close()
    assert info.value.path == str(path)
    assert str(path) in info.value.message
    return info.value


# -- GeoIP databases ------------------------------------------------------------------------


def test_the_valid_database_is_accepted(country_db: bytes, tmp_path: Path) -> None:
    good = tmp_path / "good.mmdb"
    good.write_bytes(country_db)
    with Locator(NO_DNS, rdap=False, geoip_country=good) as loc:
        v = loc.locate("http://81.2.7.1/")
    assert (v.status, v.jurisdiction.country) == ("located", "GB")


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_corrupt_country_database(country_db: bytes, tmp_path: Path, corruption: str) -> None:
    bad = _bad_file(tmp_path, country_db, corruption)
    _refused(bad, geoip_country=bad)


@pytest.mark.parametrize(
    "corruption", ["half", "tree-points-past-the-data", "data-section-garbage"]
)
def test_corrupt_asn_database(tmp_path: Path, corruption: str) -> None:
    asn = _build(
        tmp_path / "asn-good.mmdb",
        [(f"81.2.{i}.0/24", {"autonomous_system_number": 64500 + i}) for i in range(8)],
        "GeoLite2-ASN",
    )
    bad = _bad_file(tmp_path, asn, corruption)
    _refused(bad, geoip_asn=bad)


def test_missing_database(tmp_path: Path) -> None:
    error = _refused(tmp_path / "absent.mmdb", geoip_country=tmp_path / "absent.mmdb")
    assert "not found" in error.message


def test_a_directory_is_not_a_database(tmp_path: Path) -> None:
    _refused(tmp_path, geoip_asn=tmp_path)


def test_truncated_copy_of_the_bundled_database(tmp_path: Path) -> None:
    from hostlocate import _resources

    whole = _resources.data_path("geo/dbip-country.mmdb").read_bytes()
    cut = tmp_path / "dbip-country.mmdb"
    cut.write_bytes(whole[: len(whole) * 3 // 4])
    _refused(cut, geoip_country=cut)


def test_damage_past_the_sampled_records_is_reported_as_data_error(tmp_path: Path) -> None:
    rows = [
        (f"81.2.{i}.0/24", {"country": {"iso_code": "GB", "names": {"en": f"zz{i:04d}"}}})
        for i in range(40)
    ]
    good = _build(tmp_path / "many.mmdb", rows, "GeoLite2-Country")
    damaged = tmp_path / "damaged.mmdb"
    damaged.write_bytes(_replace(good, b"zz0039", b"\xff" * 6))
    with Locator(NO_DNS, rdap=False, geoip_country=damaged) as loc:
        early = loc.locate("http://81.2.1.1/")
        late = loc.locate("http://81.2.39.1/")
    assert (early.status, early.jurisdiction.country) == ("located", "GB")
    assert late.error is not None and late.error.code == "data", late.to_json()
    assert str(damaged) in late.error.message


# -- RDAP bootstrap folder ------------------------------------------------------------------


def _bootstrap(tmp_path: Path) -> Path:
    folder = tmp_path / "bootstrap"
    folder.mkdir()
    service = {"services": [[["193.0.0.0/8"], ["https://rdap.db.ripe.net/"]]]}
    for kind in ("ipv4", "ipv6"):
        (folder / f"{kind}.json").write_text(json.dumps({"version": "1.0", **service}))
    return folder


BOOTSTRAP_FAULTS: dict[str, Callable[[Path], Path]] = {
    "folder-missing": lambda f: (shutil.rmtree(f), f)[1],
    "ipv4-missing": lambda f: ((f / "ipv4.json").unlink(), f / "ipv4.json")[1],
    "ipv6-truncated": lambda f: (
        (f / "ipv6.json").write_bytes((f / "ipv6.json").read_bytes()[:25]),
        f / "ipv6.json",
    )[1],
    "ipv4-not-json": lambda f: ((f / "ipv4.json").write_bytes(b"\x00\xff<html>"), f / "ipv4.json")[
        1
    ],
    "ipv4-no-services": lambda f: ((f / "ipv4.json").write_text("{}"), f / "ipv4.json")[1],
}


def test_a_valid_bootstrap_folder_is_accepted(tmp_path: Path) -> None:
    with Locator(NO_DNS, rdap_bootstrap=_bootstrap(tmp_path)) as loc:
        assert loc.locate("").status == "invalid"


@pytest.mark.parametrize("fault", sorted(BOOTSTRAP_FAULTS))
def test_bad_bootstrap_folder(tmp_path: Path, fault: str) -> None:
    folder = _bootstrap(tmp_path)
    named = BOOTSTRAP_FAULTS[fault](folder)
    with pytest.raises(DataError) as info:
        Locator(NO_DNS, rdap_bootstrap=folder).close()
    assert info.value.path is not None and Path(info.value.path) in (named, folder)
    assert str(named) in info.value.message or str(folder) in info.value.message


# -- the persistent cache -------------------------------------------------------------------


@pytest.fixture(scope="module")
def cache_file(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("cache") / "cache.sqlite3"
    store = SqliteStore(path)
    names = store.namespace("dns")
    for i in range(3000):
        names.put(f"host{i}.example", {"answer": "x" * 100}, 3600)
    store.close()
    return path.read_bytes()


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d[: len(d) // 2],
        lambda d: d[:100],
        lambda d: b"\0" * 4096 + d[4096:],
        lambda d: b"not a database " * 300,
    ],
    ids=["half", "header-only", "first-page-zeroed", "garbage"],
)
def test_corrupt_cache_file(
    cache_file: bytes, tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    bad = tmp_path / "cache.sqlite3"
    bad.write_bytes(damage(cache_file))
    with pytest.raises(DataError) as info:
        Locator(NO_DNS, rdap=False, cache=SqliteStore(bad)).close()
    assert info.value.path == str(bad) and str(bad) in info.value.message


def test_cache_in_a_folder_that_cannot_exist(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DataError) as info:
        SqliteStore(blocker / "cache.sqlite3")
    assert info.value.path == str(blocker / "cache.sqlite3")


# -- a pinned data folder (providers, hotlines, public suffix list, databases) -------------


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hostlocate import datasets

    root = tmp_path_factory.mktemp("pinned") / "data"
    datasets.export(root)
    return root


def _pinned_copy(source: Path, target: Path) -> Path:
    """Hard links where possible: a damaged file is written anew, never in place."""
    for path in source.rglob("*"):
        dest = target / path.relative_to(source)
        if path.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, dest)
        except OSError:
            shutil.copyfile(path, dest)
    return target


def _rewrite(path: Path, data: bytes) -> None:
    path.unlink()
    path.write_bytes(data)


@pytest.mark.parametrize(
    ("relative", "damage"),
    [
        ("providers.json", "truncate"),
        ("providers.json", "flip"),
        ("hotlines.csv", "truncate"),
        ("psl/public_suffix_list.dat", "truncate"),
        ("psl/public_suffix_list.dat", "delete"),
        ("geo/country.mmdb", "truncate"),
        ("geo/asn.mmdb", "flip"),
    ],
)
def test_damaged_file_in_a_pinned_data_folder(
    exported: Path, tmp_path: Path, relative: str, damage: str
) -> None:
    from hostlocate import datasets

    root = _pinned_copy(exported, tmp_path / "data")
    path = root / relative
    data = path.read_bytes()
    if damage == "truncate":
        _rewrite(path, data[: len(data) // 2])
    elif damage == "flip":
        _rewrite(path, data[:100] + bytes([data[100] ^ 0x01]) + data[101:])
    else:
        path.unlink()
    with pytest.raises(DataError) as info:
        datasets.resolve(root)
    assert info.value.path == str(path)
    assert relative in info.value.message


def test_a_pinned_folder_without_a_manifest(exported: Path, tmp_path: Path) -> None:
    from hostlocate import datasets

    root = _pinned_copy(exported, tmp_path / "data")
    (root / "MANIFEST.json").unlink()
    with pytest.raises(DataError) as info:
        datasets.resolve(root)
    assert info.value.path == str(root / "MANIFEST.json")


def test_a_pinned_folder_with_a_corrupt_manifest(exported: Path, tmp_path: Path) -> None:
    from hostlocate import datasets

    root = _pinned_copy(exported, tmp_path / "data")
    _rewrite(root / "MANIFEST.json", b'{"schema": "hostlocate.data/1", "files": [')
    with pytest.raises(DataError) as info:
        datasets.resolve(root)
    assert info.value.path == str(root / "MANIFEST.json")
