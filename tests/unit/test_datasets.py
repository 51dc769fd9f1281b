"""Data lifecycle without a network: which copy is read, status and staleness, the checks
every download must pass, unpacking limits, export and the command's usage errors."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hostlocate import _resources, datasets
from hostlocate._resources import ManifestEntry
from hostlocate.cli import main
from hostlocate.datasets import (
    DataStatus,
    ResolvedData,
    _Refused,
    check_bootstrap,
    check_mmdb,
    check_psl,
    gunzip_limited,
    is_newer,
    parse_cidr_list,
    parse_cloudfront,
    parse_date,
    resolve,
    status,
    untar_member,
)
from hostlocate.errors import ConfigError, DataError
from tests.datalab import files

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_real_user_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing here may read or write the user's own data folder."""
    monkeypatch.setenv(datasets.USER_DIR_ENV, str(tmp_path / "default-user-folder"))


def entry(name: str, build_date: str | None, **extra: object) -> ManifestEntry:
    return ManifestEntry(
        name=name,
        title=f"{name} test copy",
        source="test",
        build_date=build_date,
        size=0,
        sha256="",
        **extra,  # type: ignore[arg-type]
    )


def user_folder(root: Path, sets: dict[str, tuple[str, bytes, str | None]]) -> Path:
    """A user data folder: data set name -> (relative path, content, build date)."""
    return user_files(root, [(name, *item) for name, item in sets.items()])


def user_files(root: Path, items: list[tuple[str, str, bytes, str | None]]) -> Path:
    """A user data folder from (data set name, relative path, content, build date) rows."""
    entries = {}
    for name, rel, content, built in items:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        size, sha = _resources.hash_file(path)
        entries[rel] = ManifestEntry(
            name=name,
            title=f"{name} user copy",
            source="test",
            version="u1",
            build_date=built,
            licence="test-licence",
            size=size,
            sha256=sha,
            url="http://127.0.0.1:1/x",
            fetched_at="2026-11-28T00:00:00Z",
        )
    _resources.write_manifest(root, entries)
    return root


BUNDLED_PSL_DATE = _resources.bundled().entry("psl")[1].build_date


# -- dates and the newer-than rule ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-06-01T20:32:58Z", datetime(2026, 6, 1, 20, 32, 58, tzinfo=UTC)),
        ("2026-11-28", datetime(2026, 11, 28, tzinfo=UTC)),
        ("2026-10-22_08-36-41_UTC", datetime(2026, 10, 22, 8, 36, 41, tzinfo=UTC)),
        ("2026-10-22T10:36:41+02:00", datetime(2026, 10, 22, 8, 36, 41, tzinfo=UTC)),
        ("2023-08", None),
        ("yesterday", None),
        ("2026-13-01", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(text: str | None, expected: datetime | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("mine", "theirs", "newer"),
    [
        ("2026-12-01T00:00:00Z", "2026-11-01T00:00:00Z", True),
        ("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", False),
        ("2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z", False),  # a tie keeps the bundled
        ("2026-10-22_08-36-42_UTC", "2026-10-22T08:36:41Z", True),
        (None, "2026-11-01T00:00:00Z", False),  # undated never replaces dated
        ("2026-11-01", None, True),
    ],
    ids=["later", "earlier", "tie", "psl-stamp", "undated", "reference-undated"],
)
def test_is_newer(mine: str | None, theirs: str | None, newer: bool) -> None:
    assert is_newer(entry("psl", mine), entry("psl", theirs)) is newer


def test_anything_replaces_nothing() -> None:
    assert is_newer(entry("rdap_bootstrap", None), None)


def test_iana_urls_are_the_bootstrap_modules() -> None:
    from hostlocate.sources.bootstrap import IANA_BOOTSTRAP_URLS

    assert {k: datasets.SOURCES[f"rdap-{k}"] for k in IANA_BOOTSTRAP_URLS} == dict(
        IANA_BOOTSTRAP_URLS
    )


def test_publisher_sources_are_https() -> None:
    assert all(url.startswith("https://") for url in datasets.SOURCES.values())


# -- resolution -----------------------------------------------------------------------


def test_without_a_user_folder_everything_is_bundled(tmp_path: Path) -> None:
    found = resolve(user_dir=tmp_path / "absent")
    assert set(found.sets) == datasets.REQUIRED | {"rdap_bootstrap"}
    assert {ds.origin for ds in found.sets.values()} == {"bundled"}
    assert found.rdap_bootstrap == _resources.data_path("rdap/ipv4.json").parent
    assert found.pinned is None and found.notes == {}
    assert found.path("psl") == _resources.data_path("psl/public_suffix_list.dat")
    assert found.sources()["public_suffix_list"] == _resources.source_info("psl")
    assert list(found.sources()) == [
        "geoip_country",
        "geoip_asn",
        "public_suffix_list",
        "providers",
        "hotlines",
        "platforms",
        "rdap_bootstrap",
    ]


def test_a_newer_user_copy_is_used(tmp_path: Path) -> None:
    home = user_folder(tmp_path / "u", {"psl": ("psl/x.dat", b"list", "2026-11-30T00:00:00Z")})
    found = resolve(user_dir=home)
    psl = found.sets["psl"]
    assert psl.origin == "user" and psl.path == home / "psl/x.dat"
    assert found.sources()["public_suffix_list"].origin == "user"
    assert found.sources()["public_suffix_list"].name == "psl user copy"
    assert found.sets["geoip_country"].origin == "bundled"
    assert "psl" not in found.notes


def test_a_user_copy_dated_in_the_future_is_not_used(tmp_path: Path) -> None:
    """It would win over every later download until that date: it is passed over."""
    ahead = datasets.iso(datetime.now(UTC) + datasets.CLOCK_SKEW * 2)
    home = user_folder(tmp_path / "u", {"psl": ("psl/x.dat", b"list", ahead)})
    found = resolve(user_dir=home)
    assert found.sets["psl"].origin == "bundled"
    assert "in the future" in found.notes["psl"]


@pytest.mark.parametrize("built", ["2020-01-01T00:00:00Z", BUNDLED_PSL_DATE, None])
def test_an_older_equal_or_undated_user_copy_is_not(tmp_path: Path, built: str | None) -> None:
    home = user_folder(tmp_path / "u", {"psl": ("psl/x.dat", b"list", built)})
    found = resolve(user_dir=home)
    assert found.sets["psl"].origin == "bundled"
    assert "not newer than the bundled one" in found.notes["psl"]


def test_a_damaged_user_copy_falls_back_to_the_bundled_one(tmp_path: Path) -> None:
    home = user_folder(tmp_path / "u", {"psl": ("psl/x.dat", b"list", "2026-11-30T00:00:00Z")})
    (home / "psl/x.dat").write_bytes(b"LIST")  # same size, other bytes
    found = resolve(user_dir=home)
    assert found.sets["psl"].origin == "bundled"
    assert "user copy not used" in found.notes["psl"] and "sha256" in found.notes["psl"]


def test_an_unreadable_user_manifest_is_ignored_with_a_note(tmp_path: Path) -> None:
    home = tmp_path / "u"
    home.mkdir()
    (home / "MANIFEST.json").write_text("{", encoding="utf-8")
    found = resolve(user_dir=home)
    assert {ds.origin for ds in found.sets.values()} == {"bundled"}
    assert "manifest unreadable" in found.notes["user folder"]


def test_a_user_manifest_cannot_point_outside_its_folder(tmp_path: Path) -> None:
    home = tmp_path / "u"
    home.mkdir()
    doc = {"schema": "x", "files": {"../escape.dat": msgspec_entry("psl")}}
    (home / "MANIFEST.json").write_text(json.dumps(doc), encoding="utf-8")
    found = resolve(user_dir=home)
    assert "outside its folder" in found.notes["user folder"]


def msgspec_entry(name: str) -> dict[str, object]:
    return {"name": name, "title": "t", "source": "s", "size": 1, "sha256": "0" * 64}


def test_the_rdap_bootstrap_resolves_to_its_folder(tmp_path: Path) -> None:
    docs = files.bootstrap_files()
    home = user_files(
        tmp_path / "u",
        [("rdap_bootstrap", f"rdap/g1/{k}.json", body, "2026-11-28") for k, body in docs.items()],
    )
    found = resolve(user_dir=home)
    assert found.rdap_bootstrap == home / "rdap/g1"
    assert found.sets["rdap_bootstrap"].files == tuple(sorted(f"rdap/g1/{k}.json" for k in docs))
    assert found.sources()["rdap_bootstrap"].origin == "user"


def test_rdap_bootstrap_files_must_share_a_folder(tmp_path: Path) -> None:
    docs = files.bootstrap_files()
    home = user_files(
        tmp_path / "u",
        [
            ("rdap_bootstrap", f"rdap/{'a' if k == 'ipv4' else 'b'}/{k}.json", body, "2026-11-28")
            for k, body in docs.items()
        ],
    )
    found = resolve(user_dir=home)
    assert found.sets["rdap_bootstrap"].origin == "bundled"  # the torn user copy is not used
    assert "share one folder" in found.notes["rdap_bootstrap"]


@pytest.fixture(scope="module")
def pinned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled data exported into a folder of its own."""
    target = tmp_path_factory.mktemp("pin") / "data"
    datasets.export(target, resolve(user_dir=target.parent / "no-user"))
    return target


def test_export_writes_a_complete_verified_folder(pinned: Path) -> None:
    manifest = json.loads((pinned / "MANIFEST.json").read_text(encoding="utf-8"))
    rdap = ["rdap/ipv4.json", "rdap/ipv6.json"]
    assert sorted(manifest["files"]) == sorted([*datasets.EXPORT_NAMES.values(), *rdap])
    for rel, item in manifest["files"].items():
        assert _resources.hash_file(pinned / rel) == (item["size"], item["sha256"])
        bundled = _resources.bundled().entry(rel if rel in rdap else item["name"])[1]
        assert item["sha256"] == bundled.sha256 and item["build_date"] == bundled.build_date
    assert not [p for p in pinned.parent.iterdir() if p.name.startswith(".")]


def test_a_pinned_folder_pins_everything(pinned: Path, tmp_path: Path) -> None:
    newer_user = user_folder(
        tmp_path / "u", {"psl": ("psl/x.dat", b"list", "2026-11-30T00:00:00Z")}
    )
    found = resolve(pinned, user_dir=newer_user)
    assert found.pinned == pinned and found.user_dir is None
    assert {ds.origin for ds in found.sets.values()} == {"path"}
    assert found.path("psl") == pinned / "psl/public_suffix_list.dat"
    info = found.sources()["geoip_country"]
    assert info.origin == "path"
    assert info.build_date == _resources.source_info("geoip_country").build_date


def test_loaders_carry_the_resolved_provenance(pinned: Path) -> None:
    found = resolve(pinned)
    with found.geo_database() as geo:
        assert {s.origin for s in geo.sources().values()} == {"path"}
        assert geo.sources()["geoip_country"] == found.source_info("geoip_country")
        assert geo.lookup("193.0.6.139").country == "NL"
    assert found.provider_table().source_info() == found.source_info("providers")
    assert found.hotline_directory().source_info().origin == "path"
    suffixes = found.public_suffixes()
    assert suffixes.path == pinned / "psl/public_suffix_list.dat"
    assert suffixes.registered_domain("www.example.co.uk") == "example.co.uk"


def test_an_explicit_database_path_wins_over_the_data_set(pinned: Path, tmp_path: Path) -> None:
    own = files.country_mmdb(tmp_path / "own.mmdb", probe_country="JP")
    with resolve(pinned).geo_database(country=own) as geo:
        assert geo.lookup(files.PROBE).country == "JP"
        assert geo.sources()["geoip_country"].origin == "path"
        assert geo.sources()["geoip_country"].name.endswith("(own.mmdb)")


def test_a_pinned_folder_must_hold_every_required_data_set(pinned: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    shutil.copytree(pinned, partial)
    manifest = json.loads((partial / "MANIFEST.json").read_text(encoding="utf-8"))
    del manifest["files"]["hotlines.csv"]
    (partial / "MANIFEST.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(DataError, match="pins no hotlines data"):
        resolve(partial)


def test_a_damaged_pinned_file_is_an_error_not_a_fallback(pinned: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(pinned, copy)
    with (copy / "hotlines.csv").open("a", encoding="utf-8") as fh:
        fh.write("\n")
    with pytest.raises(DataError, match=r"hotlines\.csv"):
        resolve(copy)


def test_a_missing_pinned_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        resolve(tmp_path / "nowhere")
    with pytest.raises(DataError, match="manifest missing"):
        resolve(tmp_path)


def test_export_refuses_a_folder_with_content(pinned: Path, tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match="not an empty folder"):
        datasets.export(tmp_path / "full", resolve(pinned))


def test_export_of_a_pinned_folder_round_trips(pinned: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    again = datasets.export(tmp_path / "empty", resolve(pinned))
    assert again.pinned == tmp_path / "empty"
    assert again.sources() == {k: v for k, v in resolve(pinned).sources().items()}


# -- status -----------------------------------------------------------------------------


def rows_by_name(rows: list[DataStatus]) -> dict[str, DataStatus]:
    return {row.name: row for row in rows}


def test_status_ages_and_thresholds(tmp_path: Path) -> None:
    found = resolve(user_dir=tmp_path / "none")
    rows = rows_by_name(status(found, now=NOW))
    country = rows["geoip_country"]
    assert country.origin == "bundled" and country.build_date == "2026-06-01T20:32:58Z"
    assert country.age_days == 179 and country.max_age_days == 45 and country.stale
    assert rows["providers"].age_days == 0 and not rows["providers"].stale
    boot = rows["rdap_bootstrap"]
    assert boot.origin == "bundled" and boot.build_date == "2023-12-18T00:00:00Z" and boot.stale
    assert "hostlocate data update rdap_bootstrap" in (boot.note or "")
    early = rows_by_name(status(found, now=datetime(2026, 7, 1, tzinfo=UTC)))
    assert early["geoip_country"].age_days == 29 and not early["geoip_country"].stale


def test_status_thresholds_can_be_overridden(tmp_path: Path) -> None:
    found = resolve(user_dir=tmp_path / "none")
    rows = rows_by_name(status(found, now=NOW, max_age={"geoip_country": 200, "hotlines": 0}))
    assert not rows["geoip_country"].stale
    assert rows["hotlines"].stale is False  # 0 days old is not past a 0-day limit
    later = rows_by_name(
        status(found, now=datetime(2026, 11, 30, tzinfo=UTC), max_age={"hotlines": 1})
    )
    assert later["hotlines"].stale


def test_stale_warnings_say_how_to_refresh(tmp_path: Path) -> None:
    rows = status(resolve(user_dir=tmp_path / "none"), now=datetime(2027, 6, 1, tzinfo=UTC))
    warnings = datasets.stale_warnings(rows)
    assert any(
        w.startswith("geoip_country data is 364 days old, past its 45-day limit") for w in warnings
    )
    assert any("hostlocate data update psl" in w for w in warnings)
    assert any(w.startswith("hotlines") and "release" in w for w in warnings)
    assert any(
        w.startswith("rdap_bootstrap") and "hostlocate data update rdap_bootstrap" in w
        for w in warnings
    )


def test_status_of_a_user_copy_shows_where_it_came_from(tmp_path: Path) -> None:
    home = user_folder(tmp_path / "u", {"psl": ("psl/x.dat", b"list", "2026-11-27T00:00:00Z")})
    psl = rows_by_name(status(resolve(user_dir=home), now=NOW))["psl"]
    assert psl.origin == "user" and psl.age_days == 1 and not psl.stale
    assert psl.url == "http://127.0.0.1:1/x" and psl.fetched_at == "2026-11-28T00:00:00Z"
    assert psl.path == str(home / "psl/x.dat")


def test_status_shows_each_bundled_set_as_its_manifest_records_it(tmp_path: Path) -> None:
    found = resolve(user_dir=tmp_path / "none")
    rows = rows_by_name(status(found, now=NOW))
    for name, data in found.sets.items():
        row, entry = rows[name], data.entry
        assert (row.title, row.version, row.build_date) == (
            entry.title,
            entry.version,
            entry.build_date,
        )
        assert (row.licence, row.attribution) == (entry.licence, entry.attribution)
        assert (row.url, row.fetched_at) == (entry.url, entry.fetched_at)
    assert rows["geoip_country"].title and rows["geoip_country"].licence


def test_status_command_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = user_folder(tmp_path / "u", {"psl": ("psl/x.dat", b"list", "2026-11-30T00:00:00Z")})
    assert (
        main(["data", "status", "--dir", str(home), "--json", "--max-age", "geoip_asn=9999"]) == 0
    )
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["user_dir"] == str(home) and doc["pinned"] is None
    names = [d["name"] for d in doc["datasets"]]
    assert names == list(datasets.DATASETS)
    by_name = {d["name"]: d for d in doc["datasets"]}
    assert by_name["psl"]["origin"] == "user"
    assert by_name["geoip_asn"]["max_age_days"] == 9999 and not by_name["geoip_asn"]["stale"]
    assert by_name["geoip_country"]["stale"]  # bundled June data, a 45-day limit
    assert doc["warnings"] and all(f"hostlocate: warning: {w}" in err for w in doc["warnings"])
    assert "geoip_asn" not in err


def test_status_command_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "status", "--dir", str(tmp_path / "none")]) == 0
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == f"user data folder: {tmp_path / 'none'}"
    for name in datasets.DATASETS:
        assert any(line.startswith(name) for line in lines)
    assert any(line.startswith("geoip_country   bundled  2026-06-01") for line in lines)


def test_status_command_on_a_pinned_folder(
    pinned: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data", "status", "--data-dir", str(pinned), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["pinned"] == str(pinned)
    assert {d["origin"] for d in doc["datasets"] if d["name"] != "rdap_bootstrap"} == {"path"}


@pytest.mark.parametrize(
    "argv",
    [
        ["data", "status", "--max-age", "psl"],
        ["data", "status", "--max-age", "nothing=3"],
        ["data", "status", "--max-age", "psl=-1"],
        ["data", "update", "hotlines"],
        ["data", "update", "weather"],
        ["data", "update", "--source", "nowhere=http://127.0.0.1:9/"],
        ["data", "update", "--geoip-vendor", "ipinfo"],
        ["data", "update", "--timeout", "0"],
        ["data", "frobnicate"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2


def test_a_bad_pinned_folder_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "status", "--data-dir", str(tmp_path / "nowhere")]) == 1
    assert "data folder not found" in capsys.readouterr().err


def test_updates_never_go_into_the_bundled_folder() -> None:
    with pytest.raises(ConfigError, match="bundled data folder"):
        datasets.update(["psl"], target=_resources.data_dir())


def test_update_checks_names_and_sources_before_any_download(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown data set"):
        datasets.update(["geoip_city"], target=tmp_path)
    with pytest.raises(ConfigError, match="no publisher download"):
        datasets.update(["hotlines"], target=tmp_path)
    with pytest.raises(ConfigError, match="unknown source"):
        datasets.update(["psl"], target=tmp_path, sources={"pls": "http://127.0.0.1:9/"})
    assert not tmp_path.joinpath("MANIFEST.json").exists()


def test_licence_keys_are_redacted() -> None:
    import httpx

    with httpx.Client() as client:
        fetcher = datasets._Fetcher(client, {}, "s3cr+t/key", NOW)
        url = fetcher._fill(datasets.SOURCES["maxmind-asn"])
        assert "s3cr%2Bt%2Fkey" in url
        shown = fetcher.redact(url)
        assert "s3cr" not in shown and "license_key=REDACTED" in shown
        assert fetcher.redact("https://mirror.test/?token=s3cr+t/key") == (
            "https://mirror.test/?token=REDACTED"
        )


def test_dbip_months_fall_back_to_the_previous_one() -> None:
    import httpx

    with httpx.Client() as client:
        fetcher = datasets._Fetcher(client, {}, None, datetime(2027, 1, 2, tzinfo=UTC))
        assert fetcher._months() == ["2027-01", "2026-12"]
        assert fetcher._fill(datasets.SOURCES["dbip-country"], "2027-01").endswith(
            "/dbip-country-lite-2027-01.mmdb.gz"
        )


# -- checks on downloaded files -------------------------------------------------------


@pytest.fixture(scope="module")
def dbs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("dbs")
    return {
        "country": files.country_mmdb(folder / "country.mmdb"),
        "flat": files.country_mmdb(folder / "flat.mmdb", layout="flat"),
        "asn": files.asn_mmdb(folder / "asn.mmdb"),
    }


def test_good_databases_pass(dbs: dict[str, Path]) -> None:
    facts = check_mmdb(dbs["country"], "country")
    assert facts.database_type == "DBIP-Country-Lite"
    assert parse_date(facts.build_date) is not None
    assert check_mmdb(dbs["flat"], "country").database_type == "DBIP-Country-Lite"
    assert check_mmdb(dbs["asn"], "asn").database_type.startswith("DBIP-ASN-Lite")


def test_wrong_answers_are_refused(tmp_path: Path) -> None:
    wrong = files.country_mmdb(
        tmp_path / "w.mmdb", answers={ip: "ZZ" for ip, _ in datasets.KNOWN_COUNTRIES}
    )
    with pytest.raises(_Refused, match=r"implausible answers: 193\.0\.6\.139: ZZ \(expected NL\)"):
        check_mmdb(wrong, "country")


def test_one_moved_address_is_tolerated_but_not_two(tmp_path: Path) -> None:
    known = dict(datasets.KNOWN_COUNTRIES)
    check_mmdb(
        files.country_mmdb(tmp_path / "a.mmdb", answers={**known, "88.198.1.1": "AT"}), "country"
    )
    two = {**known, "88.198.1.1": "AT", "193.0.6.139": "BE"}
    with pytest.raises(_Refused, match="implausible"):
        check_mmdb(files.country_mmdb(tmp_path / "b.mmdb", answers=two), "country")


def test_an_ipv4_only_database_is_refused(tmp_path: Path) -> None:
    v4 = files.country_mmdb(tmp_path / "v4.mmdb", ip_version=4)
    with pytest.raises(_Refused, match="implausible"):
        check_mmdb(v4, "country")


def test_a_database_of_the_other_kind_is_refused(dbs: dict[str, Path]) -> None:
    with pytest.raises(_Refused, match="not a usable country database"):
        check_mmdb(dbs["asn"], "country")
    with pytest.raises(_Refused, match=r"not a usable ASN database.*autonomous_system_number"):
        check_mmdb(dbs["country"], "asn")


def test_truncated_and_garbage_databases_are_refused(dbs: dict[str, Path], tmp_path: Path) -> None:
    data = dbs["country"].read_bytes()
    (tmp_path / "cut.mmdb").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.mmdb").write_bytes(b"<html>Not here</html>" * 1000)
    for name in ("cut.mmdb", "junk.mmdb"):
        with pytest.raises(_Refused, match="not a usable country database"):
            check_mmdb(tmp_path / name, "country")


def test_gunzip_unpacks_within_the_limit(tmp_path: Path) -> None:
    (tmp_path / "a.gz").write_bytes(files.gzipped(b"x" * 5000))
    assert gunzip_limited(tmp_path / "a.gz", tmp_path / "a", max_bytes=5000) == 5000
    assert (tmp_path / "a").read_bytes() == b"x" * 5000


def test_a_gzip_bomb_is_refused(tmp_path: Path) -> None:
    bomb = files.gzipped(bytes(8 << 20))  # 8 MiB of zeros in about 8 KB
    assert len(bomb) < 20_000
    (tmp_path / "bomb.gz").write_bytes(bomb)
    with pytest.raises(_Refused, match="unpacks to more than 1048576 bytes"):
        gunzip_limited(tmp_path / "bomb.gz", tmp_path / "out", max_bytes=1 << 20)
    assert (tmp_path / "out").stat().st_size <= 1 << 20


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (files.gzipped(b"y" * 10_000)[:-40], "truncated gzip"),
        (b"PK\x03\x04 a zip, not a gzip", "not a gzip file"),
        (b"\x1f\x8b\x08\x00garbage after the magic", "corrupt gzip|truncated gzip"),
        (b"", "not a gzip file"),
    ],
    ids=["truncated", "zip", "corrupt", "empty"],
)
def test_bad_gzip_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "x.gz").write_bytes(content)
    with pytest.raises(_Refused, match=message):
        gunzip_limited(tmp_path / "x.gz", tmp_path / "x", max_bytes=1 << 20)


def test_untar_takes_the_database_out_of_maxminds_archive(
    dbs: dict[str, Path], tmp_path: Path
) -> None:
    archive = files.maxmind_archive("GeoLite2-Country", dbs["country"].read_bytes())
    (tmp_path / "a.tar.gz").write_bytes(archive)
    name = untar_member(
        tmp_path / "a.tar.gz", tmp_path / "out.mmdb", suffix=".mmdb", max_bytes=1 << 20
    )
    assert name == "GeoLite2-Country_20261124/GeoLite2-Country.mmdb"
    assert (tmp_path / "out.mmdb").read_bytes() == dbs["country"].read_bytes()


def test_untar_never_writes_by_the_archives_paths(tmp_path: Path) -> None:
    (tmp_path / "evil.tar.gz").write_bytes(files.tar_gz({"../../escaped.mmdb": b"data"}))
    work = tmp_path / "work"
    work.mkdir()
    untar_member(tmp_path / "evil.tar.gz", work / "out.mmdb", suffix=".mmdb", max_bytes=100)
    assert (work / "out.mmdb").read_bytes() == b"data"
    assert (
        not list(tmp_path.parent.glob("escaped.mmdb")) and not (tmp_path / "escaped.mmdb").exists()
    )


@pytest.mark.parametrize(
    ("archive", "message"),
    [
        (files.tar_gz({"x/README.txt": b"no database"}), "holds no \\*.mmdb"),
        (files.tar_gz({}, symlinks={"x/GeoLite2-ASN.mmdb": "/etc/passwd"}), "not a regular file"),
        (files.tar_gz({"x/big.mmdb": bytes(300_000)}), "over the 100000-byte limit"),
        (files.tar_gz({"x/a.mmdb": b"abc" * 1000})[:-100], "truncated|corrupt"),
        (files.gzipped(b"not a tar archive at all" * 50), "corrupt archive|holds no"),
    ],
    ids=["no-member", "symlink", "too-big", "truncated", "not-tar"],
)
def test_bad_archives_are_refused(tmp_path: Path, archive: bytes, message: str) -> None:
    (tmp_path / "a.tar.gz").write_bytes(archive)
    with pytest.raises(_Refused, match=message):
        untar_member(tmp_path / "a.tar.gz", tmp_path / "o", suffix=".mmdb", max_bytes=100_000)


def test_a_tar_bomb_is_refused(tmp_path: Path) -> None:
    bomb = files.tar_gz({"x/padding.bin": bytes(4 << 20), "x/a.mmdb": b"late"})
    (tmp_path / "bomb.tar.gz").write_bytes(bomb)
    with pytest.raises(_Refused, match="unpacks to more than"):
        untar_member(tmp_path / "bomb.tar.gz", tmp_path / "o", suffix=".mmdb", max_bytes=1 << 20)


def test_the_psl_passes(tmp_path: Path) -> None:
    (tmp_path / "psl.dat").write_bytes(files.psl_bytes())
    assert check_psl(tmp_path / "psl.dat") == "2026-10-22_08-36-41_UTC"


def _psl_without(rule: str) -> bytes:
    lines = files.psl_bytes().decode().splitlines(keepends=True)
    return "".join(line for line in lines if line.strip() != rule).encode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (_psl_without("com"), "lacks the rule com$"),
        (_psl_without("github.io"), "lacks the rule github.io"),
        (files.psl_bytes()[:200_000], "lacks its ===END PRIVATE DOMAINS=== line"),
        (b"com\nco.uk\ngithub.io\n", "BEGIN ICANN"),
        (files.psl_bytes().replace(b"// VERSION", b"\xff\xfe VERSION"), "not UTF-8"),
    ],
    ids=["no-com", "no-github-io", "truncated", "bare-rules", "not-utf8"],
)
def test_bad_psls_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "psl.dat").write_bytes(content)
    with pytest.raises(_Refused, match=message):
        check_psl(tmp_path / "psl.dat")


@pytest.mark.parametrize("kind", datasets.RDAP_KINDS)
def test_bootstrap_files_pass(tmp_path: Path, kind: str) -> None:
    (tmp_path / f"{kind}.json").write_bytes(files.bootstrap_files()[kind])
    assert check_bootstrap(kind, tmp_path / f"{kind}.json") == "2026-11-20T18:00:01Z"


@pytest.mark.parametrize(
    ("kind", "content", "message"),
    [
        ("ipv4", b'{"services": [', "not JSON"),
        ("ipv4", b"[]", "no services"),
        ("ipv6", b'{"services": []}', "no services"),
        ("asn", b'{"services": [["3333", ["https://x/"]]]}', "not in IANA's format"),
        (
            "ipv4",
            b'{"services": [[["10.0.0.0/8"], ["https://x/"]]]}',
            "no service for a well-known",
        ),
        ("dns", b'{"services": [[["org"], ["https://x/"]]]}', "no service for a well-known"),
        ("ipv4", b'{"services": [[["not-a-network"], ["https://x/"]]]}', "not in IANA's format"),
    ],
)
def test_bad_bootstrap_files_are_refused(
    tmp_path: Path, kind: str, content: bytes, message: str
) -> None:
    (tmp_path / "f.json").write_bytes(content)
    with pytest.raises(_Refused, match=message):
        check_bootstrap(kind, tmp_path / "f.json")


def test_range_lists() -> None:
    v4, v6 = files.cloudflare_lists()
    assert str(parse_cidr_list(v4.decode(), 4, what="v4")[0]) == "103.21.244.0/22"
    assert all(n.version == 6 for n in parse_cidr_list(v6.decode(), 6, what="v6"))
    assert len(parse_cloudfront(files.cloudfront_list())) == 180


@pytest.mark.parametrize(
    ("text", "version", "message"),
    [
        ("104.16.0.0/13\n<html>\n", 4, "line 2: not a network"),
        ("104.16.0.0/13\n2606:4700::/32\n", 4, "line 2: 2606:4700::/32 is not IPv4"),
        ("104.16.0.1/13\n", 4, "not a network"),  # host bits set
        ("\n\n", 4, "lists no networks"),
    ],
)
def test_bad_range_lists_are_refused(text: str, version: int, message: str) -> None:
    with pytest.raises(_Refused, match=message):
        parse_cidr_list(text, version, what="ips")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "not JSON"),
        (b'{"CLOUDFRONT_GLOBAL_IP_LIST": []}', "lacks"),
        (
            b'{"CLOUDFRONT_GLOBAL_IP_LIST": ["x"], "CLOUDFRONT_REGIONAL_EDGE_IP_LIST": []}',
            "not a network",
        ),
        (
            b'{"CLOUDFRONT_GLOBAL_IP_LIST": ["13.32.0.0/15"], '
            b'"CLOUDFRONT_REGIONAL_EDGE_IP_LIST": []}',
            "only 1",
        ),
    ],
)
def test_bad_cloudfront_lists_are_refused(body: bytes, message: str) -> None:
    with pytest.raises(_Refused, match=message):
        parse_cloudfront(body)


def test_resolved_data_without_a_data_set_says_so() -> None:
    with pytest.raises(DataError, match="no providers data set"):
        ResolvedData({}).provider_table()


# -- what resolving data files imports -------------------------------------------------

_UPDATE_CODE = (
    "hostlocate.datasets.download",
    "hostlocate.datasets.updating",
    "hostlocate.datasets.prepare",
    "hostlocate.datasets.command",
    "hostlocate.datasets.exporting",
    "hostlocate.datasets.checks",
    "httpx",
)


@pytest.mark.parametrize(
    "statement",
    [
        "import hostlocate.datasets.resolution as r; d = r.resolve()",
        "from hostlocate import datasets; d = datasets.resolve()",
    ],
    ids=["resolution-module", "package-attribute"],
)
def test_resolving_data_files_loads_no_update_code(statement: str) -> None:
    """A locator resolves its data through this path: no download or update code, no httpx."""
    import subprocess
    import sys

    script = (
        f"import sys; {statement}; "
        "d.provider_table(); d.hotline_directory(); d.public_suffixes(); "
        "d.geo_database().close(); "
        f"print(sorted(m for m in {_UPDATE_CODE!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_the_package_surface_still_reaches_every_name() -> None:
    """The lazy package keeps every name of ``__all__`` reachable where it was."""
    for name in datasets.__all__:
        assert getattr(datasets, name) is not None, name
    assert set(datasets.__all__) <= set(dir(datasets))
    with pytest.raises(AttributeError):
        datasets.no_such_name  # noqa: B018
