"""Write data/rdap/ipv4.json and ipv6.json (RFC 9224 format) from IANA's address registries.

IANA's "IPv4 Address Space" and "IPv6 Global Unicast Address Assignments"
registries name, for each block, the RDAP service of the registry that holds
it; IANA's ``ipv4.json`` and ``ipv6.json`` bootstrap files are those same
columns. The PyPI package ``netaddr`` ships both registries as IANA's XML
(``netaddr/ip/ipv4-address-space.xml``, ``ipv6-unicast-address-assignments.xml``),
so the bundled snapshot is built from them: only ``https://`` services are kept,
blocks without a service (reserved, multicast, IANA's own) are left out, and the
``publication`` stamp is the registry's own ``updated`` date.

No package ships IANA's domain (``dns.json``) or ASN (``asn.json``) bootstrap,
so the bundled snapshot has none: domain registrar look-ups need
``hostlocate data update rdap_bootstrap`` or ``--rdap-bootstrap DIR``.

Refresh (from the repository root; needs ``pip install -e .[build-data]``)::

    pip index versions netaddr                     # the newest version
    pip install netaddr==VERSION
    python data/build_rdap_bootstrap.py VERSION    # build, verify, update MANIFEST.json

The output depends only on the two registry files, so the same netaddr version
always gives the same bytes.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
import xml.etree.ElementTree as ET
from importlib import metadata, resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import update_manifest

PACKAGE = "netaddr"
# IANA and the IETF Trust dedicate the Protocol Registries to the public domain
# (joint statement of 10 November 2021).
LICENCE = "CC0-1.0 (IANA Protocol Registries, https://www.iana.org/help/licensing-terms)"
NS = {"i": "http://www.iana.org/assignments"}
REGISTRIES = {
    "ipv4": ("ipv4-address-space.xml", "designation"),
    "ipv6": ("ipv6-unicast-address-assignments.xml", "description"),
}
# Holders that have not changed in decades; a build that gets them wrong is refused.
KNOWN = {
    "193.0.6.139": "https://rdap.db.ripe.net/",
    "8.8.8.8": "https://rdap.arin.net/registry/",
    "1.1.1.1": "https://rdap.apnic.net/",
    "200.160.2.3": "https://rdap.lacnic.net/rdap/",
    "196.216.2.1": "https://rdap.afrinic.net/rdap/",
    "2001:41d0::1": "https://rdap.db.ripe.net/",
    "2600::1": "https://rdap.arin.net/registry/",
}


def _prefix(kind: str, text: str) -> str:
    """IANA writes IPv4 blocks as ``003/8``; the bootstrap format wants ``3.0.0.0/8``."""
    if kind == "ipv4":
        first, length = text.split("/")
        return str(ipaddress.ip_network(f"{int(first)}.0.0.0/{length}"))
    return str(ipaddress.ip_network(text))


def build(kind: str, xml: bytes) -> dict[str, object]:
    """The bootstrap document for one registry: blocks grouped by their https services."""
    root = ET.fromstring(xml)
    updated = root.findtext("i:updated", namespaces=NS)
    if not updated:
        raise SystemExit(f"{kind}: the registry has no updated date")
    groups: dict[tuple[str, ...], list[str]] = {}
    for record in root.findall("i:record", NS):
        servers = [
            s.text.strip() if s.text.strip().endswith("/") else s.text.strip() + "/"
            for s in record.findall("i:rdap/i:server", NS)
            if s.text and s.text.strip().startswith("https://")
        ]
        if not servers:
            continue
        groups.setdefault(tuple(servers), []).append(
            _prefix(kind, record.findtext("i:prefix", "", NS).strip())
        )
    services = [
        [sorted(blocks, key=ipaddress.ip_network), list(urls)] for urls, blocks in groups.items()
    ]
    services.sort(key=lambda s: s[1])
    return {
        "description": f"RDAP bootstrap file for {'IPv4' if kind == 'ipv4' else 'IPv6'} address "
        "allocations, written from IANA's registry of that name",
        "publication": f"{updated}T00:00:00Z",
        "services": services,
        "version": "1.0",
    }


def check(documents: dict[str, dict[str, object]]) -> None:
    """Refuse a build that misses a long-standing holder."""
    for address, expected in KNOWN.items():
        ip = ipaddress.ip_address(address)
        doc = documents[f"ipv{ip.version}"]
        found = [
            urls
            for blocks, urls in doc["services"]  # type: ignore[attr-defined]
            if any(ip in ipaddress.ip_network(b) for b in blocks)
        ]
        if not found or expected not in found[0]:
            raise SystemExit(f"{address}: expected {expected}, the build gives {found}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", help=f"the installed {PACKAGE} version, e.g. 1.3.0")
    args = parser.parse_args(argv)
    installed = metadata.version(PACKAGE)
    if installed != args.version:
        raise SystemExit(f"{PACKAGE} {installed} is installed, not {args.version}")
    folder = resources.files(PACKAGE) / "ip"
    documents = {
        kind: build(kind, (folder / file).read_bytes()) for kind, (file, _) in REGISTRIES.items()
    }
    check(documents)
    # One data set, two files: both entries carry the set's date, the later registry's.
    stamp = max(str(doc["publication"]) for doc in documents.values())
    dates = ", ".join(f"{k} {str(d['publication'])[:10]}" for k, d in documents.items())
    for kind, doc in documents.items():
        relative = f"rdap/{kind}.json"
        target = update_manifest.DATA_DIR / relative
        target.parent.mkdir(exist_ok=True)
        target.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        file, _ = REGISTRIES[kind]
        update_manifest.record(
            relative,
            name="rdap_bootstrap",
            title=f"RDAP bootstrap for IP addresses (IANA registries of {dates}; "
            f"via {PACKAGE} {args.version})",
            source=f"PyPI package {PACKAGE} {args.version}, file {PACKAGE}/ip/{file} "
            "(IANA's XML), converted by data/build_rdap_bootstrap.py: https services only",
            upstream="IANA IPv4 Address Space and IPv6 Global Unicast Address Assignments "
            "registries (https://www.iana.org/assignments), their RDAP column",
            version=stamp[:10],
            build_date=stamp,
            licence=LICENCE,
            attribution="RDAP bootstrap registries published by IANA (https://www.iana.org)",
            refresh=f"pip install {PACKAGE}==VERSION; python data/build_rdap_bootstrap.py "
            "VERSION  (hostlocate data update rdap_bootstrap fetches IANA's current files)",
        )
        services = doc["services"]
        assert isinstance(services, list)
        print(f"wrote {target} ({len(services)} services, {dates})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
