"""The INHOPE member hotline(s) of a country.

Read from ``data/hotlines.csv``: one row per hotline, with the public sources
that confirm it. Rows whose membership or operator no source confirms are kept
with ``certain = no`` rather than dropped or guessed, so routing can say so.
Each row has a stable lower-case ``id`` (``gb-iwf``) that verdicts and the
exchange service can key on, since names and operators change (EOKM became
Offlimits). A table without the column (an older copy) gets ids derived from
country and name.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Iterable
from typing import Self

from hostlocate import _resources
from hostlocate.errors import DataError
from hostlocate.models import Hotline, SourceInfo

HOTLINES_FILE = "hotlines.csv"
REQUIRED_COLUMNS = ("country", "name", "organisation", "website", "report_url", "certain", "source")
_YES_NO = {"yes": True, "no": False}
_ID = re.compile(r"[a-z]{2}-[a-z0-9]+(?:-[a-z0-9]+)*")


def derive_id(country: str, name: str) -> str:
    """``cc-words-of-the-name`` in ASCII: the id of a row that has none."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_name.lower())
    return "-".join([country.lower(), *words]) if words else country.lower()


def _parse(text: str, where: str) -> list[Hotline]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise DataError(f"hotline table {where} lacks columns {', '.join(missing)}", path=where)
    has_ids = "id" in (reader.fieldnames or ())
    rows: list[Hotline] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        country = (row["country"] or "").strip().upper()
        name = (row["name"] or "").strip()
        certain = _YES_NO.get((row["certain"] or "").strip().lower())
        if len(country) != 2 or not country.isalpha() or not name or certain is None:
            raise DataError(f"hotline table {where}, line {line}: bad row", path=where)
        if not (row["source"] or "").strip():
            raise DataError(f"hotline table {where}, line {line}: no source", path=where)
        hotline_id = (row["id"] or "").strip() if has_ids else derive_id(country, name)
        if not _ID.fullmatch(hotline_id) or not hotline_id.startswith(country.lower() + "-"):
            raise DataError(
                f"hotline table {where}, line {line}: bad id {hotline_id!r}", path=where
            )
        if hotline_id in seen:
            raise DataError(
                f"hotline table {where}, line {line}: id {hotline_id!r} listed twice", path=where
            )
        seen.add(hotline_id)
        rows.append(
            Hotline(
                id=hotline_id,
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
        self._by_id = {h.id: h for rows in self._by_country.values() for h in rows if h.id}
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

    def by_id(self, hotline_id: str) -> Hotline | None:
        """The hotline with this stable id (``gb-iwf``), or None."""
        return self._by_id.get(hotline_id.strip().lower())

    def ids(self) -> frozenset[str]:
        """Every hotline id in the directory."""
        return frozenset(self._by_id)

    def countries(self) -> frozenset[str]:
        """Every country with at least one listed hotline."""
        return frozenset(self._by_country)

    def source_info(self) -> SourceInfo:
        """Provenance of the directory."""
        return self._source
