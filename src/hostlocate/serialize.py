"""The single wire-format seam: verdicts to and from JSON."""

from __future__ import annotations

from typing import Any

import msgspec

from hostlocate.models import Verdict

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Verdict)


def to_dict(verdict: Verdict) -> dict[str, Any]:
    """Plain dicts, lists and scalars, as the JSON would hold them."""
    return verdict.to_dict()


def to_json(verdict: Verdict) -> bytes:
    """One verdict as compact JSON bytes (no trailing newline)."""
    return _encoder.encode(verdict)


def from_json(data: bytes | str) -> Verdict:
    """Read a verdict back, checking its shape."""
    return _decoder.decode(data)


def json_schema() -> dict[str, Any]:
    """JSON Schema of the verdict, generated from the model."""
    schema: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(msgspec.json.schema(Verdict)))
    return schema


def to_json_into(value: msgspec.Struct, buffer: bytearray, offset: int) -> None:
    """Encode a verdict (or another record of the wire format) into ``buffer`` at ``offset``.

    For writers of many records: no bytes object of its own is made and copied.
    """
    _encoder.encode_into(value, buffer, offset)
