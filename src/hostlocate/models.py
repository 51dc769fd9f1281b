"""The verdict and its parts: frozen, typed records.

``msgspec.Struct`` is used because the warm batch path has about 30 µs a
record in all, and a frozen dataclass verdict of this size costs about that
much to build before any JSON is written. The records are frozen and never
refer back to what holds them, so they can form no reference cycle: they are
left out of the cycle collector (``gc=False``), which otherwise spent a tenth
of a warm batch scanning verdicts. Field names follow the verdict contract
(``hostlocate.verdict/1``); fields beyond the contract are additions, never
renames.
"""

from __future__ import annotations

from typing import Any

import msgspec

SCHEMA = "hostlocate.verdict/1"


class ReportedURL(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A reported URL as a browser would contact it, plus what the PSL says of its host."""

    input: str
    """The text as reported, untouched."""
    normalized: str
    """The WHATWG-serialised URL (refanged, IDNA-encoded host, default port dropped)."""
    scheme: str
    """Scheme without the colon: http, https, ftp, ws or wss."""
    host: str
    """ASCII host: A-labels for names, dotted quad for IPv4, bracketless compressed IPv6."""
    host_unicode: str
    """The host with A-labels decoded to Unicode, for display."""
    port: int
    """The explicit port, or the scheme's default."""
    registered_domain: str | None
    """Registrable domain under the PSL with its private section (``evil.github.io``)."""
    public_suffix: str | None
    """The public suffix the registered domain sits under (private section included)."""
    icann_registered_domain: str | None
    """Registrable domain under the ICANN section only: whose registrar gets a notice."""
    icann_public_suffix: str | None
    """The ICANN-section public suffix."""
    is_ip: bool
    """The host is an IP literal."""
    ip_version: int | None
    """4 or 6 for IP literals, else None."""
    special: str | None
    """A special-host class (``onion``, ``i2p``, ``localhost``, ``reserved_name``,
    ``loopback``, ``private``, ``link_local``, ``cgnat``, ``documentation``,
    ``multicast``, ``reserved``, ``unspecified``...), or None for an ordinary host."""
    defanged: bool
    """The input was defanged (``hxxp``, ``[.]``...) and has been refanged."""
    scheme_assumed: bool = False
    """No scheme was given; ``http://`` was assumed."""


class ErrorInfo(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Why a verdict is not ``located``."""

    code: str
    """A stable :class:`~hostlocate.errors.ErrorCode` value."""
    message: str
    """A readable explanation."""


class DNSResult(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What DNS said about the host."""

    cname_chain: tuple[str, ...] = ()
    """The queried name then every CNAME target, in order."""
    addresses: tuple[str, ...] = ()
    """IPv4 then IPv6 addresses, de-duplicated and sorted (answers rotate; verdicts must not)."""
    rcode: str | None = None
    """The final response code (NOERROR, NXDOMAIN, SERVFAIL, REFUSED) or None on timeout."""
    min_ttl: int | None = None
    """The smallest TTL seen along the chain and the address records."""
    error: str | None = None
    """An ErrorCode value when the look-up failed."""
    queries: int = 0
    """DNS queries sent for this host (0 when answered from cache)."""


class Network(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The registered network (RDAP ``ip network``) an address belongs to."""

    cidr: str | None = None
    name: str | None = None
    handle: str | None = None
    rir: str | None = None
    """arin, ripe, apnic, lacnic or afrinic (or a registry's own name)."""
    country: str | None = None
    """Country of registration, upper case, when the registry gives one."""
    start_address: str | None = None
    end_address: str | None = None
    source_url: str | None = None
    """The RDAP URL that answered."""


class DnsPart(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One record type's answer for a host: what caches keep, each for its own TTL.

    A host's A and AAAA answers live apart (a 60-second NODATA for AAAA must not
    cut short a 300-second A record); the plan's ``combine_dns`` makes the verdict's view.
    """

    rdtype: str
    rcode: str | None = None
    error: str | None = None
    chain: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    min_ttl: int | None = None
    queries: int = 0


class GeoFacts(msgspec.Struct, frozen=True, gc=False):
    """What the databases say about one address."""

    country: str | None = None
    """Located country, ISO 3166-1 alpha-2, upper case."""
    registered_country: str | None = None
    """Country the database records as registered (GeoIP2 layout only)."""
    anycast: bool = False
    """The database marks the network as anycast (GeoIP2 ``traits.is_anycast``)."""
    asn: int | None = None
    as_org: str | None = None


class Holder(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Who a network is registered to: the registrant organisation, from RDAP."""

    name: str | None = None
    country: str | None = None
    """The registrant's country, upper case, where the registry gives one."""


class IpOwnership(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What RDAP says about the holder of one address."""

    network: Network | None = None
    """The registered network holding the address; None when the look-up failed."""
    abuse_emails: tuple[str, ...] = ()
    """Abuse contacts of the network, from entities at any depth (and fetched ones)."""
    holder: Holder | None = None
    """The network's registrant organisation, where the registry names one."""
    error: str | None = None
    """An :class:`~hostlocate.errors.ErrorCode` value when the look-up failed."""
    detail: str | None = None
    """A readable note on the error, for logs and analysts."""
    from_cache: bool = False
    """Answered from the range cache (or a look-up already in flight): no request made."""
    requests: int = 0
    """HTTP requests this look-up sent (redirects, retries and entity fetches included)."""


class RegistrarInfo(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The registrar of a domain and its abuse contact, from the registry's RDAP."""

    domain: str
    name: str | None = None
    """The registrar's name (vCard ``fn``)."""
    iana_id: str | None = None
    """The registrar's IANA Registrar ID, where the registry gives it."""
    abuse_email: str | None = None
    abuse_phone: str | None = None
    source_url: str | None = None
    """The RDAP URL that answered."""
    error: str | None = None
    """An :class:`~hostlocate.errors.ErrorCode` value when the look-up failed."""
    detail: str | None = None
    from_cache: bool = False
    requests: int = 0


class AutnumInfo(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What RDAP says about an autonomous system: the abuse contact of last resort
    for a network whose own record names none."""

    asn: int
    name: str | None = None
    """The AS name the registry gives (``CLOUDFLARENET``)."""
    abuse_emails: tuple[str, ...] = ()
    """Abuse contacts of the AS, from entities at any depth (and fetched ones)."""
    error: str | None = None
    """An :class:`~hostlocate.errors.ErrorCode` value when the look-up failed."""
    detail: str | None = None
    """A readable note on the error, for logs and analysts."""
    source_url: str | None = None
    """The RDAP URL that answered."""
    from_cache: bool = False
    """Answered from the cache (or a look-up already in flight): no request made."""
    requests: int = 0
    """HTTP requests this look-up sent."""


class Provider(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A CDN, reverse proxy, cloud or hosting platform an address or name belongs to."""

    name: str
    kind: str
    """cdn, reverse_proxy, cloud, hosting_platform or hosting."""
    id: str | None = None
    legal_seat_country: str | None = None
    matched_by: str | None = None
    """cidr, asn or cname."""
    matched_name: str | None = None
    """For a CNAME match: the name of the chain that lies under the provider's suffix."""
    abuse_email: str | None = None
    abuse_url: str | None = None


class AddressFacts(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Everything known about one address."""

    ip: str
    version: int
    public: bool
    category: str | None = None
    """Special-range class for non-public addresses (loopback, private, ...)."""
    country: str | None = None
    """Located country (geolocation), upper case."""
    registered_country: str | None = None
    """Country the geolocation database records as registered, where it has one."""
    asn: int | None = None
    as_org: str | None = None
    network: Network | None = None
    abuse_emails: tuple[str, ...] = ()
    provider: Provider | None = None
    anycast: bool = False
    rdap_error: str | None = None
    """ErrorCode value when the RDAP look-up for this address failed."""


class Candidate(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A country some of the addresses point to."""

    country: str
    addresses: int


class Jurisdiction(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The decided country, how sure, on what basis, and why."""

    country: str | None = None
    confidence: str = "none"
    """high, medium, low or none."""
    basis: str = "none"
    """geoip, registry, cdn_operator or none."""
    candidates: tuple[Candidate, ...] = ()
    flags: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    """One readable sentence per rule that fired, for the analyst."""


class Hotline(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A member hotline to forward the report to."""

    country: str
    name: str
    organisation: str | None = None
    url: str | None = None
    report_url: str | None = None
    certain: bool = True
    """False where membership or operator is not confirmed by a source."""


class NoticeContact(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Whom to send a notice: hosting abuse desk, CDN, registrar."""

    role: str
    """hosting, cdn or registrar."""
    email: str | None = None
    url: str | None = None
    name: str | None = None
    source: str | None = None
    """Where the contact was read: rdap, provider_table."""


class Routing(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Where the report goes next."""

    hotlines: tuple[Hotline, ...] = ()
    escalation: str | None = None
    """None, ``inhope`` (no member hotline in the country) or ``manual_review``."""
    notice_contacts: tuple[NoticeContact, ...] = ()


class SourceInfo(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A data source behind the verdict."""

    name: str
    version: str | None = None
    build_date: str | None = None
    licence: str | None = None
    attribution: str | None = None
    origin: str | None = None
    """bundled, user or path."""


class Provenance(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """How the verdict was made: evidence for whoever acts on it."""

    version: str
    resolved_at: str
    elapsed_ms: float
    resolvers: tuple[str, ...] = ()
    rdap: bool = True
    sources: dict[str, SourceInfo] = msgspec.field(default_factory=dict)


class Verdict(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One jurisdiction verdict for one reported URL (contract ``hostlocate.verdict/1``)."""

    schema: str = SCHEMA
    input: str
    status: str
    """located, unresolved, not_routable or invalid."""
    error: ErrorInfo | None = None
    url: ReportedURL | None = None
    dns: DNSResult | None = None
    addresses: tuple[AddressFacts, ...] = ()
    cname_providers: tuple[Provider, ...] = ()
    """Providers (CDN, proxy, platform) whose namespace a name of the CNAME chain is in."""
    jurisdiction: Jurisdiction = msgspec.field(default_factory=Jurisdiction)
    routing: Routing = msgspec.field(default_factory=Routing)
    provenance: Provenance | None = None

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON structure as plain Python objects."""
        from hostlocate import serialize

        return serialize.to_dict(self)

    def to_json(self) -> str:
        """The verdict as one line of JSON."""
        from hostlocate import serialize

        return serialize.to_json(self).decode()
