"""Country names as registries write them (``United States``, ``CZECH REPUBLIC``) to ISO codes.

pycountry carries ISO 3166-1 with its short, common and official names (from
Debian's iso-codes, kept current by its maintainers) and looks a name up
without regard to case; it is asked only for a registrant's vCard country
that is not already a code, once per network a registry answers.
"""

from __future__ import annotations

import functools
import re

__all__ = ["COUNTRY_CODE", "country_code"]

COUNTRY_CODE = re.compile(r"[A-Za-z]{2}")
"""A two-letter code as written; :func:`country_code` upper-cases it."""


def country_code(text: str) -> str | None:
    """An ISO code from what a vCard writes: ``ZA``, ``South Africa``, ``UNITED STATES``."""
    text = text.strip()
    if COUNTRY_CODE.fullmatch(text):
        return text.upper()
    if len(text) > 80:
        return None
    return _by_name(" ".join(text.split()))


@functools.lru_cache(maxsize=1024)
def _by_name(name: str) -> str | None:
    import pycountry

    for candidate in (name, name[4:] if name.lower().startswith("the ") else None):
        if candidate:
            try:
                code: str = pycountry.countries.lookup(candidate).alpha_2
                return code
            except LookupError:
                continue
    return None
