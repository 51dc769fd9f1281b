"""The INHOPE member hotline(s) of a country.

Read from ``data/hotlines.csv``: one row per hotline, with the public sources
that confirm it. Rows whose membership or operator no source confirms are kept
with ``certain = no`` rather than dropped or guessed, so routing can say so.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from typing import Self

from hostlocate import _resources
from hostlocate.errors import DataError
from hostlocate.models import Hotline, SourceInfo

HOTLINES_FILE = "hotlines.csv"
REQUIRED_COLUMNS = ("country", "name", "organisation", "website", "report_url", "certain", "source")
_YES_NO = {"yes": True, "no": False}


def _parse(text: str, where: str) -> list[Hotline]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise DataError(f"hotline table {where} lacks columns {', '.join(missing)}", path=where)
    rows: list[Hotline] = []
    for line, row in enumerate(reader, start=2):
        country = (row["country"] or "").strip().upper()
        name = (row["name"] or "").strip()
        certain = _YES_NO.get((row["certain"] or "").strip().lower())
        if len(country) != 2 or not country.isalpha() or not name or certain is None:
            raise DataError(f"hotline table {where}, line {line}: bad row", path=where)
        if not (row["source"] or "").strip():
            raise DataError(f"hotline table {where}, line {line}: no source", path=where)
        rows.append(
            Hotline(
                id=(row.get("id") or "").strip(),
                country=country,
                name=name,
                organisation=(row["organisation"] or "").strip() or None,
                url=(row["website"] or "").strip() or None,
                report_url=(row["report_url"] or "").strip() or None,
                certain=certain,
            )
        )
    return rows


class HotlineDirectory:
    """Member hotlines by country (ISO 3166-1 alpha-2)."""

    def __init__(self, hotlines: Iterable[Hotline], source: SourceInfo) -> None:
        grouped: dict[str, list[Hotline]] = {}
        for hotline in hotlines:
            grouped.setdefault(hotline.country, []).append(hotline)
        self._by_country = {
            cc: tuple(sorted(rows, key=lambda h: not h.certain)) for cc, rows in grouped.items()
        }
        self._source = source

    @classmethod
    def load(
        cls, path: str | os.PathLike[str] | None = None, *, source: SourceInfo | None = None
    ) -> Self:
        """The bundled directory, or a CSV file with the same columns at ``path``.

        ``source``: the provenance of ``path`` when a manifest describes it.
        """
        file, source = _resources.table_file(HOTLINES_FILE, path, source, "hotline directory")
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"hotline table unreadable: {file}: {exc}", path=str(file)) from exc
        return cls(_parse(text, str(file)), source)

    def for_country(self, cc: str) -> tuple[Hotline, ...]:
        """The country's hotlines, confirmed ones first; ``()`` where it has none."""
        return self._by_country.get(cc.upper(), ())

    def countries(self) -> frozenset[str]:
        """Every country with at least one listed hotline."""
        return frozenset(self._by_country)

    def source_info(self) -> SourceInfo:
        """Provenance of the directory."""
        return self._source
