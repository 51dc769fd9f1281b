"""Bounded reading of RDAP values, entities and their vCards.

RDAP bodies are hostile input: every walk here is bounded (entities, depth,
vCard properties, roles, links), and every string that leaves is bounded in
length and encodable, so the parser built on these never pays for a body's
size or nesting beyond what a few hundred vCards cost.
"""

from __future__ import annotations

import ipaddress
import re
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

__all__ = ["canonical_address", "emails_of_entity", "entity_roles"]

_MAX_ENTITIES = 200
"""Entities one walk visits: real responses have under 20, a hostile one 10,000."""
_MAX_DEPTH = 8
_MAX_PROPERTIES = 64
"""vCard properties read per entity."""
_MAX_ROLES = 16
_MAX_LINKS = 32
_MAX_NAME = 300
_MAX_EMAIL = 254

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,63}")

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
