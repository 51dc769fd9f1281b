"""Write an IANA-format RDAP bootstrap folder whose services are the lab's.

The IP and ASN files are IANA's real ones (read in place from
``<repo>/../shared/data/rdap-bootstrap/``) with each registry's service URLs
replaced by the lab's ``http://127.0.0.1:PORT/<rir>/``, so the lab routes
addresses exactly as the internet does, legacy space included (164.0.0.0/8
and 130.0.0.0/8 go to ARIN, which redirects OVH's and SWITCH's ranges to the
RIPE NCC). ``dns.json`` lists the top-level domains of the lab's names that
have an RDAP service in IANA's file, each pointing at the lab's registry for
it; ``de`` has none there, so it has none here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["RIRS", "write_bootstrap"]

RIRS = ("arin", "ripe", "apnic", "lacnic", "afrinic")

_DESCRIPTIONS = {
    "ipv4": "RDAP bootstrap file for IPv4 address allocations",
    "ipv6": "RDAP bootstrap file for IPv6 address allocations",
    "asn": "RDAP bootstrap file for Autonomous System Number allocations",
    "dns": "RDAP bootstrap file for Domain Name System registrations",
}


def _rir_of(url: str) -> str | None:
    labels = (urlsplit(url).hostname or "").lower().split(".")
    return next((rir for rir in RIRS if rir in labels), None)


def _rewrite(doc: Mapping[str, Any], base: str) -> list[list[list[str]]]:
    services = []
    for keys, urls in doc["services"]:
        rirs = {_rir_of(u) for u in urls} - {None}
        if len(rirs) == 1:
            services.append([list(keys), [f"{base}/{rirs.pop()}/"]])
    return services


def write_bootstrap(
    folder: Path,
    *,
    base: str,
    iana_dir: Path,
    domain_registries: Mapping[str, str],
) -> Path:
    """Write ipv4/ipv6/asn/dns.json into ``folder``; ``base`` is ``http://127.0.0.1:PORT``."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for kind in ("ipv4", "ipv6", "asn"):
        real = json.loads((iana_dir / f"{kind}.json").read_text(encoding="utf-8"))
        _write(folder / f"{kind}.json", kind, stamp, _rewrite(real, base))
    real_dns = json.loads((iana_dir / "dns.json").read_text(encoding="utf-8"))
    served = {tld for keys, _ in real_dns["services"] for tld in keys}
    by_registry: dict[str, list[str]] = {}
    for tld, registry in sorted(domain_registries.items()):
        if tld in served:
            by_registry.setdefault(registry, []).append(tld)
    dns = [[tlds, [f"{base}/{registry}/"]] for registry, tlds in sorted(by_registry.items())]
    _write(folder / "dns.json", "dns", stamp, dns)
    return folder


def _write(path: Path, kind: str, stamp: str, services: list[Any]) -> None:
    doc = {
        "description": f"{_DESCRIPTIONS[kind]} (hostlocate loopback test network)",
        "publication": stamp,
        "services": services,
        "version": "1.0",
    }
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
