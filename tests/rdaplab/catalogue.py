"""What the RDAP lab answers: real recordings read in place, plus objects written here.

Three sources of ``ip network`` objects, asked in this order for an address:

1. the real recorded responses in ``<repo>/../shared/data/rdap-responses/``
   (and its ``lab-extra/``), read where they are, never copied;
2. the responses written for the lab in ``responses/`` (Cloudflare, OVH,
   Hetzner), with ``{base}`` filled in;
3. generated RIPE-shaped /24 networks for the configured ranges (the
   benchmark networks of the DNS lab), each with its own handle and abuse
   address; in a range marked ``abuse_by_link`` the abuse entity is only
   referenced by handle and link, as NIC.br does, and served under ``entity/``;
4. hostile bodies for the ``NESTED`` ranges: JSON nested deeper than a
   decoder's recursion limit, which no file can hold for ``json.loads``.

Among the objects that hold an address the smallest range wins, whoever
recorded it; the registry that holds it answers, the others redirect to it.
"""

from __future__ import annotations

import csv
import dataclasses
import email.utils
import ipaddress
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_GENERATED",
    "NESTED",
    "Catalogue",
    "GeneratedRange",
    "Held",
    "NestedRange",
    "nested_body",
    "shared_data_dir",
]

RESPONSES = Path(__file__).resolve().parent / "responses"

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def shared_data_dir() -> Path:
    """``<repo>/../shared/data``, where the recorded responses live (may be absent)."""
    return Path(__file__).resolve().parents[3] / "shared" / "data"


@dataclasses.dataclass(frozen=True, kw_only=True)
class GeneratedRange:
    """Addresses ``first``..``last`` answered with one generated /24 network each."""

    first: str
    last: str
    registry: str = "ripe"
    country: str = "NL"
    label: str = "BENCH"
    abuse_by_link: bool = False

    def holds(self, address: _Address) -> bool:
        lo, hi = ipaddress.ip_address(self.first), ipaddress.ip_address(self.last)
        return lo.version == address.version and int(lo) <= int(address) <= int(hi)


DEFAULT_GENERATED: tuple[GeneratedRange, ...] = (
    # The DNS lab's benchmark networks: a.b.c.0/24 with a in 193, 194, 62 and
    # b from 10 up (see tests/netlab/zones.py), all RIPE NCC space.
    GeneratedRange(first="193.10.0.0", last="193.209.255.255"),
    GeneratedRange(first="194.10.0.0", last="194.209.255.255"),
    GeneratedRange(first="62.10.0.0", last="62.209.255.255"),
    # Abuse contact only referenced (entity link following).
    GeneratedRange(
        first="185.10.0.0", last="185.10.255.255", label="LINKED", country="CZ", abuse_by_link=True
    ),
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class NestedRange:
    """A /24 whose registry answers with deeply nested JSON instead of its network."""

    network: str
    registry: str
    shape: str
    """``array``: the whole body is ``[[[...]]]``; ``object``: a network object whose
    ``remarks`` nest objects ``depth`` deep."""
    depth: int


NESTED: tuple[NestedRange, ...] = (
    # 2,000 bytes of brackets, as issue 12 reported them.
    NestedRange(network="212.58.10.0/24", registry="ripe", shape="array", depth=1_000),
    # A valid network object carrying 5,000 nested objects (30 KB).
    NestedRange(network="80.90.1.0/24", registry="ripe", shape="object", depth=5_000),
)


def nested_body(spec: NestedRange) -> bytes:
    """The hostile body of ``spec``, built as bytes (no JSON library could write it)."""
    if spec.shape == "array":
        return b"[" * spec.depth + b"]" * spec.depth
    net = ipaddress.ip_network(spec.network)
    head = json.dumps(
        {
            "objectClassName": "ip network",
            "handle": f"{net.network_address} - {net.broadcast_address}",
            "startAddress": str(net.network_address),
            "endAddress": str(net.broadcast_address),
            "ipVersion": f"v{net.version}",
            "name": "NESTED-LAB",
            "country": "NL",
        }
    ).encode()
    nest = b'{"remarks":' * spec.depth + b"[]" + b"}" * spec.depth
    return head[:-1] + b', "remarks": [' + nest + b"]}"


@dataclasses.dataclass(frozen=True)
class Held:
    """An object that holds an address: who holds it and the body to serve."""

    registry: str
    body: bytes
    first: int
    last: int
    origin: str
    """``recorded:<file>``, ``written:<file>``, ``generated`` or ``nested``."""


@dataclasses.dataclass(frozen=True)
class _Network:
    registry: str
    version: int
    first: int
    last: int
    body: bytes
    origin: str
    captured: date


def _address(text: str) -> _Address:
    value = text.strip().split("/", 1)[0]
    if ":" not in value:
        value = ".".join(str(int(p)) for p in value.split("."))
    return ipaddress.ip_address(value)


def _captured(text: str) -> date:
    text = text.strip()
    if not text:
        return date.min
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text).date()
    except (TypeError, ValueError):
        return date.min


class Catalogue:
    """Every object the lab can serve, indexed; read-only once built."""

    def __init__(
        self,
        recorded_dir: Path,
        *,
        bases: Mapping[str, str],
        generated: Sequence[GeneratedRange] = DEFAULT_GENERATED,
    ) -> None:
        self.bases = dict(bases)
        self.generated = tuple(generated)
        self._networks: list[_Network] = []
        self._entities: dict[tuple[str, str], bytes] = {}
        self._domains: dict[tuple[str, str], bytes] = {}
        self._autnums: list[tuple[str, int, int, bytes]] = []
        self._load_recorded(recorded_dir)
        self._load_written()

    # -- loading ---------------------------------------------------------------------

    def _load_recorded(self, folder: Path) -> None:
        captured: dict[str, date] = {}
        meta = folder / "CAPTURE-META.csv"
        if meta.exists():
            with meta.open(newline="", encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    captured[row["file"]] = _captured(row.get("captured", ""))
        files = sorted(folder.glob("*.json")) + sorted(folder.glob("lab-extra/*.json"))
        for file in files:
            raw = file.read_bytes()
            body = json.loads(raw)
            if not isinstance(body, dict):
                continue
            registry = file.name.split("-", 1)[0]
            when = captured.get(
                file.name, date(2025, 1, 1) if "lab-extra" in str(file) else date.min
            )
            self._index(registry, body, raw, f"recorded:{file.name}", when)

    def _load_written(self) -> None:
        for file in sorted(RESPONSES.glob("*.json")):
            if file.name == "domains.json":
                continue
            registry = file.name.split("-", 1)[0]
            raw = self._fill(file.read_bytes(), registry)
            self._index(registry, json.loads(raw), raw, f"written:{file.name}", date.max)
        self._load_domains()

    def _fill(self, raw: bytes, registry: str) -> bytes:
        return raw.replace(b"{base}", self.bases[registry].encode())

    def _index(
        self, registry: str, body: Mapping[str, Any], raw: bytes, origin: str, when: date
    ) -> None:
        klass = body.get("objectClassName")
        if klass == "ip network" or (klass is None and "startAddress" in body):
            first, last = _address(body["startAddress"]), _address(body["endAddress"])
            self._networks.append(
                _Network(registry, first.version, int(first), int(last), raw, origin, when)
            )
        elif klass == "entity" and isinstance(body.get("handle"), str):
            self._entities.setdefault((registry, body["handle"].upper()), raw)
        elif klass == "domain" and isinstance(body.get("ldhName"), str):
            self._domains[(registry, body["ldhName"].lower().rstrip("."))] = raw
        elif klass == "autnum" and body.get("startAutnum") is not None:
            low = int(body["startAutnum"])
            high = int(body.get("endAutnum") or low)
            self._autnums.append((registry, low, high, raw))

    def _load_domains(self) -> None:
        table = json.loads((RESPONSES / "domains.json").read_text(encoding="utf-8"))
        self.domain_registries: dict[str, str] = dict(table["registries"])
        for n, (name, who) in enumerate(sorted(table["domains"].items())):
            tld = name.rsplit(".", 1)[-1]
            registry = self.domain_registries[tld]
            registrar = table["registrars"][who]
            body = _domain_object(name, n, registrar, self.bases.get(registry, ""))
            self._domains[(registry, name)] = json.dumps(body, indent=1).encode()

    # -- look-ups ------------------------------------------------------------------------

    def network(self, address: _Address) -> Held | None:
        """The smallest object holding ``address`` (recorded or written), else generated."""
        for spec in NESTED:
            net = ipaddress.ip_network(spec.network)
            if address in net:
                first, last = int(net.network_address), int(net.broadcast_address)
                return Held(spec.registry, nested_body(spec), first, last, "nested")
        best: _Network | None = None
        number = int(address)
        for net in self._networks:
            if net.version != address.version or not net.first <= number <= net.last:
                continue
            if (
                best is None
                or net.last - net.first < best.last - best.first
                or (net.last - net.first == best.last - best.first and net.captured > best.captured)
            ):
                best = net
        if best is not None:
            return Held(best.registry, best.body, best.first, best.last, best.origin)
        for spec in self.generated:
            if spec.holds(address):
                return self._generated(spec, address)
        return None

    def _generated(self, spec: GeneratedRange, address: _Address) -> Held:
        net = ipaddress.ip_network(
            f"{address}/24" if address.version == 4 else f"{address}/48", strict=False
        )
        body = generated_network(spec, net, self.bases.get(spec.registry, ""))
        return Held(
            spec.registry,
            json.dumps(body, indent=1).encode(),
            int(net.network_address),
            int(net.broadcast_address),
            "generated",
        )

    def entity(self, registry: str, handle: str) -> bytes | None:
        """A recorded entity, or the abuse entity of a generated network."""
        found = self._entities.get((registry, handle.upper()))
        if found is not None:
            return found
        for spec in self.generated:
            if spec.registry != registry:
                continue
            net = _network_of_handle(spec, handle)
            if net is not None:
                body = _abuse_entity(spec, net, self.bases.get(registry, ""), inline=True)
                return json.dumps(body, indent=1).encode()
        return None

    def domain(self, registry: str, name: str) -> bytes | None:
        """A recorded domain object, or one built for the lab's domains."""
        return self._domains.get((registry, name.lower().rstrip(".")))

    def autnum(self, registry: str, number: int) -> bytes | None:
        """The recorded autnum object (block) of ``registry`` holding ``number``."""
        for holder, low, high, raw in self._autnums:
            if holder == registry and low <= number <= high:
                return raw
        return None

    def network_counts(self) -> dict[str, int]:
        """Indexed recorded and written networks per registry (for sanity checks)."""
        out: dict[str, int] = {}
        for net in self._networks:
            out[net.registry] = out.get(net.registry, 0) + 1
        return out

    def registries(self) -> Iterable[str]:
        """Registry names that hold something."""
        names = {n.registry for n in self._networks} | {r for r, _ in self._domains}
        return sorted(names | {r for r, _ in self._entities} | {s.registry for s in self.generated})


# -- object builders -------------------------------------------------------------------------


def _tag(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    if net.version == 4:
        return "-".join(str(net.network_address).split(".")[:3])
    return "V6-" + "-".join(net.network_address.exploded.split(":")[:3]).upper()


def _abuse_handle(spec: GeneratedRange, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    return f"AB{spec.label}-{_tag(net)}-{spec.registry.upper()}"


def _network_of_handle(
    spec: GeneratedRange, handle: str
) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    prefix = f"AB{spec.label}-"
    suffix = f"-{spec.registry.upper()}"
    upper = handle.upper()
    if not (upper.startswith(prefix) and upper.endswith(suffix)):
        return None
    tag = upper[len(prefix) : -len(suffix)]
    try:
        if tag.startswith("V6-"):
            net = ipaddress.ip_network(tag[3:].replace("-", ":") + "::/48")
        else:
            net = ipaddress.ip_network(tag.replace("-", ".") + ".0/24")
    except ValueError:
        return None
    return net if spec.holds(net.network_address) else None


def _abuse_entity(
    spec: GeneratedRange,
    net: ipaddress.IPv4Network | ipaddress.IPv6Network,
    base: str,
    *,
    inline: bool,
) -> dict[str, Any]:
    handle = _abuse_handle(spec, net)
    entity: dict[str, Any] = {
        "handle": handle,
        "roles": ["abuse"],
        "links": [
            {
                "value": f"{base}ip/{net.network_address}",
                "rel": "self",
                "href": f"{base}entity/{handle}",
                "type": "application/rdap+json",
            }
        ],
        "objectClassName": "entity",
    }
    if inline:
        entity["vcardArray"] = [
            "vcard",
            [
                ["version", {}, "text", "4.0"],
                ["fn", {}, "text", f"{spec.label.title()} Lab Abuse {_tag(net)}"],
                ["kind", {}, "text", "group"],
                [
                    "email",
                    {"type": "abuse"},
                    "text",
                    f"abuse-{_tag(net)}@{spec.label.lower()}-lab.net",
                ],
            ],
        ]
    return entity


def generated_network(
    spec: GeneratedRange, net: ipaddress.IPv4Network | ipaddress.IPv6Network, base: str
) -> dict[str, Any]:
    """A RIPE-shaped ``ip network`` object for one generated /24 (or /48)."""
    first, last = net.network_address, net.broadcast_address
    tag = _tag(net)
    cidr_key = "v4prefix" if net.version == 4 else "v6prefix"
    return {
        "handle": f"{first} - {last}",
        "startAddress": str(first),
        "endAddress": str(last),
        "ipVersion": f"v{net.version}",
        "name": f"{spec.label}-{tag}",
        "type": "ASSIGNED PA",
        "country": spec.country,
        "parentHandle": f"{spec.first} - {spec.last}",
        "cidr0_cidrs": [{cidr_key: str(first), "length": net.prefixlen}],
        "status": ["active"],
        "entities": [
            {
                "handle": f"ORG-{spec.label}{tag.replace('-', '')}-RIPE",
                "vcardArray": [
                    "vcard",
                    [
                        ["version", {}, "text", "4.0"],
                        ["fn", {}, "text", f"{spec.label.title()} Hosting {tag}"],
                        ["kind", {}, "text", "org"],
                    ],
                ],
                "roles": ["registrant"],
                "objectClassName": "entity",
            },
            _abuse_entity(spec, net, base, inline=not spec.abuse_by_link),
        ],
        "links": [
            {"value": f"{base}ip/{first}", "rel": "self", "href": f"{base}ip/{net}"},
        ],
        "events": [{"eventAction": "last changed", "eventDate": "2024-01-15T12:00:00Z"}],
        "rdapConformance": ["cidr0", "rdap_level_0", "nro_rdap_profile_0"],
        "notices": [
            {"title": "Filtered", "description": ["This output has been filtered."]},
            {"title": "Source", "description": ["Generated by the hostlocate RDAP lab"]},
        ],
        "objectClassName": "ip network",
    }


def _domain_object(name: str, n: int, registrar: Mapping[str, str], base: str) -> dict[str, Any]:
    """A gTLD-registry-shaped domain object (as Verisign's) for one of the lab's domains."""
    upper = name.upper()
    return {
        "objectClassName": "domain",
        "handle": f"{1000000 + n}_DOMAIN_LAB",
        "ldhName": upper,
        "links": [
            {
                "value": f"{base}domain/{upper}",
                "rel": "self",
                "href": f"{base}domain/{upper}",
                "type": "application/rdap+json",
            }
        ],
        "status": ["client delete prohibited", "client transfer prohibited"],
        "entities": [
            {
                "objectClassName": "entity",
                "handle": registrar["iana_id"],
                "roles": ["registrar"],
                "publicIds": [{"type": "IANA Registrar ID", "identifier": registrar["iana_id"]}],
                "vcardArray": [
                    "vcard",
                    [["version", {}, "text", "4.0"], ["fn", {}, "text", registrar["name"]]],
                ],
                "entities": [
                    {
                        "objectClassName": "entity",
                        "roles": ["abuse"],
                        "vcardArray": [
                            "vcard",
                            [
                                ["version", {}, "text", "4.0"],
                                ["fn", {}, "text", ""],
                                [
                                    "tel",
                                    {"type": "voice"},
                                    "uri",
                                    f"tel:{registrar['abuse_phone']}",
                                ],
                                ["email", {}, "text", registrar["abuse_email"]],
                            ],
                        ],
                    }
                ],
            }
        ],
        "events": [
            {"eventAction": "registration", "eventDate": "2019-03-04T10:00:00Z"},
            {"eventAction": "expiration", "eventDate": "2030-03-04T10:00:00Z"},
            {"eventAction": "last update of RDAP database", "eventDate": "2026-01-01T00:00:00Z"},
        ],
        "secureDNS": {"delegationSigned": False},
        "nameservers": [
            {"objectClassName": "nameserver", "ldhName": f"NS1.{upper}"},
            {"objectClassName": "nameserver", "ldhName": f"NS2.{upper}"},
        ],
        "rdapConformance": [
            "rdap_level_0",
            "icann_rdap_technical_implementation_guide_0",
            "icann_rdap_response_profile_0",
        ],
        "notices": [
            {
                "title": "Terms of Use",
                "description": ["Built by the hostlocate RDAP lab for the loopback test network."],
            }
        ],
    }
