"""A Debezium value as it arrives, typed: the envelope, its payload and the payload's source block.

Bytes are decoded straight into these structs (msgspec, in C): no dict per source block, no
type checks in Python. What does not fit the types (a float LSN, a payload that is an array)
is decoded as plain JSON instead and converted here, so the error names the field: the result is
the same whichever way the value came in. Row images stay dicts: their columns are the table's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import msgspec

from ..sources.tables import ChangeRejected

_SCHEMA_CACHE_SIZE = 256  # distinct Connect schemas: a few per table and connector version


class Source(msgspec.Struct):
    """The fields of Debezium's `source` block that ingest reads (the others are ignored)."""

    schema: str | None = None
    table: str | None = None
    lsn: int | None = None
    txId: int | None = None
    ts_ms: int | None = None
    snapshot: bool | str | None = None
    name: str | None = None


class Payload(msgspec.Struct):
    """A row change, or what else a feed carries: heartbeat, transaction marker, message."""

    op: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    source: Source | None = None
    status: Any = None  # transaction markers
    ts_ms: Any = None  # a heartbeat carries only this


class _Wire(Payload):
    """Either a payload itself or the envelope {"schema": …, "payload": …} around one."""

    schema: msgspec.Raw = msgspec.Raw()  # kept undecoded: kilobytes, the same in every item
    payload: Payload | msgspec.UnsetType | None = msgspec.UNSET


class DebeziumValue(NamedTuple):
    payload: Payload | None  # None: a tombstone
    schema: Mapping[str, object] | None  # the Connect schema, when the value has the envelope


_WIRE = msgspec.json.Decoder(_Wire | None)
_WIRES = msgspec.json.Decoder(list[_Wire | None])
_ANY = msgspec.json.Decoder()
_schemas: dict[bytes, object] = {}
_last_schema: tuple[msgspec.Raw, object] = (msgspec.Raw(), None)


def decode_value(raw: bytes) -> DebeziumValue | object:
    """One item: typed when it fits, else its plain JSON value (see value_of).

    Raises msgspec.DecodeError when it is not JSON.
    """
    try:
        return _typed(_WIRE.decode(raw))
    except (msgspec.ValidationError, ChangeRejected):
        return _ANY.decode(raw)


def decode_values(array: bytes) -> list[DebeziumValue] | None:
    """Every item of a JSON array, typed in one pass; None when any item does not fit.

    Raises msgspec.DecodeError when the text is not JSON, ValidationError when not an array.
    """
    try:
        wires = _WIRES.decode(array)
    except msgspec.ValidationError:
        if _ANY.decode(array).__class__ is list:  # an array after all: some item does not fit
            return None
        raise
    try:
        return [_typed(w) for w in wires]
    except ChangeRejected:
        return None


def value_of(item: object) -> DebeziumValue:
    """A value already decoded (or a plain JSON value) as typed; raises ChangeRejected."""
    if isinstance(item, DebeziumValue):
        return item
    if item is None:
        return DebeziumValue(None, None)
    if not isinstance(item, Mapping):
        raise ChangeRejected(None, "not a JSON object")
    if "payload" not in item or "schema" not in item:
        return DebeziumValue(_converted(item, ""), None)
    schema, payload = item["schema"], item["payload"]
    if schema is not None and not isinstance(schema, Mapping):
        raise ChangeRejected("schema", "not a JSON object")
    return DebeziumValue(None if payload is None else _converted(payload, "payload"), schema)


def _typed(wire: _Wire | None) -> DebeziumValue:
    if wire is None:
        return DebeziumValue(None, None)
    if wire.payload is msgspec.UNSET or not wire.schema:
        flat = Payload(wire.op, wire.before, wire.after, wire.source, wire.status, wire.ts_ms)
        return DebeziumValue(flat, None)
    schema = _schema(wire.schema)
    if schema is not None and not isinstance(schema, Mapping):
        raise ChangeRejected("schema", "not a JSON object")
    return DebeziumValue(wire.payload, schema)


def _converted(payload: object, name: str) -> Payload:
    if not isinstance(payload, Mapping):
        raise ChangeRejected(name or None, "not a JSON object")
    try:
        return msgspec.convert(payload, Payload)
    except msgspec.ValidationError as exc:
        raise _rejection(str(exc)) from exc


def _rejection(message: str) -> ChangeRejected:
    """msgspec's "Expected `int | null`, got `float` - at `$.source.lsn`" as the field and why."""
    expected, _, path = message.partition(" - at ")
    field = path.strip("`").removeprefix("$").lstrip(".") or None
    if "object" in expected:
        return ChangeRejected(field, "not a JSON object")
    return ChangeRejected(field, expected.replace("`", "").replace("Expected", "must be"))


def _schema(raw: msgspec.Raw) -> object:
    """The decoded Connect schema, shared by every item that carries the same text."""
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
