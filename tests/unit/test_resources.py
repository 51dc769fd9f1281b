"""The bundled data matches its manifest, and a file that does not is refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hostlocate import _resources
from hostlocate._resources import DataFolder
from hostlocate.errors import DataError

DATA = _resources.data_dir()
# Files in data/ that are tooling or documentation, not data the package reads.
NOT_DATA = {"MANIFEST.json", "README.md"}


def _data_files() -> set[str]:
    found = set()
    for path in DATA.rglob("*"):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(DATA).as_posix()
        if rel in NOT_DATA or path.suffix in {".py", ".tmp"}:
            continue
        found.add(rel)
    return found


def test_manifest_lists_every_bundled_file() -> None:
    assert set(_resources.bundled().entries()) == _data_files()


@pytest.mark.parametrize("relative", sorted(_resources.bundled().entries()))
def test_every_bundled_file_matches_its_hash(relative: str) -> None:
    path = _resources.data_path(relative)
    assert path == DATA / relative and path.is_file()


@pytest.mark.parametrize("relative", sorted(_resources.bundled().entries()))
def test_every_entry_says_where_it_came_from(relative: str) -> None:
    _, entry = _resources.bundled().entry(relative)
    assert entry.source and entry.licence and entry.build_date and entry.refresh
    assert entry.build_date[:4].isdigit()


def test_source_info_by_name_and_by_path() -> None:
    info = _resources.source_info("geoip_country")
    assert info == _resources.source_info("geo/dbip-country.mmdb")
    assert info.origin == "bundled"
    assert info.licence == "CC-BY-4.0"
    assert info.attribution is not None and "DB-IP" in info.attribution
    assert info.build_date == "2026-06-01T20:32:58Z"
    assert _resources.source_info("geoip_asn").licence == "CC-BY-4.0"
    assert _resources.source_info("psl").licence == "MPL-2.0"


def test_unknown_name_is_a_data_error() -> None:
    with pytest.raises(DataError, match="not listed"):
        _resources.source_info("no_such_data")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A pinned copy of the small bundled files with their manifest entries."""
    manifest = json.loads((DATA / "MANIFEST.json").read_text(encoding="utf-8"))
    keep = {k: v for k, v in manifest["files"].items() if k in {"hotlines.csv", "providers.json"}}
    for rel in keep:
        shutil.copyfile(DATA / rel, tmp_path / rel)
    manifest["files"] = keep
    (tmp_path / "MANIFEST.json").write_text(json.dumps(manifest), encoding="utf-8")
    return tmp_path


def test_pinned_folder_verifies_and_reports_its_origin(folder: Path) -> None:
    pinned = DataFolder(folder, origin="path")
    assert pinned.path("hotlines.csv") == folder / "hotlines.csv"
    assert pinned.source_info("hotlines").origin == "path"


def test_changed_content_is_refused_naming_the_file(folder: Path) -> None:
    target = folder / "hotlines.csv"
    data = bytearray(target.read_bytes())
    data[-2] ^= 0x01  # same size, different bytes: only the hash can tell
    target.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"hotlines\.csv.*sha256") as info:
        DataFolder(folder).path("hotlines.csv")
    assert info.value.path == str(target)


def test_changed_size_is_refused(folder: Path) -> None:
    with (folder / "providers.json").open("a", encoding="utf-8") as fh:
        fh.write(" ")
    with pytest.raises(DataError, match=r"providers\.json"):
        DataFolder(folder).path("providers.json")


def test_missing_file_is_refused(folder: Path) -> None:
    (folder / "hotlines.csv").unlink()
    with pytest.raises(DataError, match=r"missing: hotlines\.csv"):
        DataFolder(folder).path("hotlines.csv")


def test_unlisted_file_is_refused(folder: Path) -> None:
    (folder / "extra.txt").write_text("x", encoding="utf-8")
    with pytest.raises(DataError, match="not listed"):
        DataFolder(folder).path("extra.txt")


def test_verification_is_done_once(folder: Path) -> None:
    pinned = DataFolder(folder)
    first = pinned.path("hotlines.csv")
    (folder / "hotlines.csv").write_text("changed", encoding="utf-8")
    assert pinned.path("hotlines.csv") == first  # cached: not re-hashed
    with pytest.raises(DataError):
        DataFolder(folder).path("hotlines.csv")  # a new folder object checks again


@pytest.mark.parametrize(
    "text", ["", "{", '{"schema": "x"}', '{"schema": "x", "files": {"a": {}}}']
)
def test_bad_manifest_is_a_data_error(tmp_path: Path, text: str) -> None:
    (tmp_path / "MANIFEST.json").write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match="manifest"):
        DataFolder(tmp_path).entries()


def test_missing_manifest_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="manifest missing"):
        DataFolder(tmp_path).path("anything")
