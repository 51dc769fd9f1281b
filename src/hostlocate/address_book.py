"""Local facts about an address (special range, GeoIP, ASN, provider), kept per address.

Reading them costs two database look-ups and a range search; a batch meets the
same addresses again and again, so each is read once and kept in a bounded
LRU. The rules that turn the readings into facts (anycast) are the decision's.
"""

from __future__ import annotations

import collections

from hostlocate import decide
from hostlocate.ipclass import classify_ip
from hostlocate.models import AddressFacts
from hostlocate.providers import ProviderTable
from hostlocate.sources.base import GeoSource

__all__ = ["AddressBook"]


class AddressBook:
    """Local facts per address, read through a geolocation source and the provider table."""

    def __init__(self, geo: GeoSource, providers: ProviderTable, size: int = 131_072) -> None:
        self._geo = geo
        self._providers = providers
        self._size = size
        self._facts: collections.OrderedDict[str, AddressFacts] = collections.OrderedDict()

    def facts(self, ip: str) -> AddressFacts:
        """The address's local facts (read once, then kept)."""
        known = self._facts.get(ip)
        if known is not None:
            self._facts.move_to_end(ip)
            return known
        category = classify_ip(ip)
        if category is not None:
            found = decide.address_facts(ip, category=category)
        else:
            geo = self._geo.lookup(ip)
            provider = self._providers.by_address(ip, geo.asn)
            found = decide.address_facts(
                ip,
                category=None,
                geo=geo,
                provider=provider,
                provider_anycast=provider is not None
                and provider.id is not None
                and self._providers.is_anycast(provider.id),
            )
        self._facts[ip] = found
        if len(self._facts) > self._size:
            self._facts.popitem(last=False)
        return found
