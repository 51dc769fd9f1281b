"""The jurisdiction decision: evidence in, status + jurisdiction + routing out.

Pure: no I/O, no clock. Every rule is written down in ``docs/jurisdiction.md``
with the practice it follows, and checked by the table in
``tests/unit/test_decide.py``; a change here is a change of policy and goes
through both. The rules, in the order they apply: special names; DNS failure;
non-public addresses; a disclosed origin; a hosting platform; a hidden origin
(every address an intermediary's); the located country, chosen by evidence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Final, NamedTuple

import msgspec

from hostlocate.errors import ErrorCode
from hostlocate.models import (
    AddressFacts,
    Basis,
    Candidate,
    Confidence,
    ContactRole,
    DNSResult,
    ErrorInfo,
    GeoFacts,
    Hotline,
    HotlineRole,
    IpOwnership,
    Jurisdiction,
    NextStep,
    NoticeContact,
    Platform,
    Provider,
    RegistrarInfo,
    ReportedURL,
    Routing,
    Status,
)

CDN_KINDS = frozenset({"cdn", "reverse_proxy"})
MAX_CONTACTS_PER_ROLE = 5
"""A notice goes to a few desks, not to every address a registry lists."""

# Statuses
LOCATED: Final = "located"
UNRESOLVED: Final = "unresolved"
NOT_ROUTABLE: Final = "not_routable"
INVALID: Final = "invalid"
# Next steps
FORWARD: Final = "forward_to_hotline"
NOTIFY_INTERMEDIARY: Final = "notify_intermediary"
LAW_ENFORCEMENT: Final = "law_enforcement"
MANUAL_REVIEW: Final = "manual_review"

HotlinesFor = Callable[[str], tuple[Hotline, ...]]


class PlatformHit(NamedTuple):
    """A platform the URL is on, and whether its addresses are front-ends."""

    platform: Platform
    front_ends: bool | None = None
    """The table says the platform answers from shared front-ends (anycast, a CDN, its
    own edge) or not; None where no source says, and the addresses tell."""


class Evidence(NamedTuple):
    """Everything gathered for one host."""

    dns: DNSResult | None
    addresses: tuple[AddressFacts, ...]
    cname_providers: tuple[Provider, ...] = ()
    origin: tuple[AddressFacts, ...] = ()
    platform: PlatformHit | None = None
    redirector: Platform | None = None
    registrar: RegistrarInfo | None = None
    rdap_enabled: bool = True
    embedded: tuple[str, str | None] | None = None
    """An IPv6 literal that carries the IPv4 address located, and how (``ipv4_mapped``,
    ``nat64``)."""


class Decision(NamedTuple):
    """A host's decision: every part of its verdicts that does not change from record
    to record (the input, the parsed URL and provenance do)."""

    status: Status
    error: ErrorInfo | None
    jurisdiction: Jurisdiction
    routing: Routing
    addresses: tuple[AddressFacts, ...] = ()
    cname_providers: tuple[Provider, ...] = ()
    origin: tuple[AddressFacts, ...] = ()
    platform: Platform | None = None


def failure(status: Status, code: str, message: str) -> Decision:
    """The decision for a record that could not be looked up (bad input, bad data, a bug)."""
    reasons = (message,)
    return Decision(
        status=status,
        error=ErrorInfo(code=code, message=message),
        jurisdiction=Jurisdiction(reasons=reasons),
        routing=Routing(next_step=None if status == INVALID else MANUAL_REVIEW),
    )


def address_facts(
    ip: str,
    *,
    category: str | None,
    geo: GeoFacts | None = None,
    provider: Provider | None = None,
    provider_anycast: bool = False,
) -> AddressFacts:
    """An address's local facts; ``category`` is its special-range class, or None when public.

    Anycast is taken from the geolocation database's flag or from the provider
    table (an operator announcing its space from many places, or a published
    anycast range such as a public resolver's).
    """
    version = 6 if ":" in ip else 4
    if category is not None or geo is None:
        return AddressFacts(ip=ip, version=version, public=False, category=category)
    return AddressFacts(
        ip=ip,
        version=version,
        public=True,
        country=geo.country,
        registered_country=geo.registered_country,
        asn=geo.asn,
        as_org=geo.as_org,
        provider=provider,
        anycast=geo.anycast or provider_anycast,
    )


def needs_as_contact(owner: IpOwnership | None) -> bool:
    """A network RDAP found that names no abuse desk: its origin AS's is asked."""
    return owner is not None and owner.error is None and not owner.abuse_emails


def with_owner(
    facts: AddressFacts, owner: IpOwnership, as_contacts: tuple[str, ...] = ()
) -> AddressFacts:
    """An address's local facts with what RDAP says of its holder; the origin AS's
    abuse desk stands in where the network names none."""
    emails = owner.abuse_emails or as_contacts
    return msgspec.structs.replace(
        facts,
        network=owner.network,
        holder=owner.holder,
        abuse_emails=emails[:MAX_CONTACTS_PER_ROLE],
        rdap_error=owner.error,
    )


def chain_provider(cname_providers: Sequence[Provider]) -> Provider | None:
    """The provider a CNAME chain puts the answer behind: a CDN or proxy anywhere in
    the chain fronts it; otherwise the first provider matched."""
    return next(
        (p for p in cname_providers if p.kind in CDN_KINDS),
        cname_providers[0] if cname_providers else None,
    )


def behind_cdn(address: AddressFacts, fronting: Provider | None) -> Provider | None:
    """The CDN or reverse proxy an address sits behind, if any.

    A CNAME into a CDN's namespace puts every address of the answer behind it,
    even where the address itself is not in the provider table.
    """
    if address.provider is not None and address.provider.kind in CDN_KINDS:
        return address.provider
    if fronting is not None and fronting.kind in CDN_KINDS:
        return fronting
    return None


_DNS_MESSAGES = {
    ErrorCode.NXDOMAIN.value: "the name does not exist (NXDOMAIN)",
    ErrorCode.NO_ADDRESS.value: "the name exists but has no A or AAAA records",
    ErrorCode.SERVFAIL.value: "the resolver could not resolve the name (SERVFAIL)",
    ErrorCode.REFUSED.value: "the resolver refused the query (REFUSED)",
    ErrorCode.DNS_TIMEOUT.value: "no resolver answered within the time budget",
    ErrorCode.DNS_ERROR.value: "the DNS look-up failed",
    ErrorCode.CNAME_LOOP.value: "the CNAME chain loops",
    ErrorCode.CNAME_TOO_LONG.value: "the CNAME chain is longer than the limit",
    ErrorCode.DNS_REFUSED.value: "nothing listens at the resolver's port (port unreachable)",
}

_SPECIAL_NAMES = {
    "onion": "a Tor onion service: not hosted at any routable address; law enforcement "
    "handles anonymity-network content",
    "i2p": "an I2P name: not hosted at any routable address; law enforcement handles "
    "anonymity-network content",
    "localhost": "localhost names the reporter's own machine",
    "reserved_name": "a special-use name (RFC 6761/6762) that is not delegated on the internet",
}


def decide_special(url: ReportedURL, hotlines_for: HotlinesFor) -> Decision | None:
    """The decision for names that are never looked up (onion, i2p, localhost, reserved)."""
    special = url.special
    if special is None or url.is_ip or special not in _SPECIAL_NAMES:
        return None
    flags: tuple[str, ...]
    if special in ("onion", "i2p"):
        flags = ("anonymity_network",)
    elif special == "localhost":
        flags = ("non_public_address",)
    else:
        flags = ("special_use_name",)
    jurisdiction = Jurisdiction(flags=flags, reasons=(_SPECIAL_NAMES[special],))
    routing = _route(jurisdiction, Evidence(None, ()), None, hotlines_for, NOT_ROUTABLE)
    return Decision(NOT_ROUTABLE, None, jurisdiction, routing)


def decide_host(evidence: Evidence, hotlines_for: HotlinesFor) -> Decision:
    """The decision and routing for one looked-up host."""
    status, error, jurisdiction, intermediary = _judge(evidence)
    routing = _route(jurisdiction, evidence, intermediary, hotlines_for, status)
    platform = evidence.platform.platform if evidence.platform is not None else None
    return Decision(
        status,
        error,
        jurisdiction,
        routing,
        evidence.addresses,
        evidence.cname_providers,
        evidence.origin,
        platform,
    )


# -- the jurisdiction ---------------------------------------------------------------------


def _judge(
    ev: Evidence,
) -> tuple[Status, ErrorInfo | None, Jurisdiction, Provider | None]:
    """Status, error, jurisdiction, and the intermediary hiding the origin (if any)."""
    if not ev.addresses and not ev.origin:
        code = (ev.dns.error if ev.dns else None) or ErrorCode.NO_ADDRESS.value
        message = _DNS_MESSAGES.get(code, "the DNS look-up failed")
        reason = f"{message}: no address to place"
        jurisdiction = Jurisdiction(flags=("dns_failure",), reasons=(reason,))
        return UNRESOLVED, ErrorInfo(code=code, message=message), jurisdiction, None

    flags: list[str] = []
    reasons: list[str] = []
    public = [a for a in ev.addresses if a.public]
    hidden = [a for a in ev.addresses if not a.public]
    if hidden:
        flags.append("non_public_address")
        cats = ", ".join(sorted({f"{a.ip} ({a.category or 'reserved'})" for a in hidden}))
        reasons.append(f"non-public addresses set aside: {cats}")
    if not public and not ev.origin:
        return NOT_ROUTABLE, None, Jurisdiction(flags=tuple(flags), reasons=tuple(reasons)), None

    if ev.embedded is not None:
        literal, how = ev.embedded
        flags.append("embedded_ipv4")
        reasons.append(
            f"the IPv6 literal {literal} carries the IPv4 address "
            f"{_list(a.ip for a in ev.addresses)} ({how or 'embedded'}): that address is placed"
        )
    checked = public + [a for a in ev.origin if a.public]
    failed = [a for a in checked if a.rdap_error]
    if ev.rdap_enabled and failed:
        flags.append("rdap_unavailable")
        codes = ", ".join(sorted({a.rdap_error or "" for a in failed}))
        reasons.append(
            f"registration data (RDAP) missing for {len(failed)} of {len(checked)} "
            f"addresses ({codes})"
        )
    anycast = [a for a in public if a.anycast]
    if anycast:
        flags.append("anycast")
        reasons.append(
            f"anycast: {_list(a.ip + _by(a) for a in anycast)} answers from many places; "
            "the located country is only where the database saw it"
        )
    if ev.redirector is not None:
        flags.append("redirector")
        reasons.append(
            f"{ev.redirector.name} is a redirect service: the content is wherever the link "
            "points, which hostlocate does not follow; the located country is the service's"
        )
    hit = ev.platform
    if hit is not None:
        flags.append("hosting_platform")
        reasons.append(
            f"the content is on {hit.platform.name} ({hit.platform.kind}), matched by "
            f"{(hit.platform.matched_by or 'its name').replace('_', ' ')}"
        )

    fronting = chain_provider(ev.cname_providers)
    fronts = {a.ip: behind_cdn(a, fronting) for a in public}
    via = _names(p for p in fronts.values() if p is not None)

    if ev.origin:
        if via:
            flags.append("cdn")
            reasons.append(f"the host's addresses belong to {via}, which disclosed the origin")
        origin = [a for a in ev.origin if a.public]
        return LOCATED, None, _placed(origin, flags, reasons, "origin_disclosed"), None

    if hit is not None and hit.platform.legal_seat_country and public:
        edge = [a for a in public if a.anycast or fronts[a.ip]]
        if hit.front_ends or (hit.front_ends is None and len(edge) == len(public)):
            seat = hit.platform.legal_seat_country
            reasons.append(
                f"{hit.platform.name}'s addresses are front-ends (anycast, CDN or its own "
                f"edge): its legal seat {seat} decides"
            )
            candidates = (Candidate(country=seat, addresses=len(public)),)
            jurisdiction = _made(seat, "medium", "platform_seat", candidates, flags, reasons)
            return LOCATED, None, jurisdiction, None

    direct = [a for a in public if fronts[a.ip] is None]
    if not direct and hit is None:
        intermediary = next(p for p in fronts.values() if p is not None)
        flags += ["cdn", "origin_hidden"]
        reasons.append(
            f"every address belongs to {via}: the origin host is hidden; the intermediary "
            "forwards the notice and can disclose the origin, then locate again with it"
        )
        return LOCATED, None, _made(None, "none", "origin_hidden", (), flags, reasons), intermediary
    if direct and len(direct) < len(public):
        flags.append("partial_cdn")
        reasons.append(
            f"{len(public) - len(direct)} of {len(public)} addresses belong to {via}; "
            f"the other {len(direct)} decide"
        )
    return LOCATED, None, _placed(direct or public, flags, reasons, "geoip"), None


def _placed(
    addresses: list[AddressFacts], flags: list[str], reasons: list[str], basis: Basis
) -> Jurisdiction:
    """The country of ``addresses``: located first, registration where unlocated,
    several countries chosen by evidence (more addresses, then registry agreement)."""
    located: Counter[str] = Counter()
    agree: Counter[str] = Counter()
    from_registry = 0
    mismatched: list[str] = []
    for a in addresses:
        registry = _registry_country(a)
        if registry:
            agree[registry] += 1
        if a.country:
            located[a.country] += 1
            if registry and registry != a.country:
                mismatched.append(f"{a.ip} is located in {a.country} but registered in {registry}")
        elif registry:
            located[registry] += 1
            from_registry += 1
    if mismatched:
        flags.append("geo_registry_mismatch")
        reasons.append("; ".join(mismatched))
    candidates, chosen, how = _candidates(located, agree)
    if not candidates:
        reasons.append(f"no source places {_count(len(addresses))} in a country")
        return _made(None, "none", "none", (), flags, reasons)
    if len(candidates) > 1:
        flags.append("multi_country")
        reasons.append(f"addresses in several countries: {_tally(candidates)}; {how}")
    if chosen is None:
        flags.append("country_tie")
        return _made(None, "none", "none", candidates, flags, reasons)
    if basis == "geoip" and from_registry == len(addresses):
        basis = "registry"
    reasons.append(_why(chosen, candidates[0].addresses, len(addresses), basis, agree[chosen]))
    confidence: Confidence
    if basis == "origin_disclosed":
        confidence = "high" if not mismatched and len(candidates) == 1 else "medium"
    elif "anycast" in flags or "partial_cdn" in flags or "redirector" in flags:
        confidence = "low"
    elif len(candidates) > 1 or mismatched or basis == "registry" or "rdap_unavailable" in flags:
        confidence = "medium"
    else:
        confidence = "high"
    return _made(chosen, confidence, basis, candidates, flags, reasons)


def _candidates(
    located: Counter[str], agree: Counter[str]
) -> tuple[tuple[Candidate, ...], str | None, str]:
    """Candidates by evidence, the chosen country (None on a true tie), and how."""
    ranked = sorted(located, key=lambda cc: (-located[cc], -agree[cc]))
    candidates = tuple(Candidate(country=cc, addresses=located[cc]) for cc in ranked)
    if len(ranked) < 2:
        return candidates, (ranked[0] if ranked else None), ""
    first, second = ranked[0], ranked[1]
    if located[first] > located[second]:
        return candidates, first, f"{first} has the most addresses"
    if agree[first] > agree[second]:
        return (
            candidates,
            first,
            (
                f"{first} and {second} have as many addresses; registration data agrees with "
                f"{first} for {_count(agree[first])}, with {second} for {agree[second]}"
            ),
        )
    tied = [cc for cc in ranked if (located[cc], agree[cc]) == (located[first], agree[first])]
    return (
        candidates,
        None,
        (f"{_list(tied)} tie on addresses and on registration data: an analyst chooses"),
    )


def _made(
    country: str | None,
    confidence: Confidence,
    basis: Basis,
    candidates: tuple[Candidate, ...],
    flags: list[str],
    reasons: list[str],
) -> Jurisdiction:
    return Jurisdiction(
        country=country,
        confidence=confidence if country else "none",
        basis=basis if country or basis == "origin_hidden" else "none",
        candidates=candidates,
        flags=tuple(dict.fromkeys(flags)),
        reasons=tuple(reasons),
    )


def _why(country: str, count: int, total: int, basis: Basis, agreeing: int) -> str:
    where = "registered" if basis == "registry" else "located"
    whose = "the disclosed origin: " if basis == "origin_disclosed" else ""
    share = f"all {_count(total)}" if count == total else f"{count} of {_count(total)}"
    said = (
        "registration data (RDAP or the database's registered country), as no geolocation"
        if basis == "registry"
        else "GeoIP"
    )
    confirm = f"; registration agrees for {agreeing}" if agreeing and basis != "registry" else ""
    return f"{whose}{share} {where} in {country} ({said}){confirm}"


def _registry_country(a: AddressFacts) -> str | None:
    return (
        (a.network.country if a.network else None)
        or (a.holder.country if a.holder else None)
        or a.registered_country
    )


# -- routing --------------------------------------------------------------------------------


def _route(
    j: Jurisdiction,
    ev: Evidence,
    intermediary: Provider | None,
    hotlines_for: HotlinesFor,
    status: Status,
) -> Routing:
    """Hotlines (each with its role), the next step, and whom to send a notice."""
    hotlines: list[Hotline] = []
    seen: set[str] = set()

    def add_hotlines(country: str | None, role: HotlineRole) -> None:
        for h in hotlines_for(country) if country else ():
            if h.id not in seen:
                seen.add(h.id)
                hotlines.append(msgspec.structs.replace(h, role=role))

    add_hotlines(j.country, "hosting_country")
    served = bool(hotlines)  # the hosting country has a member hotline
    for c in j.candidates:
        add_hotlines(c.country, "candidate_country")
    if intermediary is not None:
        add_hotlines(intermediary.legal_seat_country, "intermediary_seat")
    return Routing(
        hotlines=tuple(hotlines),
        next_step=_next_step(j, status, served),
        notice_contacts=_contacts(ev, intermediary),
    )


def _next_step(j: Jurisdiction, status: Status, served: bool) -> NextStep:
    if "anonymity_network" in j.flags:
        return LAW_ENFORCEMENT
    if "origin_hidden" in j.flags:
        return NOTIFY_INTERMEDIARY
    if status != LOCATED or j.country is None or "redirector" in j.flags:
        return MANUAL_REVIEW
    return FORWARD if served else LAW_ENFORCEMENT  # no member hotline: police, INTERPOL


def _contacts(ev: Evidence, intermediary: Provider | None) -> tuple[NoticeContact, ...]:
    """Platform, redirector, intermediary (its own channel first), hosting, registrar;
    one entry per (role, address), at most a few per role."""
    contacts: list[NoticeContact] = []
    seen: set[tuple[str, str]] = set()
    per_role: Counter[str] = Counter()

    def add(contact: NoticeContact) -> None:
        email = contact.email if (contact.role, contact.email) not in seen else None
        url = contact.url if (contact.role, contact.url) not in seen else None
        if (email is None and url is None) or per_role[contact.role] >= MAX_CONTACTS_PER_ROLE:
            return
        seen.update((contact.role, v) for v in (email, url) if v)
        per_role[contact.role] += 1
        contacts.append(msgspec.structs.replace(contact, email=email, url=url))

    # A platform or redirector is named even where no channel of its is known:
    # the analyst then knows whose service it is.
    if ev.platform is not None:
        contacts.append(_listed_contact(ev.platform.platform, "platform"))
    if ev.redirector is not None:
        contacts.append(_listed_contact(ev.redirector, "redirector"))
    if intermediary is not None:
        add(_table_contact(intermediary, "cdn"))
    fronting = chain_provider(ev.cname_providers)
    answered = [(a, behind_cdn(a, fronting)) for a in ev.addresses if a.public]
    for a, cdn in answered + [(a, None) for a in ev.origin if a.public]:
        for email in a.abuse_emails:
            add(NoticeContact(role="cdn" if cdn else "hosting", email=email, source="rdap"))
        if cdn is not None:
            add(_table_contact(cdn, "cdn"))
        elif a.provider is not None:
            add(_table_contact(a.provider, "hosting"))
    registrar = ev.registrar
    if registrar is not None and registrar.error is None:
        add(
            NoticeContact(
                role="registrar",
                email=registrar.abuse_email,
                name=registrar.name,
                url=registrar.source_url,
                source="rdap",
            )
        )
    return tuple(contacts)


def _listed_contact(listed: Platform, role: ContactRole) -> NoticeContact:
    """A platform's or redirector's own channel, from the platform table."""
    return _channel(role, listed.name, listed.report_url, listed.abuse_email, "platform_table")


def _table_contact(provider: Provider, role: ContactRole) -> NoticeContact:
    """A provider's own reporting channel from the table: its form first, where it has one."""
    return _channel(role, provider.name, provider.abuse_url, provider.abuse_email, "provider_table")


def _channel(
    role: ContactRole, name: str, url: str | None, email: str | None, source: str
) -> NoticeContact:
    return NoticeContact(role=role, url=url, email=email, name=name, source=source)


# -- wording ---------------------------------------------------------------------------------


def _list(items: Iterable[str]) -> str:
    return ", ".join(items)


def _names(providers: Iterable[Provider]) -> str:
    return _list(dict.fromkeys(p.name for p in providers))


def _by(a: AddressFacts) -> str:
    return f" ({a.provider.name})" if a.provider is not None else ""


def _count(n: int) -> str:
    return f"{n} address" if n == 1 else f"{n} addresses"


def _tally(candidates: Sequence[Candidate]) -> str:
    return ", ".join(f"{c.country} ({c.addresses})" for c in candidates)
