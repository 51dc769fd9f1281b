"""Which CDN, reverse proxy, cloud or hosting platform an address or a name belongs to.

The table (``data/providers.json``) lists each operator's ASNs, CNAME suffixes
and, only where the ASN cannot tell it apart (CloudFront inside AWS, GitHub
Pages inside Fastly, Cloudflare's proxy space among its other networks), its
published address ranges. An address is matched by range first, then by ASN;
a name by its longest listed suffix, on label boundaries only, so
``x.notcloudflare.net`` is not Cloudflare.

Public resolvers and other anycast services (Google Public DNS, Quad9, OpenDNS)
are records of kind ``public_resolver`` with their published addresses as
ranges and ``anycast`` set, so an address such as 8.8.8.8 is matched by range
before its operator's ASN and reported as anycast wherever the table's
``is_anycast`` is asked. Cloudflare's resolver (1.1.1.1) needs no record of its
own: Cloudflare's ASN already marks it anycast.

Each operator's own reporting channel is kept with the one it asks for
(``abuse_preferred``): Cloudflare, for one, wants its web form, not e-mail.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol, Self, TypeVar, cast

import msgspec

from hostlocate import _resources
from hostlocate.errors import DataError
from hostlocate.models import Provider, ProviderKind, SourceInfo

PROVIDERS_FILE = "providers.json"
KINDS = frozenset(
    {"cdn", "reverse_proxy", "cloud", "hosting_platform", "hosting", "public_resolver"}
)
CHANNEL_KINDS = ("form", "email")


class Channel(msgspec.Struct, frozen=True, gc=False):
    """One way to send a notice: the operator's web ``form`` or its ``email`` address."""

    kind: str
    address: str

    @staticmethod
    def ordered(url: str | None, email: str | None, preferred: str | None) -> tuple[Channel, ...]:
        """The channels that exist, the preferred one first (the form where none is named)."""
        form = Channel("form", url) if url else None
        mail = Channel("email", email) if email else None
        first, second = (mail, form) if preferred == "email" else (form, mail)
        return tuple(c for c in (first, second) if c is not None)


class Reference(msgspec.Struct, frozen=True, kw_only=True):
    """Where a fact comes from and how to renew it."""

    cite: str
    refresh: str
    url: str | None = None


class OperatorRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What the provider and platform tables both record of an operator: who it is,
    where it is seated and how it takes notices, each fact with its references."""

    id: str
    name: str
    kind: str
    legal_seat_country: str | None = None
    legal_seat_ref: tuple[str, ...] = ()
    abuse_email: str | None = None
    abuse_ref: tuple[str, ...] = ()
    abuse_preferred: str | None = None
    """``form`` or ``email``: the channel the operator asks for, where its own page says
    (cited in ``abuse_ref``)."""
    cname_suffixes: tuple[str, ...] = ()
    """Names a customer's own domain points its CNAME at; matched on label boundaries."""
    notes: str | None = None

    def preferred_channel_error(self, form: str | None) -> str | None:
        """Why the preferred channel is wrong (unknown, or absent from the record), or None."""
        preferred = self.abuse_preferred
        if preferred is None:
            return None
        if preferred not in CHANNEL_KINDS:
            return f"unknown preferred channel {preferred!r}"
        if not (form if preferred == "form" else self.abuse_email):
            return f"the preferred channel ({preferred}) is missing"
        return None


class ProviderRecord(OperatorRecord, frozen=True, kw_only=True):
    """One provider as the table records it, with the references for each fact."""

    asns: tuple[int, ...] = ()
    asns_ref: tuple[str, ...] = ()
    cname_ref: tuple[str, ...] = ()
    abuse_url: str | None = None
    anycast: bool | None = None
    anycast_ref: tuple[str, ...] = ()
    ranges: tuple[str, ...] = ()
    ranges_ref: tuple[str, ...] = ()
    ranges_date: str | None = None


class _Table(msgspec.Struct, frozen=True):
    schema: str
    updated: str
    references: dict[str, Reference]
    providers: tuple[ProviderRecord, ...]


class _Dated(Protocol):
    @property
    def updated(self) -> str: ...


_T = TypeVar("_T", bound=_Dated)


def read_json_table(
    bundled_file: str,
    path: str | os.PathLike[str] | None,
    source: SourceInfo | None,
    title: str,
    schema: type[_T],
) -> tuple[_T, Path, SourceInfo]:
    """A JSON reference table (the bundled one, or the one at ``path``) decoded into ``schema``.

    Shared by the provider and platform tables. A table at ``path`` that no manifest
    describes is dated by its own ``updated``; an unreadable or malformed one is a
    :class:`DataError` naming the file.
    """
    file, found = _resources.table_file(bundled_file, path, source, title)
    try:
        table = msgspec.json.decode(file.read_bytes(), type=schema)
    except OSError as exc:
        raise DataError(f"{title} unreadable: {file}: {exc}", path=str(file)) from exc
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise DataError(f"{title} invalid: {file}: {exc}", path=str(file)) from exc
    if path is not None and source is None:
        found = msgspec.structs.replace(found, build_date=table.updated)
    return table, file, found


class _Ranges:
    """Disjoint integer ranges of one IP version, searched by bisection."""

    __slots__ = ("ends", "owners", "starts")

    def __init__(self, items: Iterable[tuple[int, int, int]]) -> None:
        merged: list[tuple[int, int, int]] = []
        for start, end, owner in sorted(items):
            if merged and start <= merged[-1][1] + 1 and merged[-1][2] == owner:
                last = merged[-1]
                merged[-1] = (last[0], max(last[1], end), owner)
            elif merged and start <= merged[-1][1]:
                raise DataError(f"overlapping provider ranges at {start:#x}")
            else:
                merged.append((start, end, owner))
        self.starts = [item[0] for item in merged]
        self.ends = [item[1] for item in merged]
        self.owners = [item[2] for item in merged]

    def find(self, value: int) -> int | None:
        i = bisect_right(self.starts, value) - 1
        if i >= 0 and value <= self.ends[i]:
            return self.owners[i]
        return None


def _to_int(ip: str) -> tuple[int, int]:
    """(version, integer) of an address string; cheaper than ``ipaddress``."""
    try:
        if ":" in ip:
            return 6, int.from_bytes(socket.inet_pton(socket.AF_INET6, ip), "big")
        return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, ip), "big")
    except OSError:
        raise ValueError(f"not an IP address: {ip!r}") from None


class ProviderTable:
    """Provider look-ups by address (range, then ASN) and by DNS name (CNAME suffix)."""

    def __init__(
        self, records: Sequence[ProviderRecord], source: SourceInfo, *, path: str = ""
    ) -> None:
        self.records = tuple(records)
        self._source = source
        self._index = {record.id: i for i, record in enumerate(self.records)}
        if len(self._index) != len(self.records):
            raise DataError(f"duplicate provider id in {path or 'provider table'}", path=path)
        self._by_cidr: list[Provider] = []
        self._by_asn_model: list[Provider] = []
        self._by_cname: list[Provider] = []
        self._asn: dict[int, int] = {}
        self._suffix: dict[str, int] = {}
        ranges: dict[int, list[tuple[int, int, int]]] = {4: [], 6: []}
        for i, record in enumerate(self.records):
            if record.kind not in KINDS:
                raise DataError(f"provider {record.id}: unknown kind {record.kind!r}", path=path)
            base = Provider(
                name=record.name,
                kind=cast(ProviderKind, record.kind),
                id=record.id,
                legal_seat_country=record.legal_seat_country,
                abuse_email=record.abuse_email,
                abuse_url=record.abuse_url,
            )
            self._by_cidr.append(msgspec.structs.replace(base, matched_by="cidr"))
            self._by_asn_model.append(msgspec.structs.replace(base, matched_by="asn"))
            self._by_cname.append(msgspec.structs.replace(base, matched_by="cname"))
            for asn in record.asns:
                if self._asn.setdefault(asn, i) != i:
                    raise DataError(f"AS{asn} listed under two providers", path=path)
            for suffix in record.cname_suffixes:
                key = suffix.lower().strip(".")
                if not key or self._suffix.setdefault(key, i) != i:
                    raise DataError(f"CNAME suffix {suffix!r} empty or listed twice", path=path)
            for cidr in record.ranges:
                try:
                    net = ipaddress.ip_network(cidr, strict=True)
                except ValueError as exc:
                    raise DataError(f"provider {record.id}: bad range {cidr!r}", path=path) from exc
                ranges[net.version].append(
                    (int(net.network_address), int(net.broadcast_address), i)
                )
        try:
            self._v4 = _Ranges(ranges[4])
            self._v6 = _Ranges(ranges[6])
        except DataError as exc:
            raise DataError(f"{exc.message} in {path or 'provider table'}", path=path) from None

    @classmethod
    def load(
        cls, path: str | os.PathLike[str] | None = None, *, source: SourceInfo | None = None
    ) -> Self:
        """The bundled table, or a table in the same schema at ``path``.

        ``source``: the provenance of ``path`` when a manifest describes it.
        """
        table, file, source = read_json_table(
            PROVIDERS_FILE, path, source, "provider table", _Table
        )
        for record in table.providers:
            why = record.preferred_channel_error(record.abuse_url)
            if why is not None:
                raise DataError(f"provider {record.id}: {why} in {file}", path=str(file))
            for ref in (
                *record.legal_seat_ref,
                *record.asns_ref,
                *record.cname_ref,
                *record.abuse_ref,
                *record.anycast_ref,
                *record.ranges_ref,
            ):
                if ref not in table.references:
                    raise DataError(
                        f"provider {record.id} cites unknown reference {ref!r}", path=str(file)
                    )
        return cls(table.providers, source, path=str(file))

    def by_address(self, ip: str, asn: int | None) -> Provider | None:
        """The provider of an address: its published ranges first, then its ASN."""
        version, value = _to_int(ip)
        owner = (self._v6 if version == 6 else self._v4).find(value)
        if owner is not None:
            return self._by_cidr[owner]
        if asn is not None:
            owner = self._asn.get(asn)
            if owner is not None:
                return self._by_asn_model[owner]
        return None

    def by_name(self, name: str) -> Provider | None:
        """The provider whose CNAME suffix is the longest label-aligned tail of ``name``."""
        key = name.lower().rstrip(".")
        suffixes = self._suffix
        while key:
            owner = suffixes.get(key)
            if owner is not None:
                return self._by_cname[owner]
            dot = key.find(".")
            if dot < 0:
                return None
            key = key[dot + 1 :]
        return None

    def is_anycast(self, provider_id: str) -> bool:
        """True only where the provider documents its addresses as anycast."""
        i = self._index.get(provider_id)
        return i is not None and self.records[i].anycast is True

    def is_anycast_address(self, ip: str, asn: int | None = None) -> bool:
        """True where the address's provider (range first, then ASN) documents anycast.

        Covers the published addresses of public resolvers (8.8.8.8, 9.9.9.9,
        208.67.222.222...) and the ranges of anycast networks such as Cloudflare's.
        """
        provider = self.by_address(ip, asn)
        return provider is not None and provider.id is not None and self.is_anycast(provider.id)

    def channels(self, provider_id: str) -> tuple[Channel, ...]:
        """The operator's reporting channels, the one it asks for first (its form, for
        Cloudflare); ``()`` where the table knows none."""
        i = self._index.get(provider_id)
        if i is None:
            return ()
        record = self.records[i]
        return Channel.ordered(record.abuse_url, record.abuse_email, record.abuse_preferred)

    def get(self, provider_id: str) -> ProviderRecord | None:
        """The full record (with references) of a provider."""
        i = self._index.get(provider_id)
        return None if i is None else self.records[i]

    def source_info(self) -> SourceInfo:
        """Provenance of the table."""
        return self._source
