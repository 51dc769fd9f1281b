"""``hostlocate data update`` against a publisher's site on loopback, end to end.

A real HTTP server on 127.0.0.1 (tests/datalab) serves data files built in the
test's temporary folder; the real command downloads them through httpx with
``--source NAME=URL`` overrides, checks them, swaps them in and records them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hostlocate import _resources, datasets
from hostlocate.cli import main
from hostlocate.datasets import Limits, resolve
from tests.datalab import DataServer, files

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
NEWER_PSL = "2026-11-27_09-00-00_UTC"


@pytest.fixture(autouse=True)
def _no_real_user_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(datasets.USER_DIR_ENV, str(tmp_path / "default-user-folder"))
    monkeypatch.delenv(datasets.LICENCE_KEY_ENV, raising=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Every file a publisher would serve, in its publisher's packing."""
    folder = tmp_path_factory.mktemp("publisher")
    out = {
        f"country-{cc}": files.gzipped(
            files.country_mmdb(folder / f"c-{cc}.mmdb", probe_country=cc).read_bytes()
        )
        for cc in ("US", "GB", "JP")
    }
    out["asn"] = files.gzipped(files.asn_mmdb(folder / "asn.mmdb").read_bytes())
    out["country-raw"] = (folder / "c-US.mmdb").read_bytes()
    out["asn-raw"] = (folder / "asn.mmdb").read_bytes()
    out["psl"] = files.psl_with_version(NEWER_PSL)
    out["ips-v4"], out["ips-v6"] = files.cloudflare_lists()
    out["cloudfront"] = files.cloudfront_list()
    for kind, body in files.bootstrap_files().items():
        out[f"rdap-{kind}"] = body
    return out


@pytest.fixture
def site() -> Iterator[DataServer]:
    with DataServer() as server:
        yield server


def publish(site: DataServer, built: dict[str, bytes], country: str = "US") -> list[str]:
    """Serve every data set; the ``--source`` options that point the command at them."""
    urls = {
        "dbip-country": site.put(
            "/free/dbip-country-lite-2026-11.mmdb.gz", built[f"country-{country}"]
        ),
        "dbip-asn": site.put("/free/dbip-asn-lite-2026-11.mmdb.gz", built["asn"]),
        "psl": site.put("/list/public_suffix_list.dat", built["psl"], content_type="text/plain"),
        "cloudflare-ipv4": site.put("/ips-v4", built["ips-v4"], content_type="text/plain"),
        "cloudflare-ipv6": site.put("/ips-v6", built["ips-v6"], content_type="text/plain"),
        "cloudfront": site.put("/tools/list-cloudfront-ips", built["cloudfront"]),
    }
    for kind in datasets.RDAP_KINDS:
        urls[f"rdap-{kind}"] = site.put(f"/rdap/{kind}.json", built[f"rdap-{kind}"])
    return [arg for key, url in urls.items() for arg in ("--source", f"{key}={url}")]


def manifest(folder: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((folder / "MANIFEST.json").read_text(encoding="utf-8"))
    return doc


def listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def status_json(folder: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    capsys.readouterr()
    assert main(["data", "status", "--dir", str(folder), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    return {row["name"]: row for row in doc["datasets"]}


def test_update_everything_and_status_shows_the_user_copies(
    site: DataServer, built: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    user = tmp_path / "user"
    assert main(["data", "update", "--dir", str(user), *publish(site, built)]) == 0
    out = capsys.readouterr().out
    for name in datasets.UPDATABLE:
        assert f"{name}: updated: " in out

    entries = manifest(user)["files"]
    assert sorted({e["name"] for e in entries.values()}) == sorted(datasets.UPDATABLE)
    assert len(entries) == 4 + 4  # the bootstrap is four files
    for rel, item in entries.items():
        assert _resources.hash_file(user / rel) == (item["size"], item["sha256"])
        assert item["url"].startswith(site.base) and item["fetched_at"].endswith("Z")
        assert item["refresh"] == f"hostlocate data update {item['name']}"
    country = next(e for e in entries.values() if e["name"] == "geoip_country")
    assert country["version"] == "2026-11" and country["licence"] == "CC-BY-4.0"
    assert "DB-IP" in country["attribution"]
    assert not [p for p in listing(user) if ".incoming-" in p]

    rows = status_json(user, capsys)
    for name in datasets.UPDATABLE:
        assert rows[name]["origin"] == "user", name
        assert rows[name]["age_days"] is not None and not rows[name]["stale"]
        assert rows[name]["path"].startswith(str(user))
    assert rows["hotlines"]["origin"] == "bundled"
    assert rows["psl"]["version"] == NEWER_PSL

    found = resolve(user_dir=user)
    with found.geo_database() as geo:
        assert geo.lookup(files.PROBE).country == "US"
        assert geo.sources()["geoip_country"].origin == "user"
    table = found.provider_table()
    assert table.source_info().origin == "user"
    assert table.by_address("104.16.0.1", None) is not None
    dropped = files.cloudflare_lists(drop_last_v4=False)[0].decode().split()[-1]
    gone = dropped.split("/")[0]
    owner = table.by_address(gone, None)
    assert owner is None or owner.matched_by != "cidr"  # the range the new list left out
    assert found.rdap_bootstrap is not None and (found.rdap_bootstrap / "ipv4.json").is_file()


def test_a_second_update_with_the_same_files_moves_nothing_but_records_the_check(
    site: DataServer, built: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    user = tmp_path / "user"
    sources = publish(site, built)
    names = ["psl", "geoip_asn", "rdap_bootstrap"]
    later = datetime.now(UTC) + timedelta(days=10)
    assert datasets.update(names, target=user, sources=dict(pairs(sources)))
    before = manifest(user)["files"]
    files_before = listing(user)
    results = datasets.update(names, target=user, sources=dict(pairs(sources)), now=later)
    assert [(r.name, r.outcome) for r in results] == [(n, "unchanged") for n in names]
    after = manifest(user)["files"]
    assert listing(user) == files_before and sorted(after) == sorted(before)
    for rel, item in after.items():
        assert item["sha256"] == before[rel]["sha256"]
        assert item["fetched_at"] == datasets.iso(later)
    # The bootstrap's age counts from the last check; the others keep their data dates.
    rdap = [i for i in after.values() if i["name"] == "rdap_bootstrap"]
    assert {i["build_date"] for i in rdap} == {datasets.iso(later)}
    psl = next(i for i in after.values() if i["name"] == "psl")
    assert psl["build_date"] == "2026-11-27T09:00:00Z"
    capsys.readouterr()
    assert main(["data", "update", "psl", "--dir", str(user), *sources]) == 0
    assert "psl: unchanged: " in capsys.readouterr().out


def pairs(sources: list[str]) -> list[tuple[str, str]]:
    """``--source K=V`` options back into (K, V) pairs."""
    return [tuple(value.split("=", 1)) for value in sources[1::2]]  # type: ignore[misc]


def test_an_update_swaps_atomically_and_open_readers_keep_working(
    site: DataServer, built: dict[str, bytes], tmp_path: Path
) -> None:
    user = tmp_path / "user"
    assert main(["data", "update", "geoip_country", "--dir", str(user), *publish(site, built)]) == 0
    first = resolve(user_dir=user)
    old_path = first.path("geoip_country")
    reader = first.geo_database()
    assert reader.lookup(files.PROBE).country == "US"

    assert (
        main(["data", "update", "geoip_country", "--dir", str(user), *publish(site, built, "GB")])
        == 0
    )
    second = resolve(user_dir=user)
    new_path = second.path("geoip_country")
    assert new_path != old_path and old_path is not None and old_path.is_file()
    assert reader.lookup(files.PROBE).country == "US"  # the open reader is untouched
    with second.geo_database() as fresh:
        assert fresh.lookup(files.PROBE).country == "GB"
    (entry,) = [e for e in manifest(user)["files"].values() if e["name"] == "geoip_country"]
    assert entry["sha256"] == _resources.hash_file(new_path)[1]

    assert (
        main(["data", "update", "geoip_country", "--dir", str(user), *publish(site, built, "JP")])
        == 0
    )
    assert not old_path.exists()  # two generations back: pruned
    assert new_path.is_file()  # the previous one stays for readers that opened it
    assert reader.lookup(files.PROBE).country == "US"  # still mapped, though unlinked
    reader.close()
    third = resolve(user_dir=user).path("geoip_country")
    assert third is not None
    geo_files = [p for p in listing(user) if p.startswith("geo/")]
    assert sorted(geo_files) == sorted(p.relative_to(user).as_posix() for p in (new_path, third))


def _cut(data: bytes) -> bytes:
    return data[: len(data) * 2 // 3]


BAD_DOWNLOADS: list[tuple[str, str, str, Any, str]] = [
    # data set, source, path, body (or a builder over `built`), expected message
    (
        "geoip_country",
        "dbip-country",
        "/c.mmdb.gz",
        lambda b: _cut(b["country-GB"]),
        "truncated gzip",
    ),
    (
        "geoip_country",
        "dbip-country",
        "/c.mmdb.gz",
        lambda b: b"<html>rate limited</html>",
        "not a gzip file",
    ),
    (
        "geoip_country",
        "dbip-country",
        "/c.mmdb.gz",
        lambda b: files.gzipped(b["country-raw"][:-2000]),
        "not a usable country database",
    ),
    (
        "geoip_country",
        "dbip-country",
        "/c.mmdb.gz",
        lambda b: b["asn"],
        "not a usable country database",
    ),
    (
        "geoip_asn",
        "dbip-asn",
        "/a.mmdb.gz",
        lambda b: files.gzipped(b"\0" * 40_000),
        "not a usable ASN database",
    ),
    (
        "geoip_asn",
        "dbip-asn",
        "/a.mmdb.gz",
        lambda b: files.gzipped(b"x" * 100),
        "less than the 16384 expected",
    ),
    ("psl", "psl", "/psl.dat", lambda b: b["psl"].replace(b"\ncom\n", b"\n"), "lacks the rule com"),
    ("psl", "psl", "/psl.dat", lambda b: _cut(b["psl"]), "END PRIVATE DOMAINS"),
    (
        "rdap_bootstrap",
        "rdap-asn",
        "/asn.json",
        lambda b: b'{"description": "RDAP bootstrap", "services": [[["1-2"], ["https://x/"]], ',
        "not JSON",
    ),
    (
        "providers",
        "cloudflare-ipv6",
        "/ips-v6",
        lambda b: b"<!doctype html><p>blocked</p>\n",
        "not a network",
    ),
    ("providers", "cloudfront", "/cf", lambda b: b'{"CLOUDFRONT_GLOBAL_IP_LIST": []}', "lacks"),
]


@pytest.mark.parametrize(
    ("name", "source", "path", "body", "message"),
    BAD_DOWNLOADS,
    ids=[
        "truncated-gz",
        "html-not-gz",
        "truncated-mmdb",
        "asn-as-country",
        "zeros-mmdb",
        "tiny-mmdb",
        "psl-without-com",
        "truncated-psl",
        "bad-json",
        "html-ranges",
        "cloudfront-empty",
    ],
)
def test_a_bad_download_is_refused_and_the_old_data_stays(
    site: DataServer,
    built: dict[str, bytes],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    source: str,
    path: str,
    body: Any,
    message: str,
) -> None:
    user = tmp_path / "user"
    sources = publish(site, built)
    assert main(["data", "update", name, "--dir", str(user), *sources]) == 0
    before_manifest = (user / "MANIFEST.json").read_bytes()
    before_files = {p: (user / p).read_bytes() for p in listing(user) if p != ".lock"}
    used_before = resolve(user_dir=user).path(name)

    bad_url = site.put(path, body(built))
    others = [
        arg
        for pair in zip(sources[::2], sources[1::2], strict=True)
        if not pair[1].startswith(f"{source}=")
        for arg in pair
    ]
    capsys.readouterr()
    code = main(
        ["data", "update", name, "--dir", str(user), *others, "--source", f"{source}={bad_url}"]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert f"hostlocate: data update {name} refused: " in err
    assert message in err and "the previous data stays in use" in err
    assert name not in out
    assert (user / "MANIFEST.json").read_bytes() == before_manifest
    assert {p: (user / p).read_bytes() for p in listing(user) if p != ".lock"} == before_files
    assert resolve(user_dir=user).path(name) == used_before


def test_a_body_cut_short_on_the_wire_fails_and_the_old_data_stays(
    site: DataServer, built: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    user = tmp_path / "user"
    sources = publish(site, built)
    assert main(["data", "update", "psl", "--dir", str(user), *sources]) == 0
    before = (user / "MANIFEST.json").read_bytes()
    cut = site.put("/cut.dat", built["psl"], cut_after=50_000)
    capsys.readouterr()
    assert main(["data", "update", "psl", "--dir", str(user), "--source", f"psl={cut}"]) == 1
    err = capsys.readouterr().err
    assert "data update psl failed: " in err and "/cut.dat" in err
    assert (user / "MANIFEST.json").read_bytes() == before
    assert not [p for p in listing(user) if ".incoming-" in p]


def test_a_missing_file_fails_clearly(
    site: DataServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = site.url("/free/nothing-here.mmdb.gz")
    assert (
        main(
            [
                "data",
                "update",
                "geoip_country",
                "--dir",
                str(tmp_path),
                "--source",
                f"dbip-country={url}",
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert f"{url}: HTTP 404" in err
    assert not (tmp_path / "MANIFEST.json").exists()


def test_size_limits_hold_with_and_without_a_length(
    site: DataServer, built: dict[str, bytes], tmp_path: Path
) -> None:
    small = {"psl": Limits(download=100_000, unpacked=100_000, minimum=1)}
    announced = site.put("/announced.dat", built["psl"])
    (result,) = datasets.update(["psl"], target=tmp_path, sources={"psl": announced}, limits=small)
    assert result.outcome == "refused"
    assert f"announces {len(built['psl'])} bytes, over the 100000-byte limit" in result.message
    # Without a Content-Length the body is counted as it arrives.
    streamed = site.put("/streamed.dat", built["psl"], chunked=True)
    (result,) = datasets.update(["psl"], target=tmp_path, sources={"psl": streamed}, limits=small)
    assert result.outcome == "refused" and "more than the 100000-byte limit" in result.message
    assert not (tmp_path / "MANIFEST.json").exists()
    assert not [p for p in listing(tmp_path) if ".incoming-" in p]
    # The same stream within the limits is taken.
    (result,) = datasets.update(["psl"], target=tmp_path, sources={"psl": streamed})
    assert result.outcome == "updated"


def test_redirects_of_given_sources_are_followed_but_bounded(
    site: DataServer, built: dict[str, bytes], tmp_path: Path
) -> None:
    site.put("/list/current.dat", built["psl"])
    start = site.put("/list/latest", status=302, location="/list/current.dat")
    (result,) = datasets.update(["psl"], target=tmp_path, sources={"psl": start})
    assert result.outcome == "updated"
    (entry,) = manifest(tmp_path)["files"].values()
    assert entry["url"] == site.url("/list/current.dat")
    assert site.requests[-2:] == ["/list/latest", "/list/current.dat"]

    loop = site.put("/loop", status=301, location="/loop")
    (result,) = datasets.update(["psl"], target=tmp_path, sources={"psl": loop})
    assert result.outcome == "failed" and "more than 5 redirects" in result.message


def test_maxmind_with_a_licence_key(
    site: DataServer,
    built: dict[str, bytes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    site.put("/app/geoip_download", files.maxmind_archive("GeoLite2-Country", built["country-raw"]))
    site.put("/asn/geoip_download", files.maxmind_archive("GeoLite2-ASN", built["asn-raw"]))
    template = (
        "/app/geoip_download?edition_id=GeoLite2-Country&license_key={licence_key}&suffix=tar.gz"
    )
    asn_template = (
        "/asn/geoip_download?edition_id=GeoLite2-ASN&license_key={licence_key}&suffix=tar.gz"
    )
    sources = [
        "--source",
        f"maxmind-country={site.base}{template}",
        "--source",
        f"maxmind-asn={site.base}{asn_template}",
    ]
    user = tmp_path / "user"
    monkeypatch.setenv(datasets.LICENCE_KEY_ENV, "Secret_Key_123")
    assert main(["data", "update", "geoip_country", "geoip_asn", "--dir", str(user), *sources]) == 0
    out, err = capsys.readouterr()
    assert "geoip_country: updated" in out and "geoip_asn: updated" in out
    assert any("license_key=Secret_Key_123" in r for r in site.requests)
    text = (user / "MANIFEST.json").read_text(encoding="utf-8")
    assert "Secret_Key_123" not in text + out + err and "license_key=REDACTED" in text
    country = next(e for e in manifest(user)["files"].values() if e["name"] == "geoip_country")
    assert country["version"] == "20261124"
    assert country["licence"].startswith("GeoLite2 End User License Agreement")
    assert "MaxMind" in country["attribution"]
    with resolve(user_dir=user).geo_database() as geo:
        assert geo.lookup("193.0.6.139").country == "NL"
        assert geo.lookup("193.0.6.139").asn == 3333


def test_maxmind_without_a_key_fails_before_any_request(
    site: DataServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["data", "update", "geoip_asn", "--geoip-vendor", "maxmind", "--dir", str(tmp_path)])
        == 1
    )
    assert "MaxMind downloads need a licence key" in capsys.readouterr().err
    assert site.requests == []


def test_a_download_older_than_the_bundled_copy_is_kept_but_not_used(
    site: DataServer, built: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = site.put("/old.dat", files.psl_with_version("2025-01-01_00-00-00_UTC"))
    assert main(["data", "update", "psl", "--dir", str(tmp_path), "--source", f"psl={old}"]) == 0
    assert "not newer than the bundled copy, which stays in use" in capsys.readouterr().out
    rows = status_json(tmp_path, capsys)
    assert rows["psl"]["origin"] == "bundled"
    assert "not newer than the bundled one" in rows["psl"]["note"]


def test_two_updates_at_once_leave_a_consistent_folder(
    site: DataServer, built: dict[str, bytes], tmp_path: Path
) -> None:
    url = site.put("/psl.dat", built["psl"])
    results: list[list[datasets.UpdateResult]] = []

    def run() -> None:
        results.append(datasets.update(["psl"], target=tmp_path, sources={"psl": url}))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    outcomes = sorted(r.outcome for batch in results for r in batch)
    assert outcomes == ["unchanged", "unchanged", "updated"]
    assert resolve(user_dir=tmp_path).sets["psl"].origin == "user"
    assert [p for p in listing(tmp_path) if p.startswith("psl/")] == [
        resolve(user_dir=tmp_path).sets["psl"].files[0]
    ]


def cli_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), *filter(None, [env.get("PYTHONPATH")])])
    env[datasets.USER_DIR_ENV] = str(tmp_path / "env-user-folder")
    env.pop(datasets.LICENCE_KEY_ENV, None)
    return env


def test_the_command_in_a_subprocess(
    site: DataServer, built: dict[str, bytes], tmp_path: Path
) -> None:
    user = tmp_path / "user"
    sources = publish(site, built)
    command = [sys.executable, "-m", "hostlocate", "data"]
    done = subprocess.run(
        [*command, "update", "psl", "geoip_country", "--dir", str(user), *sources],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "psl: updated" in done.stdout and "geoip_country: updated" in done.stdout

    done = subprocess.run(
        [*command, "status", "--dir", str(user), "--json"],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)["datasets"]}
    assert rows["psl"]["origin"] == "user" and rows["geoip_country"]["origin"] == "user"
    assert rows["geoip_asn"]["origin"] == "bundled"
    assert "psl data is" not in done.stderr and "geoip_asn data is" in done.stderr

    bad = site.put("/bad.mmdb.gz", b"\x1f\x8b" + b"\0" * 100)
    done = subprocess.run(
        [
            *command,
            "update",
            "geoip_country",
            "--dir",
            str(user),
            "--source",
            f"dbip-country={bad}",
        ],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path),
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "data update geoip_country refused: " in done.stderr
    assert "the previous data stays in use" in done.stderr

    pinned = tmp_path / "pinned"
    done = subprocess.run(
        [*command, "export", str(pinned), "--dir", str(user)],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"--data-dir {pinned}" in done.stdout
    again = resolve(pinned)
    assert again.sets["psl"].entry.version == NEWER_PSL
    assert (
        again.sets["geoip_country"].entry.url
        == resolve(user_dir=user).sets["geoip_country"].entry.url
    )
    assert not (tmp_path / "env-user-folder").exists()  # --dir was used, not the default


# -- pinned data and verdicts ---------------------------------------------------------------

PINNED_INPUTS = [
    f"http://{files.PROBE}/report",
    "hxxp://193[.]0[.]6[.]139/a?b=c",
    "https://[2001:41d0:2:193d::5]:8443/x",
    "88.198.1.1",
    "http://104.16.0.1/",
    "http://10.0.0.1/intranet",
    "not a url at all",
]


def _strip_time(doc: dict[str, Any]) -> dict[str, Any]:
    provenance = doc["provenance"]
    assert provenance.pop("resolved_at") and "elapsed_ms" in provenance
    provenance.pop("elapsed_ms")
    return doc


def _verdicts(pinned: Path) -> list[bytes]:
    from hostlocate import Locator

    # IP literals need no DNS: the resolver named here is never asked.
    with Locator(["127.0.0.1:9"], rdap=False, data_dir=pinned) as loc:
        verdicts = [loc.locate(url) for url in PINNED_INPUTS]
    return [
        json.dumps(_strip_time(json.loads(v.to_json())), sort_keys=False).encode() for v in verdicts
    ]


def test_pinned_data_gives_byte_identical_verdicts(
    site: DataServer, built: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "user"
    assert (
        main(
            [
                "data",
                "update",
                "geoip_country",
                "providers",
                "--dir",
                str(user),
                *publish(site, built, "GB"),
            ]
        )
        == 0
    )
    pinned = tmp_path / "pinned"
    datasets.export(pinned, resolve(user_dir=user))

    first = _verdicts(pinned)
    # A newer user copy elsewhere must not leak into pinned verdicts.
    monkeypatch.setenv(datasets.USER_DIR_ENV, str(user))
    assert (
        main(["data", "update", "geoip_country", "--dir", str(user), *publish(site, built, "JP")])
        == 0
    )
    second = _verdicts(pinned)
    assert first == second

    probe = json.loads(first[0])
    assert probe["status"] == "located"
    assert probe["addresses"][0]["country"] == "GB"  # the pinned database, not the bundled one
    sources = probe["provenance"]["sources"]
    assert {s["origin"] for s in sources.values()} == {"path"}
    pinned_country = resolve(pinned).sets["geoip_country"].entry
    assert sources["geoip_country"]["name"] == pinned_country.title
    assert sources["geoip_country"]["build_date"] == pinned_country.build_date
    if "version" in sources["geoip_country"]:
        assert sources["geoip_country"]["version"] == pinned_country.version
    assert sources["providers"]["name"].startswith("hostlocate provider table, ranges refreshed")


def test_downloaded_data_is_private_whatever_the_umask(
    site: DataServer, built: dict[str, bytes], tmp_path: Path
) -> None:
    """The user data folder is 0700 and its files 0600; a loose existing one is tightened."""
    user = tmp_path / "user"
    user.mkdir(mode=0o755)
    os.chmod(user, 0o755)
    loose = user / "notes.txt"
    loose.write_text("left by hand\n")
    os.chmod(loose, 0o644)
    old = os.umask(0o000)
    try:
        assert main(["data", "update", "--dir", str(user), *publish(site, built)]) == 0
    finally:
        os.umask(old)
    modes = {
        p.relative_to(user).as_posix(): p.stat().st_mode & 0o777 for p in [user, *user.rglob("*")]
    }
    assert len(modes) > 10
    assert {
        rel: m for rel, m in modes.items() if m != (0o700 if (user / rel).is_dir() else 0o600)
    } == {}


# -- hostile or broken publishers (issue 12, item 6) ----------------------------------


def test_a_source_dripping_a_byte_a_second_ends_at_the_budget(
    site: DataServer, built: dict[str, bytes], tmp_path: Path
) -> None:
    """The clock is read on every piece that arrives, not once per 64 KiB."""
    import time

    url = site.put("/slow/public_suffix_list.dat", built["psl"][:200], drip=1.0)
    started = time.monotonic()
    [result] = datasets.update(
        ["psl"], target=tmp_path / "user", sources={"psl": url}, timeout=5.0, budget=2.0
    )
    took = time.monotonic() - started
    assert result.outcome == "failed" and "took longer than 2 s" in result.message
    assert took < 2.0 + 2.5, took  # the budget, plus at most one byte's wait


def test_a_mmdb_with_an_absurd_build_date_is_refused_and_the_rest_still_fetched(
    site: DataServer, built: dict[str, bytes], tmp_path: Path
) -> None:
    absurd = files.gzipped(files.with_build_epoch(built["country-raw"], 2**64 - 1))
    sources = dict(pairs(publish(site, {**built, "country-US": absurd})))
    results = {r.name: r for r in datasets.update(target=tmp_path / "user", sources=sources)}
    assert results["geoip_country"].outcome == "refused"
    assert "build date" in results["geoip_country"].message
    assert {n: r.outcome for n, r in results.items() if n != "geoip_country"} == {
        n: "updated" for n in datasets.UPDATABLE if n != "geoip_country"
    }


def _future(built: dict[str, bytes], which: str) -> tuple[str, bytes]:
    ahead = datetime.now(UTC) + timedelta(days=3)
    if which == "geoip_asn":
        return "asn", files.gzipped(
            files.with_build_epoch(built["asn-raw"], int(ahead.timestamp()))
        )
    if which == "psl":
        return "psl", files.psl_with_version(ahead.strftime("%Y-%m-%d_%H-%M-%S_UTC"))
    return "rdap-ipv4", files.bootstrap_files(publication=datasets.iso(ahead))["ipv4"]


@pytest.mark.parametrize("which", ["geoip_asn", "psl", "rdap_bootstrap"])
def test_data_dated_in_the_future_is_refused(
    site: DataServer, built: dict[str, bytes], tmp_path: Path, which: str
) -> None:
    """A future date would win over every later copy: beyond the clock skew it is refused."""
    key, body = _future(built, which)
    sources = dict(pairs(publish(site, {**built, key: body})))
    [result] = datasets.update([which], target=tmp_path / "user", sources=sources)
    assert result.outcome == "refused" and "in the future" in result.message
    assert resolve(user_dir=tmp_path / "user").sets[which].origin == "bundled"


def test_a_downloaded_bootstrap_keeps_only_public_https_services(
    site: DataServer, built: dict[str, bytes], tmp_path: Path
) -> None:
    """Unlike a folder the user names, a download is not trusted with http or inner hosts."""
    from hostlocate.sources.bootstrap import Bootstrap

    ripe = "https://rdap.db.ripe.net/"
    inner = [
        "http://rdap.db.ripe.net/",
        "https://127.0.0.1:8443/",
        "https://10.1.2.3/rdap/",
        "https://[::1]/",
        "https://localhost/",
    ]
    doc = json.loads(built["rdap-ipv4"])
    doc["services"] = [
        [["193.0.0.0/8"], [*inner, ripe]],
        [["88.0.0.0/8"], inner],  # nothing public left: the entry goes
        [["3.0.0.0/8"], ["https://rdap.arin.net/registry/"]],
    ]
    hostile = json.dumps(doc).encode()
    sources = dict(pairs(publish(site, {**built, "rdap-ipv4": hostile})))
    [result] = datasets.update(["rdap_bootstrap"], target=tmp_path / "user", sources=sources)
    assert result.outcome == "updated", result.message
    folder = resolve(user_dir=tmp_path / "user").rdap_bootstrap
    assert folder is not None
    downloaded = Bootstrap.from_dir(folder)
    assert downloaded.service_for_ip("193.0.6.139") == [ripe]
    assert not any(u in inner for u in downloaded.service_for_ip("88.198.1.1"))
    # The same file in a folder the user names is used as given (the contract).
    own = tmp_path / "own"
    own.mkdir()
    for kind in ("ipv4", "ipv6"):
        (own / f"{kind}.json").write_bytes(hostile if kind == "ipv4" else built["rdap-ipv6"])
    assert Bootstrap.from_dir(own).service_for_ip("193.0.6.139")[:1] != [ripe]
