"""Which registry a record, an e-mail or a service URL belongs to.

The regional registries and APNIC's national ones, known by their mail and
service domains and the words of their handles, so the notice contacts can
put a registry's own hostmaster after the holder's desks, and budgets and
statistics can key a service URL by a short registry name.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple
from urllib.parse import urlsplit

__all__ = ["RIRS", "registry_for_url"]

RIRS = ("arin", "ripe", "apnic", "lacnic", "afrinic")
"""The five regional Internet registries, by the label their services carry."""

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
_REGIONAL = tuple(_Registry(name.upper(), None, (f"{name}.net",), frozenset()) for name in RIRS)
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
    for rir in RIRS:
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
