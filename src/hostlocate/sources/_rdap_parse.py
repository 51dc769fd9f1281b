"""Pure RDAP JSON → hostlocate facts: network, holder, notice contacts, registrar.

No I/O here. ipwhois reads the network object through its public
``RDAP.lookup()`` on the body already fetched (about 1 ms with the ``Net()``
it needs, once per network a registry answers, which the budgets hold to a
few a second); everything ipwhois does not do is done here:

* start/end addresses are normalised: the ``/32`` or ``/128`` suffix of RIPE
  2015–2018 answers is dropped, ARIN's zero-padded IPv4 (``074.125.000.000``)
  and upper-case IPv6 are rewritten in canonical form, a missing
  ``ipVersion`` is inferred;
* abuse e-mails are collected from entities at any depth (ipwhois at depth 0
  misses ARIN's abuse contact nested under the organisation), with LACNIC's
  ``"technical, abuse"`` single role string split on commas;
* abuse entities that carry no e-mail are returned as references, so the
  client can fetch them (bounded) from the registry;
* the notice contacts are ranked so that they reach the holder first: its
  abuse desks, then addresses its remarks give ("please send abuse reports
  to ..."), then its other desks, and a registry's or national registry's
  own hostmaster last (:meth:`NetworkFacts.notice_emails`);
* the holder (registrant organisation and country) and, for a record a
  national registry holds (JPNIC, KRNIC, TWNIC...), that referral are read.

The bodies are hostile input. Every walk is bounded (entities, depth, vCard
properties, remarks, links), so a 1 MB body of 10,000 vCards costs what a
few hundred do and yields at most :data:`MAX_CONTACTS` e-mails of each kind;
every string that leaves this module is bounded in length and encodable
(no lone surrogates a non-UTF-8 body may carry); arbitrary values are never
``repr``-ed, and a body nested deeper than Python can walk is a
:class:`ParseError`, never a ``RecursionError``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import msgspec

from hostlocate.models import Holder, Network
from hostlocate.sources._countries import COUNTRY_CODE, country_code
from hostlocate.sources._rdap_entities import (
    _MAX_DEPTH,
    _MAX_LINKS,
    _child_entities,
    _dedupe,
    _describe,
    _email,
    _entity_links,
    _handle,
    _links,
    _members,
    _phones_of_entity,
    _text,
    _vcard,
    _vcard_texts,
    _walk,
    canonical_address,
    emails_of_entity,
    entity_roles,
)
from hostlocate.sources._rdap_registries import (
    RIRS,
    _domain_registry,
    _national_of_words,
    _Registry,
    _registry_of_email,
    registry_for_url,
)

__all__ = [
    "MAX_CONTACTS",
    "EntityRef",
    "NetworkFacts",
    "ParseError",
    "Referral",
    "RegistrarFacts",
    "abuse_emails",
    "canonical_address",
    "emails_of_entity",
    "entity_roles",
    "parse_entity_abuse",
    "parse_network",
    "parse_registrar",
    "registry_for_url",
    "registry_of",
]


MAX_CONTACTS = 5
"""E-mails kept of each kind (abuse, remarks, desks, registry) and in the ranked list."""
_MAX_REMARKS = 32
_MAX_LINES = 64
_MAX_LINE = 1_000

_SEPARATORS = re.compile(r"[\s<>()\[\]{},;:\"]+")
_DESK_ROLES = frozenset({"technical", "administrative", "noc", "registrant"})
_CONTACT_ROLES = _DESK_ROLES | {"abuse"}


class ParseError(ValueError):
    """The body is not a usable RDAP object of the expected class."""


class EntityRef(msgspec.Struct, frozen=True):
    """An abuse entity named in a response without an e-mail address."""

    handle: str | None
    links: tuple[str, ...]
    """``href`` of its ``self``/``related`` links, in response order."""


class Referral(msgspec.Struct, frozen=True, kw_only=True):
    """A national registry that holds the record an RIR answered for (APNIC's NIRs).

    The holder's own data (and its abuse desk) is in that registry's database;
    the RIR's answer names the national registry's hostmaster instead.
    """

    registry: str
    """The national registry: ``JPNIC``, ``KRNIC``, ``TWNIC``, ``CNNIC``, ``IDNIC``..."""
    country: str
    """Its country (ISO 3166-1 alpha-2)."""
    via: str
    """What named it: ``name`` (the network's), ``remarks``, ``entity`` or ``link``."""
    url: str | None = None
    """A link of the response into that registry's service, where it gives one."""


class NetworkFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What one ``ip network`` response says about who holds the range and whom to tell."""

    network: Network
    start: int
    """First address of the range, as an integer."""
    end: int
    """Last address of the range, as an integer."""
    version: int
    abuse_emails: tuple[str, ...]
    """E-mails of the entities with role ``abuse`` at any depth, in response order."""
    abuse_refs: tuple[EntityRef, ...]
    """Abuse entities named without an e-mail, for the client to fetch."""
    remark_emails: tuple[str, ...] = ()
    """Addresses the network's remarks give for abuse reports (AFRINIC, APNIC style)."""
    desk_emails: tuple[str, ...] = ()
    """E-mails of the holder's other entities (technical, administrative, NOC)."""
    registry_emails: tuple[str, ...] = ()
    """E-mails of a registry's or national registry's own desks (hostmasters)."""
    holder: Holder | None = None
    referral: Referral | None = None

    def notice_emails(self, fetched: Sequence[str] = ()) -> tuple[str, ...]:
        """The notice contacts in the order to try them, at most :data:`MAX_CONTACTS`.

        ``fetched``: e-mails of abuse entities the client fetched by link. The
        holder's abuse desks come first (nested, then fetched), then the
        addresses its remarks give; its technical or administrative desks only
        where neither exists; a registry's hostmaster always last, because a
        notice to it does not reach the holder.
        """
        registry = [*self.registry_emails]
        desks = {email.lower() for email in registry}
        own: list[str] = []
        for email in (*self.abuse_emails, *fetched):
            is_registry = email.lower() in desks or _registry_of_email(email) is not None
            (registry if is_registry else own).append(email)
        ranked = [*own, *self.remark_emails]
        if not ranked:
            ranked = [*self.desk_emails]
        return _dedupe([*ranked, *registry])[:MAX_CONTACTS]


class RegistrarFacts(msgspec.Struct, frozen=True):
    """The registrar of a domain and its abuse contact, from a domain response."""

    registrar: str | None
    iana_id: str | None
    abuse_email: str | None
    abuse_phone: str | None


def _entity_registry(entity: Mapping[str, Any], emails: Sequence[str]) -> _Registry | None:
    """The registry whose own desk the entity is: by its handle's words or its e-mail domain."""
    handle = _handle(entity)
    if handle is not None:
        national = _national_of_words(handle)
        if national is not None:
            return national
    for email in emails:
        registry = _registry_of_email(email)
        if registry is not None:
            return registry
    return None


def abuse_emails(
    obj: Mapping[str, Any], *, max_depth: int = _MAX_DEPTH
) -> tuple[tuple[str, ...], tuple[EntityRef, ...]]:
    """Abuse e-mails of the object's entities at any depth, and abuse entities without one.

    Returns the e-mails in response order (de-duplicated, case-insensitively,
    at most :data:`MAX_CONTACTS`) and the references to abuse entities that
    carry no e-mail (at most as many).
    """
    emails: list[str] = []
    refs: list[EntityRef] = []
    for entity in _walk(obj, max_depth):
        if "abuse" not in entity_roles(entity):
            continue
        found = emails_of_entity(entity)
        if found:
            emails.extend(found)
        elif len(refs) < MAX_CONTACTS:
            refs.append(EntityRef(_handle(entity), _entity_links(entity)))
    return _dedupe(emails)[:MAX_CONTACTS], tuple(refs)


# -- remarks --------------------------------------------------------------------------------


def _remark_texts(obj: Mapping[str, Any]) -> Iterator[str]:
    """Each remark's title and description lines as one text, bounded."""
    for remark in _members(obj, "remarks", _MAX_REMARKS):
        lines = []
        title = _text(remark.get("title"), _MAX_LINE)
        if title is not None:
            lines.append(title)
        description = remark.get("description")
        if isinstance(description, list):
            lines.extend(t for t in map(_line, description[:_MAX_LINES]) if t is not None)
        elif (one := _line(description)) is not None:
            lines.append(one)
        if lines:
            yield "\n".join(lines)


def _line(value: object) -> str | None:
    return _text(value, _MAX_LINE)


def _emails_in(text: str) -> Iterator[str]:
    for word in _SEPARATORS.split(text):
        email = _email(word.rstrip(".").lstrip("'"))
        if email is not None:
            yield email


def _remark_emails(remarks: Sequence[str]) -> tuple[list[str], list[str]]:
    """Addresses given in remarks that speak of abuse: the holder's, and registries' ones."""
    own: list[str] = []
    registry: list[str] = []
    for text in remarks:
        if "abuse" not in text.lower():
            continue
        for email in _emails_in(text):
            (registry if _registry_of_email(email) else own).append(email)
    return own, registry


# -- holder ---------------------------------------------------------------------------------
def _address_country(entity: Mapping[str, Any]) -> str | None:
    """The country of the entity's ``adr``: its ``cc`` parameter, country component or label."""
    for params, value in _vcard(entity, "adr"):
        cc = _text(params.get("cc"), 80)
        if cc is not None and (found := country_code(cc)) is not None:
            return found
        if isinstance(value, list) and len(value) >= 7:
            part = _text(value[6], 80)
            if part is not None and (found := country_code(part)) is not None:
                return found
        label = _text(params.get("label"), 2_000)
        if label is not None:
            last = label.replace("\\n", "\n").rsplit("\n", 1)[-1]
            # "Nigeria", or the end of "Chiyoda-ku, Tokyo 101-0047, Japan"
            found = country_code(last) or country_code(last.rsplit(",", 1)[-1])
            if found is not None:
                return found
    return None


def _description(body: Mapping[str, Any]) -> str | None:
    """The first line of the ``description`` remark: APNIC's ``descr``, the holder's name."""
    for remark in _members(body, "remarks", _MAX_REMARKS):
        title = remark.get("title")
        lines = remark.get("description")
        if isinstance(title, str) and title.lower() == "description" and isinstance(lines, list):
            return next((t for t in map(_text, lines[:1]) if t is not None), None)
    return None


def _holder(
    entities: Sequence[Mapping[str, Any]], network_country: str | None, description: str | None
) -> Holder | None:
    """The registrant organisation and its country; else the description and the network's
    country (APNIC records without a registrant entity)."""
    best: tuple[int, str, Mapping[str, Any]] | None = None
    for entity in entities:
        if "registrant" not in entity_roles(entity):
            continue
        handle = _handle(entity) or ""
        if handle.upper().endswith("-MNT"):
            continue  # a RIPE maintainer, not the holder
        kinds = list(_vcard_texts(entity, "kind"))
        kind = kinds[0].lower() if kinds else ""
        names = [*_vcard_texts(entity, "fn"), *_vcard_texts(entity, "org")]
        if kind != "org":
            names = [*_vcard_texts(entity, "org"), *_vcard_texts(entity, "fn")]
        name = next((n for n in names if n != handle), None)
        if name is None:
            continue
        rank = {"org": 0, "": 1}.get(kind, 2)
        if best is None or rank < best[0]:
            best = (rank, name, entity)
    if best is None:
        if description is None and network_country is None:
            return None
        return Holder(name=description, country=network_country)
    return Holder(name=best[1], country=_address_country(best[2]) or network_country)


# -- referral -------------------------------------------------------------------------------


def _referral(
    body: Mapping[str, Any],
    name: str | None,
    remarks: Sequence[str],
    entities: Sequence[Mapping[str, Any]],
) -> Referral | None:
    """The national registry that holds the record, from its name, remarks, entities or links."""
    found: tuple[_Registry, str] | None = None
    if name is not None and (national := _national_of_words(name)) is not None:
        found = (national, "name")
    for text in remarks:
        if found is not None:
            break
        national = _national_of_words(text)
        if national is None:
            words = (w for w in _SEPARATORS.split(text) if "." in w)
            hit = (_domain_registry(_host_of(w)) for w in words)
            national = next((r for r in hit if r is not None and r.country), None)
        if national is not None:
            found = (national, "remarks")
    for entity in entities:
        if found is not None:
            break
        registry = _entity_registry(entity, emails_of_entity(entity))
        if registry is not None and registry.country:
            found = (registry, "entity")
    links = [h for h in _links(body) if (r := _domain_registry(_host_of(h))) and r.country]
    if found is None and links:
        registry = _domain_registry(_host_of(links[0]))
        if registry is not None:
            found = (registry, "link")
    if found is None:
        return None
    registry, via = found
    url = next((h for h in links if _domain_registry(_host_of(h)) is registry), None)
    return Referral(registry=registry.name, country=registry.country or "", via=via, url=url)


def _host_of(text: str) -> str:
    """The host of a URL, e-mail address or bare name (``whois.nic.ad.jp``)."""
    if "//" in text:
        try:
            return urlsplit(text).hostname or ""
        except ValueError:
            return ""
    return text.rpartition("@")[2].rstrip(".")


# -- network --------------------------------------------------------------------------------


def _prepare(body: Mapping[str, Any]) -> dict[str, Any]:
    """Shallow copy with the address quirks removed, so that ipwhois accepts it."""
    klass = body.get("objectClassName")
    if klass is not None and klass != "ip network":
        raise ParseError(f"expected an ip network object, got {_describe(klass)}")
    start = body.get("startAddress")
    end = body.get("endAddress")
    if not isinstance(start, str) or not isinstance(end, str):
        raise ParseError("startAddress/endAddress missing")
    try:
        first = canonical_address(start)
        last = canonical_address(end)
    except ValueError as exc:
        raise ParseError(f"bad start/end address: {exc}") from exc
    if first.version != last.version or int(first) > int(last):
        raise ParseError("start/end address do not form a range")
    prepared = dict(body)
    prepared["startAddress"] = str(first)
    prepared["endAddress"] = str(last)
    prepared["ipVersion"] = f"v{first.version}"
    handle = _text(prepared.get("handle"), 200)
    prepared["handle"] = handle if handle is not None else f"{first} - {last}"
    return prepared


def _cidr_text(
    first: ipaddress.IPv4Address | ipaddress.IPv6Address,
    last: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> str:
    nets = ipaddress.summarize_address_range(first, last)
    return ", ".join(str(n) for n in nets)


def _ipwhois_parse(prepared: dict[str, Any], address: str) -> dict[str, Any]:
    """The network fields ipwhois reads (handle, addresses, name, type, country),
    through its public ``RDAP.lookup`` on the body already fetched: it asks
    nothing more (the body is given, root entities are not fetched, the
    entities are read here), and ``Net`` only names the address asked."""
    from ipwhois.exceptions import InvalidNetworkObject, IPDefinedError
    from ipwhois.net import Net
    from ipwhois.rdap import RDAP

    try:
        looked = RDAP(Net(address)).lookup(
            response={**prepared, "entities": []}, bootstrap=True, root_ent_check=False
        )
    except (InvalidNetworkObject, IPDefinedError) as exc:
        raise ParseError(str(exc)) from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ParseError(f"unusable network object: {type(exc).__name__}") from exc
    out: dict[str, Any] = looked["network"]
    return out


def registry_of(body: Mapping[str, Any]) -> str | None:
    """The RIR named by the response's ``port43`` server, if it names one."""
    port43 = _text(body.get("port43"), 200)
    if port43 is not None:
        labels = port43.lower().split(".")
        for rir in RIRS:
            if rir in labels:
                return rir
    return None


def parse_network(
    body: Mapping[str, Any],
    *,
    registry: str | None,
    source_url: str | None,
    address: str | None = None,
) -> NetworkFacts:
    """Turn an ``ip network`` response into a :class:`Network`, its holder and contacts.

    ``registry`` is the registry whose service answered (the last one after
    redirects); it wins over what the body says. Raises :class:`ParseError`
    for anything that is not a usable network object, however malformed.
    """
    try:
        return _parse_network(body, registry=registry, source_url=source_url, address=address)
    except RecursionError as exc:  # a value nested deeper than Python can walk
        raise ParseError("response nested too deeply") from exc


def _parse_network(
    body: Mapping[str, Any], *, registry: str | None, source_url: str | None, address: str | None
) -> NetworkFacts:
    prepared = _prepare(body)
    facts = _ipwhois_parse(prepared, address or str(prepared["startAddress"]))
    first = ipaddress.ip_address(prepared["startAddress"])
    last = ipaddress.ip_address(prepared["endAddress"])
    cidr = _cidr_text(first, last)
    raw_country = _text(facts.get("country"), 2)
    country = (
        raw_country.upper()
        if raw_country is not None and COUNTRY_CODE.fullmatch(raw_country)
        else None
    )
    name = _text(facts.get("name"))
    entities = _walk(body)
    emails, refs = abuse_emails(body)
    remarks = list(_remark_texts(body))
    remark_own, remark_registry = _remark_emails(remarks)
    desks: list[str] = []
    registry_desks: list[str] = []
    for entity in entities:
        if not entity_roles(entity) & _CONTACT_ROLES:
            continue  # AFRINIC's 2018 entities carry no roles: whose desk they are is unknown
        found = emails_of_entity(entity)
        if not found:
            continue
        if _entity_registry(entity, found) is not None:
            registry_desks.extend(found)
        elif entity_roles(entity) & _DESK_ROLES:
            desks.extend(found)
    network = Network(
        cidr=cidr,
        name=name,
        handle=prepared["handle"],
        rir=registry or registry_of(body),
        country=country,
        start_address=str(first),
        end_address=str(last),
        source_url=source_url,
    )
    return NetworkFacts(
        network=network,
        start=int(first),
        end=int(last),
        version=first.version,
        abuse_emails=emails,
        abuse_refs=refs,
        remark_emails=_dedupe(remark_own)[:MAX_CONTACTS],
        desk_emails=_dedupe(desks)[:MAX_CONTACTS],
        registry_emails=_dedupe([*registry_desks, *remark_registry])[:MAX_CONTACTS],
        holder=_holder(entities, country, _description(body)),
        referral=_referral(body, name, remarks, entities),
    )


def parse_entity_abuse(body: Mapping[str, Any]) -> tuple[str, ...]:
    """E-mails of a fetched abuse entity: its own vCard, then nested abuse entities.

    The entity was asked for because a network named it with role ``abuse``,
    so its own e-mails count even where its response lists no roles. At most
    :data:`MAX_CONTACTS`; :class:`ParseError` for anything else.
    """
    try:
        klass = body.get("objectClassName")
        if klass is not None and klass != "entity":
            raise ParseError(f"expected an entity object, got {_describe(klass)}")
        own = emails_of_entity(body)
        nested, _ = abuse_emails(body)
        return _dedupe([*own, *nested])[:MAX_CONTACTS]
    except RecursionError as exc:
        raise ParseError("response nested too deeply") from exc


def parse_registrar(body: Mapping[str, Any]) -> RegistrarFacts:
    """The registrar entity of a domain response and its nested abuse contact."""
    try:
        return _parse_registrar(body)
    except RecursionError as exc:
        raise ParseError("response nested too deeply") from exc


def _parse_registrar(body: Mapping[str, Any]) -> RegistrarFacts:
    klass = body.get("objectClassName")
    if klass is not None and klass != "domain":
        raise ParseError(f"expected a domain object, got {_describe(klass)}")
    for entity in _child_entities(body):
        if "registrar" not in entity_roles(entity):
            continue
        names = list(_vcard_texts(entity, "fn"))
        iana_id = None
        for pid in _members(entity, "publicIds", _MAX_LINKS):
            kind = pid.get("type")
            if isinstance(kind, str) and "iana" in kind.lower():
                ident = pid.get("identifier")
                if isinstance(ident, int) and not isinstance(ident, bool):
                    ident = str(ident) if 0 <= ident < 10**12 else None
                iana_id = _text(ident, 32)
        email = phone = None
        for child in _child_entities(entity):
            if "abuse" not in entity_roles(child):
                continue
            emails = emails_of_entity(child)
            phones = _phones_of_entity(child)
            email = email or (emails[0] if emails else None)
            phone = phone or (phones[0] if phones else None)
        return RegistrarFacts(
            registrar=names[0] if names else None,
            iana_id=iana_id,
            abuse_email=email,
            abuse_phone=phone,
        )
    return RegistrarFacts(registrar=None, iana_id=None, abuse_email=None, abuse_phone=None)
