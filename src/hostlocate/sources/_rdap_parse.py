"""Pure RDAP JSON → hostlocate facts: network, holder, notice contacts, registrar.

No I/O here. ipwhois parses the network object itself (``_RDAPNetwork``:
about 50 µs a response, against about 250 µs for ``RDAP.lookup()`` plus
0.5–1.3 ms for the ``Net()`` it needs, which also refuses non-public
addresses); everything ipwhois does not do is done here:

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

import functools
import ipaddress
import re
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import msgspec

from hostlocate.models import Holder, Network

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

_RIRS = ("arin", "ripe", "apnic", "lacnic", "afrinic")

MAX_CONTACTS = 5
"""E-mails kept of each kind (abuse, remarks, desks, registry) and in the ranked list."""
_MAX_ENTITIES = 200
"""Entities one walk visits: real responses have under 20, a hostile one 10,000."""
_MAX_DEPTH = 8
_MAX_PROPERTIES = 64
"""vCard properties read per entity."""
_MAX_ROLES = 16
_MAX_LINKS = 32
_MAX_REMARKS = 32
_MAX_LINES = 64
_MAX_LINE = 1_000
_MAX_NAME = 300
_MAX_EMAIL = 254

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,63}")
_SEPARATORS = re.compile(r"[\s<>()\[\]{},;:\"]+")
_COUNTRY_CODE = re.compile(r"[A-Za-z]{2}")
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


# -- registries -----------------------------------------------------------------------------


class _Registry(NamedTuple):
    name: str
    country: str | None
    domains: tuple[str, ...]
    """Mail and service domains of the registry."""
    tokens: frozenset[str]
    """Words of handles and names that name it (national registries only)."""


_NATIONAL = (
    # APNIC's national Internet registries (apnic.net "National Internet Registries").
    _Registry("JPNIC", "JP", ("nic.ad.jp",), frozenset({"JPNIC", "JNIC"})),
    _Registry("KRNIC", "KR", ("nic.or.kr", "kisa.or.kr"), frozenset({"KRNIC"})),
    _Registry("TWNIC", "TW", ("twnic.net.tw", "twnic.tw"), frozenset({"TWNIC"})),
    _Registry("CNNIC", "CN", ("cnnic.cn", "cnnic.net.cn"), frozenset({"CNNIC"})),
    _Registry("IDNIC", "ID", ("idnic.net", "apjii.or.id"), frozenset({"IDNIC", "APJII"})),
    _Registry("VNNIC", "VN", ("vnnic.vn", "vnnic.net.vn"), frozenset({"VNNIC"})),
    _Registry("IRINN", "IN", ("irinn.in",), frozenset({"IRINN"})),
)
_REGIONAL = tuple(_Registry(name.upper(), None, (f"{name}.net",), frozenset()) for name in _RIRS)
_REGISTRIES = _NATIONAL + _REGIONAL
_NATIONAL_WORDS = re.compile(
    r"\b(" + "|".join(sorted(t for r in _NATIONAL for t in r.tokens)) + r")\b", re.IGNORECASE
)


def _domain_registry(host: str) -> _Registry | None:
    host = host.lower().rstrip(".")
    for registry in _REGISTRIES:
        for domain in registry.domains:
            if host == domain or host.endswith("." + domain):
                return registry
    return None


def _registry_of_email(email: str) -> _Registry | None:
    return _domain_registry(email.rpartition("@")[2])


def _national_of_words(text: str) -> _Registry | None:
    """The national registry a handle, name or remark names (``JNIC1-AP``, ``IRT-KRNIC-KR``)."""
    found = _NATIONAL_WORDS.search(re.sub(r"(?<=[A-Za-z])\d+\b", "", text))
    if found is None:
        return None
    word = found.group(1).upper()
    return next(r for r in _NATIONAL if word in r.tokens)


# -- values ---------------------------------------------------------------------------------


def _text(value: object, limit: int = _MAX_NAME) -> str | None:
    """``value`` as output text: a non-empty string, bounded, that JSON can carry."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > limit:
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a non-UTF-8 body
        return None
    return text


def _email(value: object) -> str | None:
    text = _text(value, _MAX_EMAIL + 7)
    if text is None:
        return None
    if text[:7].lower() == "mailto:":
        text = text[7:].strip()
    return text if _EMAIL.fullmatch(text) else None


def _describe(value: object) -> str:
    """A short description of a value for an error message (never its ``repr``)."""
    text = _text(value, 40)
    return repr(text) if text is not None else type(value).__name__


def canonical_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """Parse an RDAP start/end address whatever its registry's habits.

    Accepts a ``/nn`` suffix, zero-padded IPv4 octets and upper-case IPv6.
    """
    value = text.strip()
    if len(value) > 100:
        raise ValueError("address text too long")
    if "/" in value:
        value = value.split("/", 1)[0]
    if ":" not in value and "." in value:
        parts = value.split(".")
        if len(parts) == 4 and all(p.isdigit() and len(p) <= 3 for p in parts):
            value = ".".join(str(int(p)) for p in parts)
    return ipaddress.ip_address(value)


# -- entities and vCards --------------------------------------------------------------------


def entity_roles(entity: Mapping[str, Any]) -> frozenset[str]:
    """The entity's roles, lower case; ``"technical, abuse"`` counts as two."""
    raw = entity.get("roles")
    if not isinstance(raw, list):
        return frozenset()
    out: set[str] = set()
    for role in raw[:_MAX_ROLES]:
        if isinstance(role, str) and len(role) <= _MAX_NAME:
            out.update(p.strip().lower() for p in role.split(",") if p.strip())
    return frozenset(out)


def _vcard(entity: Mapping[str, Any], name: str) -> Iterator[tuple[Mapping[str, Any], object]]:
    """``(parameters, value)`` of the entity's vCard properties called ``name`` (bounded)."""
    card = entity.get("vcardArray")
    if not (isinstance(card, list) and len(card) > 1 and isinstance(card[1], list)):
        return
    for prop in card[1][:_MAX_PROPERTIES]:
        if (
            isinstance(prop, list)
            and len(prop) >= 4
            and isinstance(prop[0], str)
            and prop[0].lower() == name
        ):
            params = prop[1] if isinstance(prop[1], Mapping) else {}
            yield params, prop[3]


def _vcard_texts(entity: Mapping[str, Any], name: str) -> Iterator[str]:
    for _, value in _vcard(entity, name):
        text = _text(value)
        if text is not None:
            yield text


def emails_of_entity(entity: Mapping[str, Any]) -> list[str]:
    """E-mail addresses in the entity's own vCard (``mailto:`` stripped, malformed ones dropped)."""
    out = []
    for _, value in _vcard(entity, "email"):
        email = _email(value)
        if email is not None:
            out.append(email)
    return out


def _phones_of_entity(entity: Mapping[str, Any]) -> list[str]:
    out = []
    for value in _vcard_texts(entity, "tel"):
        if value.lower().startswith("tel:"):
            value = value[4:]
        phone = _text(value.split(";", 1)[0], 64)
        if phone is not None:
            out.append(phone)
    return out


def _members(obj: Mapping[str, Any], key: str, limit: int) -> Iterator[Mapping[str, Any]]:
    """The objects in the array ``obj[key]`` (the first ``limit`` items; others skipped)."""
    raw = obj.get(key)
    if isinstance(raw, list):
        for item in raw[:limit]:
            if isinstance(item, Mapping):
                yield item


def _child_entities(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(_members(obj, "entities", _MAX_ENTITIES))


def _walk(obj: Mapping[str, Any], max_depth: int = _MAX_DEPTH) -> list[Mapping[str, Any]]:
    """The object's entities at any depth below ``max_depth``, breadth first, bounded in number."""
    out: list[Mapping[str, Any]] = []
    queue: deque[tuple[Mapping[str, Any], int]] = deque([(obj, 0)])
    while queue and len(out) < _MAX_ENTITIES:
        node, depth = queue.popleft()
        if depth >= max_depth:
            continue
        for entity in _child_entities(node):
            if len(out) >= _MAX_ENTITIES:
                break
            out.append(entity)
            queue.append((entity, depth + 1))
    return out


def _links(obj: Mapping[str, Any], rels: frozenset[str] | None = None) -> Iterator[str]:
    """``href`` of the object's JSON links (with one of ``rels``, if given), bounded."""
    for link in _members(obj, "links", _MAX_LINKS):
        rel = link.get("rel", "")
        kind = link.get("type", "application/rdap+json")
        href = _text(link.get("href"), 2_000)
        if not (isinstance(rel, str) and isinstance(kind, str) and href is not None):
            continue
        if "json" in kind.lower() and (rels is None or rel.lower() in rels):
            yield href


def _entity_links(entity: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(_links(entity, frozenset({"self", "related"})))


def _dedupe(values: Sequence[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    out = []
    for value in values:
        key = value.lower()
        if key not in seen:
            seen.add(key)
            out.append(value)
    return tuple(out)


def _handle(entity: Mapping[str, Any]) -> str | None:
    return _text(entity.get("handle"), 100)


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


@functools.cache
def _country_names() -> dict[str, str]:
    """Country name (as :func:`_name_key` folds it) → ISO code; built at first use."""
    table: dict[str, str] = {}
    for row in _COUNTRY_NAMES.strip().splitlines():
        code, *names = row.split("|")
        for name in names:
            table[_name_key(name)] = code
    return table


def _name_key(name: str) -> str:
    key = re.sub(r"[^a-z]+", " ", name.lower()).strip()
    return key[4:] if key.startswith("the ") else key


def _country(text: str) -> str | None:
    """An ISO code from what a vCard writes: ``ZA``, ``South Africa``, ``UNITED STATES``."""
    text = text.strip()
    if _COUNTRY_CODE.fullmatch(text):
        return text.upper()
    if len(text) > 80:
        return None
    return _country_names().get(_name_key(text))


def _address_country(entity: Mapping[str, Any]) -> str | None:
    """The country of the entity's ``adr``: its ``cc`` parameter, country component or label."""
    for params, value in _vcard(entity, "adr"):
        cc = _text(params.get("cc"), 80)
        if cc is not None and (found := _country(cc)) is not None:
            return found
        if isinstance(value, list) and len(value) >= 7:
            part = _text(value[6], 80)
            if part is not None and (found := _country(part)) is not None:
                return found
        label = _text(params.get("label"), 2_000)
        if label is not None:
            last = label.replace("\\n", "\n").rsplit("\n", 1)[-1]
            # "Nigeria", or the end of "Chiyoda-ku, Tokyo 101-0047, Japan"
            found = _country(last) or _country(last.rsplit(",", 1)[-1])
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


def _ipwhois_parse(prepared: dict[str, Any]) -> dict[str, Any]:
    from ipwhois.exceptions import InvalidNetworkObject
    from ipwhois.rdap import _RDAPNetwork

    try:
        parsed = _RDAPNetwork(prepared)
        parsed.parse()
    except InvalidNetworkObject as exc:
        raise ParseError(str(exc)) from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ParseError(f"unusable network object: {type(exc).__name__}") from exc
    out: dict[str, Any] = parsed.vars
    return out


def registry_of(body: Mapping[str, Any]) -> str | None:
    """The RIR named by the response's ``port43`` server, if it names one."""
    port43 = _text(body.get("port43"), 200)
    if port43 is not None:
        labels = port43.lower().split(".")
        for rir in _RIRS:
            if rir in labels:
                return rir
    return None


def parse_network(
    body: Mapping[str, Any], *, registry: str | None, source_url: str | None
) -> NetworkFacts:
    """Turn an ``ip network`` response into a :class:`Network`, its holder and contacts.

    ``registry`` is the registry whose service answered (the last one after
    redirects); it wins over what the body says. Raises :class:`ParseError`
    for anything that is not a usable network object, however malformed.
    """
    try:
        return _parse_network(body, registry=registry, source_url=source_url)
    except RecursionError as exc:  # a value nested deeper than Python can walk
        raise ParseError("response nested too deeply") from exc


def _parse_network(
    body: Mapping[str, Any], *, registry: str | None, source_url: str | None
) -> NetworkFacts:
    prepared = _prepare(body)
    facts = _ipwhois_parse(prepared)
    first = ipaddress.ip_address(prepared["startAddress"])
    last = ipaddress.ip_address(prepared["endAddress"])
    cidr = _cidr_text(first, last)
    raw_country = _text(facts.get("country"), 2)
    country = (
        raw_country.upper()
        if raw_country is not None and _COUNTRY_CODE.fullmatch(raw_country)
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


def registry_for_url(url: str) -> str:
    """A short registry name for a service URL: the key for budgets and statistics.

    An RIR name among the host's labels wins (``arin``, ``ripe``...); for a
    service on an address literal or ``localhost`` (a mirror, a test network)
    the first path segment names it; otherwise the label before the
    top-level domain.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    labels = host.split(".")
    for rir in _RIRS:
        if rir in labels:
            return rir
    is_literal = host == "localhost"
    if not is_literal:
        try:
            ipaddress.ip_address(host)
            is_literal = True
        except ValueError:
            is_literal = False
    if is_literal:
        segment = parts.path.strip("/").split("/", 1)[0].lower()
        return segment or host
    if len(labels) >= 2:
        return labels[-2]
    return host


# ISO 3166-1 alpha-2 codes with their English short, common and official names
# (Debian's iso-codes), for the country of a registrant's vCard address, which
# registries write as a name ("United States", "CZECH REPUBLIC").
_COUNTRY_NAMES = """
AD|Andorra|Principality of Andorra
AE|United Arab Emirates
AF|Afghanistan|Islamic Republic of Afghanistan
AG|Antigua and Barbuda
AI|Anguilla
AL|Albania|Republic of Albania
AM|Armenia|Republic of Armenia
AO|Angola|Republic of Angola
AQ|Antarctica
AR|Argentina|Argentine Republic
AS|American Samoa
AT|Austria|Republic of Austria
AU|Australia
AW|Aruba
AX|Åland Islands
AZ|Azerbaijan|Republic of Azerbaijan
BA|Bosnia and Herzegovina|Republic of Bosnia and Herzegovina
BB|Barbados
BD|Bangladesh|People's Republic of Bangladesh
BE|Belgium|Kingdom of Belgium
BF|Burkina Faso
BG|Bulgaria|Republic of Bulgaria
BH|Bahrain|Kingdom of Bahrain
BI|Burundi|Republic of Burundi
BJ|Benin|Republic of Benin
BL|Saint Barthélemy
BM|Bermuda
BN|Brunei Darussalam
BO|Bolivia, Plurinational State of|Bolivia|Plurinational State of Bolivia
BQ|Bonaire, Sint Eustatius and Saba
BR|Brazil|Federative Republic of Brazil
BS|Bahamas|Commonwealth of the Bahamas
BT|Bhutan|Kingdom of Bhutan
BV|Bouvet Island
BW|Botswana|Republic of Botswana
BY|Belarus|Republic of Belarus
BZ|Belize
CA|Canada
CC|Cocos (Keeling) Islands
CD|Congo, The Democratic Republic of the
CF|Central African Republic
CG|Congo|Republic of the Congo
CH|Switzerland|Swiss Confederation
CI|Côte d'Ivoire|Republic of Côte d'Ivoire
CK|Cook Islands
CL|Chile|Republic of Chile
CM|Cameroon|Republic of Cameroon
CN|China|People's Republic of China
CO|Colombia|Republic of Colombia
CR|Costa Rica|Republic of Costa Rica
CU|Cuba|Republic of Cuba
CV|Cabo Verde|Republic of Cabo Verde
CW|Curaçao
CX|Christmas Island
CY|Cyprus|Republic of Cyprus
CZ|Czechia|Czech Republic
DE|Germany|Federal Republic of Germany
DJ|Djibouti|Republic of Djibouti
DK|Denmark|Kingdom of Denmark
DM|Dominica|Commonwealth of Dominica
DO|Dominican Republic
DZ|Algeria|People's Democratic Republic of Algeria
EC|Ecuador|Republic of Ecuador
EE|Estonia|Republic of Estonia
EG|Egypt|Arab Republic of Egypt
EH|Western Sahara
ER|Eritrea|the State of Eritrea
ES|Spain|Kingdom of Spain
ET|Ethiopia|Federal Democratic Republic of Ethiopia
FI|Finland|Republic of Finland
FJ|Fiji|Republic of Fiji
FK|Falkland Islands (Malvinas)
FM|Micronesia, Federated States of|Federated States of Micronesia
FO|Faroe Islands
FR|France|French Republic
GA|Gabon|Gabonese Republic
GB|United Kingdom|United Kingdom of Great Britain and Northern Ireland
GD|Grenada
GE|Georgia
GF|French Guiana
GG|Guernsey
GH|Ghana|Republic of Ghana
GI|Gibraltar
GL|Greenland
GM|Gambia|Republic of the Gambia
GN|Guinea|Republic of Guinea
GP|Guadeloupe
GQ|Equatorial Guinea|Republic of Equatorial Guinea
GR|Greece|Hellenic Republic
GS|South Georgia and the South Sandwich Islands
GT|Guatemala|Republic of Guatemala
GU|Guam
GW|Guinea-Bissau|Republic of Guinea-Bissau
GY|Guyana|Republic of Guyana
HK|Hong Kong|Hong Kong Special Administrative Region of China
HM|Heard Island and McDonald Islands
HN|Honduras|Republic of Honduras
HR|Croatia|Republic of Croatia
HT|Haiti|Republic of Haiti
HU|Hungary
ID|Indonesia|Republic of Indonesia
IE|Ireland
IL|Israel|State of Israel
IM|Isle of Man
IN|India|Republic of India
IO|British Indian Ocean Territory
IQ|Iraq|Republic of Iraq
IR|Iran, Islamic Republic of|Iran|Islamic Republic of Iran
IS|Iceland|Republic of Iceland
IT|Italy|Italian Republic
JE|Jersey
JM|Jamaica
JO|Jordan|Hashemite Kingdom of Jordan
JP|Japan
KE|Kenya|Republic of Kenya
KG|Kyrgyzstan|Kyrgyz Republic
KH|Cambodia|Kingdom of Cambodia
KI|Kiribati|Republic of Kiribati
KM|Comoros|Union of the Comoros
KN|Saint Kitts and Nevis
KP|Korea, Democratic People's Republic of|North Korea|Democratic People's Republic of Korea
KR|Korea, Republic of|South Korea
KW|Kuwait|State of Kuwait
KY|Cayman Islands
KZ|Kazakhstan|Republic of Kazakhstan
LA|Lao People's Democratic Republic|Laos
LB|Lebanon|Lebanese Republic
LC|Saint Lucia
LI|Liechtenstein|Principality of Liechtenstein
LK|Sri Lanka|Democratic Socialist Republic of Sri Lanka
LR|Liberia|Republic of Liberia
LS|Lesotho|Kingdom of Lesotho
LT|Lithuania|Republic of Lithuania
LU|Luxembourg|Grand Duchy of Luxembourg
LV|Latvia|Republic of Latvia
LY|Libya
MA|Morocco|Kingdom of Morocco
MC|Monaco|Principality of Monaco
MD|Moldova, Republic of|Moldova|Republic of Moldova
ME|Montenegro
MF|Saint Martin (French part)
MG|Madagascar|Republic of Madagascar
MH|Marshall Islands|Republic of the Marshall Islands
MK|North Macedonia|Republic of North Macedonia
ML|Mali|Republic of Mali
MM|Myanmar|Republic of Myanmar
MN|Mongolia
MO|Macao|Macao Special Administrative Region of China
MP|Northern Mariana Islands|Commonwealth of the Northern Mariana Islands
MQ|Martinique
MR|Mauritania|Islamic Republic of Mauritania
MS|Montserrat
MT|Malta|Republic of Malta
MU|Mauritius|Republic of Mauritius
MV|Maldives|Republic of Maldives
MW|Malawi|Republic of Malawi
MX|Mexico|United Mexican States
MY|Malaysia
MZ|Mozambique|Republic of Mozambique
NA|Namibia|Republic of Namibia
NC|New Caledonia
NE|Niger|Republic of the Niger
NF|Norfolk Island
NG|Nigeria|Federal Republic of Nigeria
NI|Nicaragua|Republic of Nicaragua
NL|Netherlands|Kingdom of the Netherlands
NO|Norway|Kingdom of Norway
NP|Nepal|Federal Democratic Republic of Nepal
NR|Nauru|Republic of Nauru
NU|Niue
NZ|New Zealand
OM|Oman|Sultanate of Oman
PA|Panama|Republic of Panama
PE|Peru|Republic of Peru
PF|French Polynesia
PG|Papua New Guinea|Independent State of Papua New Guinea
PH|Philippines|Republic of the Philippines
PK|Pakistan|Islamic Republic of Pakistan
PL|Poland|Republic of Poland
PM|Saint Pierre and Miquelon
PN|Pitcairn
PR|Puerto Rico
PS|Palestine, State of|the State of Palestine
PT|Portugal|Portuguese Republic
PW|Palau|Republic of Palau
PY|Paraguay|Republic of Paraguay
QA|Qatar|State of Qatar
RE|Réunion
RO|Romania
RS|Serbia|Republic of Serbia
RU|Russian Federation
RW|Rwanda|Rwandese Republic
SA|Saudi Arabia|Kingdom of Saudi Arabia
SB|Solomon Islands
SC|Seychelles|Republic of Seychelles
SD|Sudan|Republic of the Sudan
SE|Sweden|Kingdom of Sweden
SG|Singapore|Republic of Singapore
SH|Saint Helena, Ascension and Tristan da Cunha
SI|Slovenia|Republic of Slovenia
SJ|Svalbard and Jan Mayen
SK|Slovakia|Slovak Republic
SL|Sierra Leone|Republic of Sierra Leone
SM|San Marino|Republic of San Marino
SN|Senegal|Republic of Senegal
SO|Somalia|Federal Republic of Somalia
SR|Suriname|Republic of Suriname
SS|South Sudan|Republic of South Sudan
ST|Sao Tome and Principe|Democratic Republic of Sao Tome and Principe
SV|El Salvador|Republic of El Salvador
SX|Sint Maarten (Dutch part)
SY|Syrian Arab Republic|Syria
SZ|Eswatini|Kingdom of Eswatini
TC|Turks and Caicos Islands
TD|Chad|Republic of Chad
TF|French Southern Territories
TG|Togo|Togolese Republic
TH|Thailand|Kingdom of Thailand
TJ|Tajikistan|Republic of Tajikistan
TK|Tokelau
TL|Timor-Leste|Democratic Republic of Timor-Leste
TM|Turkmenistan
TN|Tunisia|Republic of Tunisia
TO|Tonga|Kingdom of Tonga
TR|Türkiye|Republic of Türkiye
TT|Trinidad and Tobago|Republic of Trinidad and Tobago
TV|Tuvalu
TW|Taiwan, Province of China|Taiwan
TZ|Tanzania, United Republic of|Tanzania|United Republic of Tanzania
UA|Ukraine
UG|Uganda|Republic of Uganda
UM|United States Minor Outlying Islands
US|United States|United States of America
UY|Uruguay|Eastern Republic of Uruguay
UZ|Uzbekistan|Republic of Uzbekistan
VA|Holy See (Vatican City State)
VC|Saint Vincent and the Grenadines
VE|Venezuela, Bolivarian Republic of|Venezuela|Bolivarian Republic of Venezuela
VG|Virgin Islands, British|British Virgin Islands
VI|Virgin Islands, U.S.|Virgin Islands of the United States
VN|Viet Nam|Vietnam|Socialist Republic of Viet Nam
VU|Vanuatu|Republic of Vanuatu
WF|Wallis and Futuna
WS|Samoa|Independent State of Samoa
YE|Yemen|Republic of Yemen
YT|Mayotte
ZA|South Africa|Republic of South Africa
ZM|Zambia|Republic of Zambia
ZW|Zimbabwe|Republic of Zimbabwe
"""
