"""Decoding one CDC column value by the table's column type, whatever converter produced it.

The column type decides what the value is; the Connect schema, when the message has one, only
settles what the value alone cannot say: the unit of an integer timestamp, whether a string is
base64 or decimal text. Reasons never echo the value: it may be personal data.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TypeGuard, TypeVar

from ..sources.tables import ColumnType, Kind

# Unchanged TOASTed values (REPLICA IDENTITY DEFAULT): as text, and as base64 for bytes columns.
UNAVAILABLE_VALUES = frozenset(
    {"__debezium_unavailable_value", "X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ=="}
)
DECIMAL = "org.apache.kafka.connect.data.Decimal"
VARIABLE_SCALE_DECIMAL = "io.debezium.data.VariableScaleDecimal"
_TIMESTAMP_UNITS = {
    "io.debezium.time.Timestamp": "ms",
    "org.apache.kafka.connect.data.Timestamp": "ms",
    "io.debezium.time.MicroTimestamp": "us",
    "io.debezium.time.NanoTimestamp": "ns",
}
_EPOCH = datetime(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()  # epoch days are signed: 1950 is -7238
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?"
)
_DECIMAL_TEXT = re.compile(r"[+-]?\d+(\.\d+)?")
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")

FieldSchema = Mapping[str, object]
_T = TypeVar("_T")


class InvalidValue(ValueError):
    """The value does not fit the column type; the message says why."""


def is_unavailable(value: object) -> bool:
    """Debezium's placeholder for a value it does not know (unchanged TOAST)."""
    return isinstance(value, str) and value in UNAVAILABLE_VALUES


def decode_value(column: ColumnType, value: object, field_schema: FieldSchema) -> object:
    """The Python value of a non-null column value: str, date, naive datetime or Decimal."""
    return _DECODERS[column.kind](column, value, field_schema)


def _text(column: ColumnType, value: object, _: FieldSchema) -> str:
    return _expect_str(value)


def _char(column: ColumnType, value: object, _: FieldSchema) -> str:
    text = _expect_str(value).rstrip(" ")
    if column.length is not None and len(text) > column.length:
        raise InvalidValue(f"longer than {column.length} characters")
    return text


def _enum(column: ColumnType, value: object, _: FieldSchema) -> str:
    label = _expect_str(value)
    if label not in column.allowed:
        raise InvalidValue(f"not one of {', '.join(sorted(column.allowed))}")
    return label


def _date(column: ColumnType, value: object, _: FieldSchema) -> date:
    if _is_int(value):
        try:
            return date.fromordinal(_EPOCH_ORDINAL + value)
        except (ValueError, OverflowError) as exc:
            raise InvalidValue("out of the calendar's range") from exc
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return _parse(date.fromisoformat, value)
    raise InvalidValue(f"expected epoch days or 'YYYY-MM-DD', got {_json_type(value)}")


def _timestamp(column: ColumnType, value: object, field_schema: FieldSchema) -> datetime:
    if _is_int(value):
        unit = _TIMESTAMP_UNITS.get(str(field_schema.get("name"))) or _guess_unit(value)
        return _after_epoch(_to_micros(value, unit))
    if isinstance(value, str) and _ISO_TIMESTAMP.fullmatch(value):
        return _wall_clock(_parse(datetime.fromisoformat, value))
    raise InvalidValue(f"expected an epoch integer or ISO date-time, got {_json_type(value)}")


def _guess_unit(value: int) -> str:
    """Schemaless: millis below 1e14 (micros that small are 1966-1973), nanos from 1e17."""
    magnitude = abs(value)
    return "ms" if magnitude < 10**14 else "us" if magnitude < 10**17 else "ns"


def _to_micros(value: int, unit: str) -> int:
    return value * 1000 if unit == "ms" else value // 1000 if unit == "ns" else value


def _wall_clock(moment: datetime) -> datetime:
    """TIMESTAMP is wall-clock time: 'Z' (Debezium's UTC reading of it) is dropped, not applied."""
    if moment.tzinfo is None:
        return moment
    if moment.utcoffset() != timedelta(0):
        raise InvalidValue("a TIMESTAMP column carries a time-zone offset; wall-clock expected")
    return moment.replace(tzinfo=None)


def _numeric(column: ColumnType, value: object, field_schema: FieldSchema) -> Decimal:
    if isinstance(value, Mapping):
        return _fit(_variable_scale(value), column)
    if _is_int(value):
        return _fit(Decimal(value), column)
    if isinstance(value, float):
        return _fit(Decimal(repr(value)), column)  # repr: the shortest round-trip form
    if isinstance(value, str):
        return _fit(_decimal_string(column, value, field_schema), column)
    raise InvalidValue(f"expected a decimal, got {_json_type(value)}")


def _decimal_string(column: ColumnType, value: str, field_schema: FieldSchema) -> Decimal:
    declared = field_schema.get("type")
    is_text = _DECIMAL_TEXT.fullmatch(value) is not None
    is_base64 = declared == "bytes" or (declared != "string" and _looks_base64(value))
    if is_base64 and is_text and declared is None:
        raise InvalidValue("ambiguous without a schema: base64 or decimal text")
    if is_base64:
        _check_schema_scale(column, field_schema)
        return Decimal(_unscaled(value)).scaleb(-(column.scale or 0))
    if is_text:
        return Decimal(value)
    raise InvalidValue("neither base64 nor decimal text")


def _looks_base64(value: str) -> bool:
    return bool(value) and _BASE64.fullmatch(value) is not None


def _check_schema_scale(column: ColumnType, field_schema: FieldSchema) -> None:
    parameters = field_schema.get("parameters")
    if not isinstance(parameters, Mapping) or "scale" not in parameters:
        return
    if str(parameters["scale"]) != str(column.scale):
        raise InvalidValue(
            f"schema says scale {parameters['scale']}, the table definition {column.scale}"
        )


def _variable_scale(struct: Mapping[str, object]) -> Decimal:
    scale, value = struct.get("scale"), struct.get("value")
    if not _is_int(scale) or not isinstance(value, str):
        raise InvalidValue("expected a VariableScaleDecimal {scale, value}")
    return Decimal(_unscaled(value)).scaleb(-scale)


def _unscaled(value: str) -> int:
    """Base64 of the unscaled value's big-endian two's complement."""
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise InvalidValue("not valid base64") from exc
    if not raw:
        raise InvalidValue("empty decimal")
    return int.from_bytes(raw, "big", signed=True)


def _fit(amount: Decimal, column: ColumnType) -> Decimal:
    """Quantize to the column's scale; refuse to drop digits or exceed the precision."""
    scale, precision = column.scale or 0, column.precision or 0
    try:
        fitted = amount.quantize(Decimal(1).scaleb(-scale))
    except InvalidOperation as exc:
        raise InvalidValue(f"does not fit {column}") from exc
    if fitted != amount:
        raise InvalidValue(f"more than {scale} decimal places")
    if precision and abs(fitted) >= Decimal(10) ** (precision - scale):
        raise InvalidValue(f"does not fit {column}")
    return fitted


def _after_epoch(microseconds: int) -> datetime:
    """Signed: negative values are before 1970."""
    try:
        return _EPOCH + timedelta(0, 0, microseconds)
    except OverflowError as exc:
        raise InvalidValue("out of the calendar's range") from exc


def _parse(parser: Callable[[str], _T], value: str) -> _T:
    try:
        return parser(value)
    except ValueError as exc:
        raise InvalidValue("not a calendar date or time") from exc


def _expect_str(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidValue(f"expected text, got {_json_type(value)}")
    return value


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_type(value: object) -> str:
    names = {bool: "boolean", int: "number", float: "number", str: "text", list: "array"}
    return "null" if value is None else names.get(type(value), "object")


_DECODERS: dict[Kind, Callable[[ColumnType, object, FieldSchema], object]] = {
    Kind.TEXT: _text,
    Kind.CHAR: _char,
    Kind.ENUM: _enum,
    Kind.DATE: _date,
    Kind.TIMESTAMP: _timestamp,
    Kind.NUMERIC: _numeric,
}
