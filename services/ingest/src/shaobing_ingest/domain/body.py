"""Splitting a posted body into items: one JSON value, a JSON array, or NDJSON lines.

Debezium repeats the whole Connect schema (kilobytes) in every item of the schema envelope, so an
item is decoded in two steps: the envelope's `schema` is kept as raw bytes and decoded once per
distinct schema (the decoded value is shared), only the small `payload` is decoded per item.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import msgspec

_SCHEMA_CACHE_SIZE = 256  # distinct Connect schemas: a few per table and connector version


class UnparseableBody(ValueError):
    """The body as a whole is not JSON, a JSON array or NDJSON; the message says why."""


@dataclass(slots=True)  # one per item: a frozen dataclass's __init__ costs 4x
class BodyItem:
    index: int
    raw: bytes  # this item's own text, kept for dead letters
    value: object = None
    error: str | None = None  # set when this one item is not JSON


class _Envelope(msgspec.Struct):
    schema: msgspec.Raw = msgspec.Raw()  # empty: the key is absent
    payload: msgspec.Raw = msgspec.Raw()


_ITEMS = msgspec.json.Decoder(list[msgspec.Raw])
_ENVELOPE = msgspec.json.Decoder(_Envelope)
_ANY = msgspec.json.Decoder()
_schemas: dict[bytes, object] = {}
_last_schema: tuple[msgspec.Raw, object] = (msgspec.Raw(), None)


def decode_item(raw: bytes) -> object:
    """One item's JSON value; raises msgspec.DecodeError when it is not JSON.

    An envelope comes back as {"schema": …, "payload": …} with the schema shared between items.
    """
    if b'"payload"' not in raw:  # no envelope: one decode, not two
        return _ANY.decode(raw)
    try:
        envelope = _ENVELOPE.decode(raw)
    except msgspec.ValidationError:  # not an object, or not shaped like an envelope
        return _ANY.decode(raw)
    if not envelope.schema or not envelope.payload:
        return _ANY.decode(raw)
    return {"schema": _schema(envelope.schema), "payload": _ANY.decode(envelope.payload)}


def _schema(raw: msgspec.Raw) -> object:
    global _last_schema
    if raw == _last_schema[0]:  # the common case: the same schema as the item before
        return _last_schema[1]
    key = bytes(raw)
    schema = _schemas.get(key)
    if schema is None:
        if len(_schemas) >= _SCHEMA_CACHE_SIZE:
            _schemas.clear()
        schema = _schemas[key] = _ANY.decode(raw)
    _last_schema = (raw, schema)
    return schema


def item_of(index: int, raw: bytes, error_prefix: str) -> BodyItem:
    """An item whose error, if it is not JSON, starts with `error_prefix`."""
    try:
        return BodyItem(index, raw, decode_item(raw))
    except msgspec.DecodeError as exc:
        return BodyItem(index, raw, error=f"{error_prefix} is not JSON: {exc}")


def split_body(body: bytes) -> list[BodyItem]:
    """Items of the body in order; a bad NDJSON line is an item with an error, not a failure."""
    if not body.strip():
        raise UnparseableBody("body is empty")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnparseableBody(f"body is not UTF-8 (byte {exc.start})") from exc
    try:
        raws = _ITEMS.decode(body)
    except msgspec.ValidationError:  # not an array: one value, or NDJSON
        return _single(body)
    except msgspec.DecodeError:
        return _array_with_bad_text(body) or _ndjson(body)
    return [item_of(i, bytes(raw), f"item {i}") for i, raw in enumerate(raws)]


def _array_with_bad_text(body: bytes) -> list[BodyItem] | None:
    """A JSON array that only a lenient parser reads: items with an unpaired surrogate escape
    (\\ud800), which is no Unicode text, are bad items; the others go through as usual."""
    try:
        values = json.loads(body)
    except ValueError:
        return None
    if not isinstance(values, list):
        return None
    return [_lenient_item(i, value) for i, value in enumerate(values)]


def _lenient_item(index: int, value: object) -> BodyItem:
    try:
        raw = json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raw = json.dumps(value).encode()
        return BodyItem(
            index, raw, error=f"item {index} holds text that is not Unicode (an unpaired surrogate)"
        )
    return item_of(index, raw, f"item {index}")


def _single(body: bytes) -> list[BodyItem]:
    try:
        value = decode_item(body)
    except msgspec.DecodeError:
        return _ndjson(body)
    if isinstance(value, dict) or value is None:
        return [BodyItem(0, body, value)]
    raise UnparseableBody("body must be a JSON object, a JSON array or NDJSON")


def _ndjson(body: bytes) -> list[BodyItem]:
    lines = [line for line in body.splitlines() if line.strip()]
    items = [item_of(i, line, f"line {i + 1}") for i, line in enumerate(lines)]
    if len(lines) < 2 or all(item.error for item in items):
        raise UnparseableBody(f"body is neither JSON nor NDJSON: {items[0].error}")
    return items
