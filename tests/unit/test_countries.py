"""Country names as registries write them, read to ISO codes (through pycountry)."""

from __future__ import annotations

import pytest

from hostlocate.sources._countries import country_code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("za", "ZA"),
        ("United States", "US"),
        ("CZECH REPUBLIC", "CZ"),
        ("Korea, Republic of", "KR"),
        ("the Netherlands", "NL"),
        ("the State of Eritrea", "ER"),
        ("  United   Kingdom ", "GB"),
        ("Atlantis", None),
        ("x" * 200, None),
    ],
)
def test_country_names_become_codes(text: str, code: str | None) -> None:
    assert country_code(text) == code
