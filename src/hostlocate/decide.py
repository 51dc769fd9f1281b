"""The jurisdiction decision: evidence in, status + jurisdiction + routing out.

Pure: no I/O, no clock. Every rule is written down in ``docs/jurisdiction.md``
and checked by the table in ``tests/unit/test_decide.py``; a change here is a
change of policy and goes through both.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import msgspec

from hostlocate.errors import ErrorCode
from hostlocate.models import (
    AddressFacts,
    Candidate,
    DNSResult,
    ErrorInfo,
    Hotline,
    Jurisdiction,
    NoticeContact,
    Provider,
    ReportedURL,
    Routing,
)

CDN_KINDS = frozenset({"cdn", "reverse_proxy"})

# Statuses
LOCATED = "located"
UNRESOLVED = "unresolved"
NOT_ROUTABLE = "not_routable"
INVALID = "invalid"

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
    "onion": "a Tor onion service: not hosted at any routable address",
    "i2p": "an I2P name: not hosted at any routable address",
    "localhost": "localhost names the reporter's own machine",
    "reserved_name": "a special-use name (RFC 6761/6762) that is not delegated on the internet",
}


def behind_cdn(address: AddressFacts, chain_provider: Provider | None) -> Provider | None:
    """The CDN or reverse proxy an address sits behind, if any.

    A CNAME into a CDN's namespace puts every address of the answer behind it,
    even where the address itself is not in the provider table.
    """
    if address.provider is not None and address.provider.kind in CDN_KINDS:
        return address.provider
    if chain_provider is not None and chain_provider.kind in CDN_KINDS:
        return chain_provider
    return None


def decide_special(url: ReportedURL) -> tuple[str, ErrorInfo | None, Jurisdiction] | None:
    """The verdict for names that are never looked up (onion, i2p, localhost, reserved)."""
    special = url.special
    if special is None or url.is_ip:
        return None
    if special not in _SPECIAL_NAMES:
        return None
    flags: tuple[str, ...]
    if special in ("onion", "i2p"):
        flags = ("anonymity_network",)
    elif special == "localhost":
        flags = ("non_public_address",)
    else:
        flags = ("special_use_name",)
    return NOT_ROUTABLE, None, Jurisdiction(flags=flags, reasons=(_SPECIAL_NAMES[special],))


def decide(
    *,
    dns: DNSResult | None,
    addresses: Sequence[AddressFacts],
    chain_provider: Provider | None = None,
    rdap_enabled: bool = True,
) -> tuple[str, ErrorInfo | None, Jurisdiction]:
    """Status, error and jurisdiction from the facts about one host.

    ``dns`` is None for IP literals. ``chain_provider`` is the CDN/proxy matched on
    a CNAME of the chain, if any.
    """
    if not addresses:
        code = (dns.error if dns else None) or ErrorCode.NO_ADDRESS.value
        return (
            UNRESOLVED,
            ErrorInfo(code=code, message=_DNS_MESSAGES.get(code, "the DNS look-up failed")),
            Jurisdiction(flags=("dns_failure",), reasons=(_DNS_MESSAGES.get(code, code),)),
        )

    flags: list[str] = []
    reasons: list[str] = []
    public = [a for a in addresses if a.public]
    if len(public) < len(addresses):
        flags.append("non_public_address")
    if not public:
        cats = sorted({a.category or "reserved" for a in addresses})
        reasons.append("only non-public addresses (" + ", ".join(cats) + ")")
        return NOT_ROUTABLE, None, Jurisdiction(flags=tuple(flags), reasons=tuple(reasons))
    if len(public) < len(addresses):
        reasons.append("non-public addresses were ignored")

    if rdap_enabled and any(a.rdap_error for a in public):
        flags.append("rdap_unavailable")
        reasons.append("registration data (RDAP) could not be read for every address")

    fronted = [(a, behind_cdn(a, chain_provider)) for a in public]
    cdn_addrs = [(a, p) for a, p in fronted if p is not None]
    origin = [a for a, p in fronted if p is None]

    if any(a.anycast for a in public):
        flags.append("anycast")
        reasons.append("anycast addresses: the located country is where the answer came from")

    if not origin:
        # Every address is a CDN edge: the operator is who can act, and it forwards to
        # the origin host. Its legal seat is the country basis.
        flags.append("cdn")
        seats: Counter[str] = Counter()
        names: list[str] = []
        for _, p in cdn_addrs:
            if p.legal_seat_country:
                seats[p.legal_seat_country] += 1
            if p.name not in names:
                names.append(p.name)
        reasons.append("every address belongs to a CDN or reverse proxy: " + ", ".join(names))
        candidates = _candidates_from(seats)
        if len(candidates) > 1:
            flags.append("multi_country")
        country = candidates[0].country if candidates else None
        return (
            LOCATED,
            None,
            Jurisdiction(
                country=country,
                confidence="low" if country else "none",
                basis="cdn_operator" if country else "none",
                candidates=candidates,
                flags=_unique(flags),
                reasons=tuple(reasons),
            ),
        )

    if cdn_addrs:
        flags.append("partial_cdn")
        reasons.append("some addresses belong to a CDN or reverse proxy; the others decide")

    counts: Counter[str] = Counter()
    bases: set[str] = set()
    mismatch = False
    for a in origin:
        registry_cc = (a.network.country if a.network else None) or a.registered_country
        if a.country:
            counts[a.country] += 1
            bases.add("geoip")
            if registry_cc and registry_cc != a.country:
                mismatch = True
        elif registry_cc:
            counts[registry_cc] += 1
            bases.add("registry")
    if mismatch:
        flags.append("geo_registry_mismatch")
        reasons.append("the located country differs from the registration country")

    candidates = _candidates_from(counts)
    if not candidates:
        reasons.append("no source places the addresses in a country")
        return (
            LOCATED,
            None,
            Jurisdiction(flags=_unique(flags), reasons=tuple(reasons)),
        )
    country = candidates[0].country
    if len(candidates) > 1:
        flags.append("multi_country")
        reasons.append(
            "addresses in several countries: "
            + ", ".join(f"{c.country} ({c.addresses})" for c in candidates)
        )
    basis = "geoip" if "geoip" in bases else "registry"
    if basis == "registry":
        reasons.append("no geolocation: the registration country decides")

    if "anycast" in flags or "partial_cdn" in flags:
        confidence = "low"
    elif len(candidates) > 1 or mismatch or basis == "registry" or "rdap_unavailable" in flags:
        confidence = "medium"
    else:
        confidence = "high"
    return (
        LOCATED,
        None,
        Jurisdiction(
            country=country,
            confidence=confidence,
            basis=basis,
            candidates=candidates,
            flags=_unique(flags),
            reasons=tuple(reasons),
        ),
    )


def route(
    jurisdiction: Jurisdiction,
    *,
    status: str,
    addresses: Sequence[AddressFacts],
    chain_provider: Provider | None,
    hotlines_for: Callable[[str], tuple[Hotline, ...]],
    registrar: NoticeContact | None = None,
) -> Routing:
    """Where the report goes: member hotline(s), escalation, and notice contacts."""
    if status == INVALID:
        return Routing()
    hotlines: tuple[Hotline, ...] = ()
    escalation: str | None
    if jurisdiction.country:
        hotlines = hotlines_for(jurisdiction.country)
        escalation = None if hotlines else "inhope"
    else:
        escalation = "manual_review"

    contacts: list[NoticeContact] = []
    seen: set[tuple[str, str]] = set()

    def add(contact: NoticeContact) -> None:
        # One contact per (role, address): what RDAP already gave is dropped from a
        # provider-table entry, which is kept only for what it adds.
        email = contact.email if (contact.role, contact.email) not in seen else None
        url = contact.url if (contact.role, contact.url) not in seen else None
        if email is None and url is None:
            return
        seen.update((contact.role, v) for v in (email, url) if v)
        contacts.append(msgspec.structs.replace(contact, email=email, url=url))

    for a in addresses:
        if not a.public:
            continue
        cdn = behind_cdn(a, chain_provider)
        for email in a.abuse_emails:
            add(NoticeContact(role="cdn" if cdn else "hosting", email=email, source="rdap"))
        if cdn is not None and (cdn.abuse_email or cdn.abuse_url):
            add(
                NoticeContact(
                    role="cdn",
                    email=cdn.abuse_email,
                    url=cdn.abuse_url,
                    name=cdn.name,
                    source="provider_table",
                )
            )
        elif a.provider is not None and (a.provider.abuse_email or a.provider.abuse_url):
            add(
                NoticeContact(
                    role="hosting",
                    email=a.provider.abuse_email,
                    url=a.provider.abuse_url,
                    name=a.provider.name,
                    source="provider_table",
                )
            )
    if registrar is not None:
        add(registrar)
    return Routing(hotlines=hotlines, escalation=escalation, notice_contacts=tuple(contacts))


def _candidates_from(counts: Counter[str]) -> tuple[Candidate, ...]:
    # Most addresses first; ties broken alphabetically so verdicts are reproducible.
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(Candidate(country=cc, addresses=n) for cc, n in ordered)


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
