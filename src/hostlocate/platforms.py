"""Which hosting platform, image or file host, blog, page host or redirector serves a URL.

A provider is found from an address; a platform is found from the URL itself,
because on a platform the address is often a shared front end (GitHub Pages
answers from Fastly, Blogger from Google's edge) while the platform is the one
who can remove the content. The table (``data/platforms.json``) records each
platform's private PSL suffixes (``github.io``), whole domains (``imgur.com``)
and CNAME targets, its legal seat, its reporting channel and whether its
addresses are front ends; every fact cites a reference, and what no source
confirms is listed in the record's ``unconfirmed``. Redirectors (URL
shorteners) are kept apart: the content is wherever the redirect points, and
the library never follows it.

Matching is pure and works on label boundaries only (``notgithub.io`` is not
GitHub Pages): the URL's private-section public suffix first, then its host
against whole domains, then each name of the CNAME chain.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Self, get_args

import msgspec

from hostlocate.errors import DataError
from hostlocate.models import Platform, PlatformMatch, ReportedURL, SourceInfo
from hostlocate.providers import Channel, OperatorRecord, Reference, read_json_table

PLATFORMS_FILE = "platforms.json"
KINDS = frozenset({"image_host", "file_host", "blog", "page_host", "hosting_platform"})
REDIRECTOR = "redirector"
MATCHED_BY: tuple[PlatformMatch, ...] = get_args(PlatformMatch)
UNCONFIRMABLE = frozenset(
    {"legal_seat_country", "report_url", "abuse_email", "front_ends", "match"}
)


class PlatformRecord(OperatorRecord, frozen=True, kw_only=True):
    """One platform or redirector as the table records it, with the references for each fact.

    ``kind`` is image_host, file_host, blog, page_host or hosting_platform, and
    redirector for the records under ``redirectors``; ``legal_seat_country`` is
    the country a verdict takes when the addresses are front ends.
    """

    operator: str | None = None
    """The legal entity, where a source or general knowledge names it."""
    psl_suffixes: tuple[str, ...] = ()
    """Suffixes in the PSL's private section that the platform hands out (``github.io``)."""
    domains: tuple[str, ...] = ()
    """Whole domains whose names all belong to the platform (``imgur.com``); with
    ``psl_suffixes`` and ``cname_suffixes``, cited in ``match_ref``."""
    match_ref: tuple[str, ...] = ()
    report_url: str | None = None
    """The operator's own report form or page."""
    front_ends: bool | None = None
    """True where the addresses are shared front ends (anycast, CDN, the platform's own
    edge), so they say nothing of where the content is kept; None where no source says."""
    front_ends_ref: tuple[str, ...] = ()
    unconfirmed: tuple[str, ...] = ()
    """Facts no source confirms: ``legal_seat_country``, ``report_url``, ``abuse_email``,
    ``front_ends``, ``match``."""


class _Table(msgspec.Struct, frozen=True):
    schema: str
    updated: str
    references: dict[str, Reference]
    platforms: tuple[PlatformRecord, ...]
    redirectors: tuple[PlatformRecord, ...] = ()


def _key(name: str) -> str:
    return name.strip().lower().rstrip(".")


def _find(index: dict[str, str], name: str) -> str | None:
    """The owner of the longest label-aligned tail of ``name`` listed in ``index``."""
    key = name.lower().rstrip(".")
    while key:
        owner = index.get(key)
        if owner is not None:
            return owner
        dot = key.find(".")
        if dot < 0:
            return None
        key = key[dot + 1 :]
    return None


def _check(record: PlatformRecord, references: dict[str, Reference], where: str) -> None:
    """Refuse a record that states a fact without a reference or names an unknown one."""

    def fail(why: str) -> DataError:
        return DataError(f"platform {record.id}: {why} in {where}", path=where)

    cited = (
        *record.legal_seat_ref,
        *record.match_ref,
        *record.abuse_ref,
        *record.front_ends_ref,
    )
    for ref in cited:
        if ref not in references:
            raise fail(f"cites unknown reference {ref!r}")
    seat = record.legal_seat_country
    if seat is not None and (len(seat) != 2 or not seat.isalpha() or not seat.isupper()):
        raise fail(f"bad legal seat {seat!r}")
    if seat is not None and not record.legal_seat_ref:
        raise fail("legal seat without a reference")
    if not (record.psl_suffixes or record.domains or record.cname_suffixes):
        raise fail("nothing to match it by")
    if not record.match_ref:
        raise fail("matching names without a reference")
    if (record.report_url or record.abuse_email) and not record.abuse_ref:
        raise fail("reporting channel without a reference")
    if record.front_ends is not None and not record.front_ends_ref:
        raise fail("front_ends without a reference")
    why = record.preferred_channel_error(record.report_url)
    if why is not None:
        raise fail(why)
    unknown = set(record.unconfirmed) - UNCONFIRMABLE
    if unknown:
        raise fail(f"unknown unconfirmed field(s) {sorted(unknown)}")


class PlatformTable:
    """Platform and redirector look-ups by URL (PSL suffix, domain) and CNAME chain."""

    def __init__(
        self,
        platforms: Sequence[PlatformRecord],
        redirectors: Sequence[PlatformRecord],
        source: SourceInfo,
        *,
        path: str = "",
    ) -> None:
        where = path or "platform table"
        self.platforms = tuple(platforms)
        self.redirectors = tuple(redirectors)
        self._source = source
        records = (*self.platforms, *self.redirectors)
        self._index = {record.id: record for record in records}
        if len(self._index) != len(records):
            raise DataError(f"duplicate platform id in {where}", path=path)
        # One pre-built Platform per (record, way of matching): a match allocates nothing.
        self._models: dict[tuple[str, str], Platform] = {}
        self._psl: dict[str, str] = {}
        self._host: dict[str, str] = {}
        """Whole domains and PSL suffixes: what a host may lie under."""
        self._cname: dict[str, str] = {}
        self._redirect: dict[str, str] = {}
        for record in self.platforms:
            if record.kind not in KINDS:
                raise DataError(
                    f"platform {record.id}: unknown kind {record.kind!r} in {where}", path=path
                )
            self._add(record, self._psl, record.psl_suffixes, where)
            self._add(record, self._host, (*record.psl_suffixes, *record.domains), where)
            self._add(record, self._cname, record.cname_suffixes, where)
        for record in self.redirectors:
            if record.kind != REDIRECTOR:
                raise DataError(
                    f"redirector {record.id}: kind must be {REDIRECTOR!r} in {where}", path=path
                )
            self._add(record, self._redirect, (*record.domains, *record.psl_suffixes), where)
        shared = [name for name in Platform.__struct_fields__ if name != "matched_by"]
        for record in records:
            facts = {name: getattr(record, name) for name in shared}
            for how in MATCHED_BY:
                self._models[record.id, how] = Platform(**facts, matched_by=how)

    @staticmethod
    def _add(
        record: PlatformRecord, index: dict[str, str], names: Iterable[str], where: str
    ) -> None:
        for name in names:
            key = _key(name)
            if not key or "." not in key or index.setdefault(key, record.id) != record.id:
                raise DataError(
                    f"platform {record.id}: name {name!r} empty, bare or listed twice in {where}",
                    path=where,
                )

    @classmethod
    def load(
        cls, path: str | os.PathLike[str] | None = None, *, source: SourceInfo | None = None
    ) -> Self:
        """The bundled platform table, or one in the same format at ``path`` (with
        ``source``, its provenance, where a manifest describes it).

        A record that states a fact without a reference is refused (``DataError``).
        """
        table, file, source = read_json_table(
            PLATFORMS_FILE, path, source, "platform table", _Table
        )
        for record in (*table.platforms, *table.redirectors):
            _check(record, table.references, str(file))
        return cls(table.platforms, table.redirectors, source, path=str(file))

    def match(self, url: ReportedURL, cname_chain: Sequence[str] = ()) -> Platform | None:
        """The platform serving ``url``: by its private PSL suffix, its host, then its CNAMEs.

        ``cname_chain`` is the DNS answer's chain (``DNSResult.cname_chain``); names
        in it that equal the host are harmless. An IP literal matches nothing by
        host. Redirectors are not returned here (see :meth:`redirector`).
        """
        if not url.is_ip:
            suffix = url.public_suffix
            if suffix is not None and suffix != url.icann_public_suffix:
                owner = self._psl.get(suffix)
                if owner is not None:
                    return self._models[owner, "psl_private_suffix"]
            owner = _find(self._host, url.host)
            if owner is not None:
                return self._models[owner, "domain"]
        for name in cname_chain:
            owner = _find(self._cname, name)
            if owner is not None:
                return self._models[owner, "cname"]
        return None

    def redirector(self, url: ReportedURL) -> Platform | None:
        """The URL shortener or redirect service whose domain the host lies under, if any."""
        if url.is_ip:
            return None
        owner = _find(self._redirect, url.host)
        return None if owner is None else self._models[owner, "domain"]

    def serves_from_front_ends(self, platform_id: str) -> bool:
        """True only where a source says the platform's addresses are shared front ends."""
        record = self._index.get(platform_id)
        return record is not None and record.front_ends is True

    def channels(self, platform_id: str) -> tuple[Channel, ...]:
        """The platform's reporting channels, the one it asks for first."""
        record = self._index.get(platform_id)
        if record is None:
            return ()
        return Channel.ordered(record.report_url, record.abuse_email, record.abuse_preferred)

    def get(self, platform_id: str) -> PlatformRecord | None:
        """The full record (with references and what is unconfirmed) of a platform."""
        return self._index.get(platform_id)

    def source_info(self) -> SourceInfo:
        """Provenance of the table."""
        return self._source
