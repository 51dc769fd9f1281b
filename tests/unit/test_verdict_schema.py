"""The verdict's wire format: the committed JSON Schema and the JSON round trip."""

from __future__ import annotations

import json
from pathlib import Path

from hostlocate import serialize
from hostlocate.models import (
    AddressFacts,
    Candidate,
    DNSResult,
    ErrorInfo,
    Jurisdiction,
    Network,
    Provenance,
    Routing,
    SourceInfo,
    Verdict,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_committed_schema_matches_the_model() -> None:
    committed = json.loads((DOCS / "verdict.schema.json").read_text())
    assert committed == serialize.json_schema(), (
        "the verdict model changed: regenerate with `hostlocate schema > docs/verdict.schema.json`"
    )


def _sample() -> Verdict:
    return Verdict(
        input="hxxp://a[.]fr",
        status="located",
        dns=DNSResult(cname_chain=("a.fr",), addresses=("192.0.2.1",), rcode="NOERROR", min_ttl=60),
        addresses=(
            AddressFacts(
                ip="192.0.2.1",
                version=4,
                public=True,
                country="FR",
                asn=16276,
                network=Network(cidr="192.0.2.0/24", rir="ripe", country="FR"),
                abuse_emails=("abuse@ovh.net",),
            ),
        ),
        jurisdiction=Jurisdiction(
            country="FR",
            confidence="high",
            basis="geoip",
            candidates=(Candidate(country="FR", addresses=1),),
        ),
        routing=Routing(),
        provenance=Provenance(
            version="0.1.0",
            resolved_at="2026-11-28T09:00:00.000Z",
            elapsed_ms=1.5,
            sources={"geoip_country": SourceInfo(name="DB-IP", build_date="2026-06-01")},
        ),
    )


def test_json_round_trip_and_contract_keys() -> None:
    v = _sample()
    again = serialize.from_json(v.to_json())
    assert again == v
    d = v.to_dict()
    for key in (
        "schema",
        "input",
        "status",
        "error",
        "url",
        "dns",
        "addresses",
        "jurisdiction",
        "routing",
        "provenance",
    ):
        assert key in d
    assert d["schema"] == "hostlocate.verdict/2"
    assert d["addresses"][0]["network"]["rir"] == "ripe"
    assert json.loads(v.to_json()) == d


def test_invalid_verdict_shape() -> None:
    v = Verdict(input="", status="invalid", error=ErrorInfo(code="empty_input", message="empty"))
    d = v.to_dict()
    assert d["url"] is None and d["error"]["code"] == "empty_input"
    assert d["jurisdiction"]["confidence"] == "none" and d["jurisdiction"]["flags"] == []
