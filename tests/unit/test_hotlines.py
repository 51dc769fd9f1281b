"""The hotline directory on the bundled table."""

from __future__ import annotations

from pathlib import Path

import pytest

from hostlocate import _resources
from hostlocate.errors import DataError
from hostlocate.hotlines import HotlineDirectory


@pytest.fixture(scope="module")
def directory() -> HotlineDirectory:
    return HotlineDirectory.load()


def test_france(directory: HotlineDirectory) -> None:
    (hotline,) = directory.for_country("FR")
    assert hotline.name == "Point de Contact"
    assert hotline.country == "FR"
    assert hotline.id == "fr-point-de-contact"
    assert hotline.certain is True  # a founding INHOPE member (its own INHOPE page)


def test_lower_case_code(directory: HotlineDirectory) -> None:
    assert directory.for_country("fr") == directory.for_country("FR")


def test_united_kingdom(directory: HotlineDirectory) -> None:
    (hotline,) = directory.for_country("GB")
    assert hotline.name == "Internet Watch Foundation (IWF)"
    assert hotline.certain and hotline.report_url == "https://report.iwf.org.uk"


def test_several_hotlines_confirmed_first(directory: HotlineDirectory) -> None:
    germany = directory.for_country("DE")
    assert [h.name for h in germany] == [
        "eco Beschwerdestelle",
        "FSM Beschwerdestelle",
        "jugendschutz.net",
    ]
    hungary = directory.for_country("HU")
    assert len(hungary) == 2 and [h.certain for h in hungary] == [False, False]


@pytest.mark.parametrize("cc", ["CN", "XX", "IN"])
def test_country_without_a_hotline(directory: HotlineDirectory, cc: str) -> None:
    assert directory.for_country(cc) == ()


def test_mexico_has_its_member_hotline(directory: HotlineDirectory) -> None:
    (hotline,) = directory.for_country("MX")
    assert (hotline.id, hotline.name, hotline.certain) == (
        "mx-te-protejo",
        "Te Protejo México",
        True,
    )


def test_dutch_hotline_is_offlimits(directory: HotlineDirectory) -> None:
    (hotline,) = directory.for_country("NL")
    assert hotline.id == "nl-offlimits"
    assert hotline.name.startswith("Offlimits")
    assert hotline.organisation is not None and "formerly" in hotline.organisation
    assert "EOKM" in hotline.organisation and hotline.certain


def test_table_size_and_uncertain_rows_are_kept(directory: HotlineDirectory) -> None:
    countries = directory.countries()
    assert len(countries) == 52
    rows = [h for cc in countries for h in directory.for_country(cc)]
    assert len(rows) == 56
    assert 0 < sum(not h.certain for h in rows) < len(rows)


def test_ids_are_stable_unique_and_lower_case(directory: HotlineDirectory) -> None:
    rows = [h for cc in directory.countries() for h in directory.for_country(cc)]
    ids = [h.id for h in rows]
    assert len(set(ids)) == len(ids) == len(directory.ids())
    for hotline in rows:
        assert hotline.id == hotline.id.lower() and hotline.id.startswith(hotline.country.lower())
        assert directory.by_id(hotline.id) is hotline
    assert directory.by_id("GB-IWF") == directory.for_country("GB")[0]
    assert directory.by_id("xx-nothing") is None


def test_every_row_cites_a_source() -> None:
    import csv

    with _resources.data_path("hotlines.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(row["source"].strip() for row in rows)
    assert all(row["id"].strip() for row in rows)


def test_source_info(directory: HotlineDirectory) -> None:
    assert directory.source_info() == _resources.source_info("hotlines")


HEADER = "country,name,organisation,website,report_url,certain,source\n"


@pytest.mark.parametrize(
    "text",
    [
        "country,name\nFR,x\n",
        HEADER + "FRA,x,,,,yes,a source\n",
        HEADER + "FR,,,,,yes,a source\n",
        HEADER + "FR,x,,,,maybe,a source\n",
        HEADER + "FR,x,,,,yes,\n",
        "id," + HEADER + "fr x,FR,x,,,,yes,a source\n",
        "id," + HEADER + "de-x,FR,x,,,,yes,a source\n",
        "id," + HEADER + "fr-x,FR,x,,,,yes,a source\nfr-x,FR,y,,,,yes,a source\n",
    ],
    ids=["columns", "country", "name", "certain", "source", "id", "id-country", "id-twice"],
)
def test_bad_table_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "hotlines.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=r"hotlines\.csv"):
        HotlineDirectory.load(path)


def test_user_table(tmp_path: Path) -> None:
    path = tmp_path / "hotlines.csv"
    path.write_text(HEADER + "fr,Test,Org,https://t.example,,no,a source\n", encoding="utf-8")
    directory = HotlineDirectory.load(path)
    (hotline,) = directory.for_country("FR")
    assert (hotline.name, hotline.organisation, hotline.url, hotline.report_url) == (
        "Test",
        "Org",
        "https://t.example",
        None,
    )
    assert hotline.certain is False
    assert hotline.id == "fr-test"  # a table without ids gets them from country and name
    assert directory.source_info().origin == "path"
