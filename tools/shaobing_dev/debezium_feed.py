"""Row changes of the four upstream tables as Debezium 2.7 PostgreSQL change events (Kafka Connect
JsonConverter): DATE as signed epoch days, TIMESTAMP as micros, NUMERIC as base64 of the unscaled
value (decimal.handling.mode=precise; without the schema ingest takes the scale from the table)."""

from __future__ import annotations

import base64
import functools
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from shaobing_dev.city import DeathRecord
from shaobing_ingest.domain.sources.tables import TABLES, Kind, TableDef

VERSION = "2.7.3.Final"
TOPIC_PREFIX = "civil"  # Debezium's topic.prefix: source.name and the schema names start with it
DATABASE, SCHEMA, TABLE = "death_registry", "death", "registrations"
DEATHS = f"{SCHEMA}.{TABLE}"
ALLOWED_SOURCES = "MEDICAL,CREMATION,POLICE,COURT"
DATABASES = {
    "death": DATABASE,
    "hukou": "hukou_registry",
    "marriage": "marriage_registry",
    "social_security": "social_security",
}
# Enum labels in the order PostgreSQL declares them (the table definitions keep sets).
ENUM_LABELS = {
    "source": ALLOWED_SOURCES,
    "status": "ACTIVE,MOVED_OUT,DECEASED,CANCELLED",
    "kind": "MARRIAGE,DIVORCE,REMARRIAGE,ANNULMENT",
    "pension_status": "NONE,RECEIVING,SUSPENDED,TERMINATED",
    "employment_status": "UNEMPLOYED,EMPLOYED,SELF_EMPLOYED",
}
NULLABLE = frozenset({"employer_uscc"})
# recorded_at is the registry's wall clock in Asia/Shanghai; source.ts_ms is real UTC epoch millis.
REGISTRY_UTC_OFFSET = timedelta(hours=8)

_EPOCH_DAY = date(1970, 1, 1)
_EPOCH = datetime(1970, 1, 1)
_LSN_STEP = 224  # bytes of WAL per one-row transaction (insert record + commit record)


def epoch_days(day: date) -> int:
    """DATE as Debezium sends it: signed days since 1970-01-01 (negative before 1970)."""
    return (day - _EPOCH_DAY).days


def epoch_micros(moment: datetime) -> int:
    """TIMESTAMP as Debezium sends it: micros of the wall-clock value read as UTC, never shifted."""
    if moment.tzinfo is not None:
        raise ValueError("TIMESTAMP columns hold naive wall-clock values")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def decimal_bytes(amount: Decimal, scale: int) -> str:
    """NUMERIC as Debezium's precise mode sends it: base64 of the big-endian unscaled value.

    An encoding made of digits only would read as decimal text without a schema: one more
    sign byte (still the same two's-complement value) makes it unambiguous.
    """
    unscaled = int(amount.scaleb(scale))
    size = unscaled.bit_length() // 8 + 1
    text = base64.b64encode(unscaled.to_bytes(size, "big", signed=True)).decode()
    if text.isdigit():
        text = base64.b64encode(unscaled.to_bytes(size + 1, "big", signed=True)).decode()
    return text


def encode_row(table: TableDef, row: Mapping[str, Any]) -> dict[str, Any]:
    """Python values (date, naive datetime, Decimal, str, None) as Debezium's JSON values."""
    encoded: dict[str, Any] = {}
    for column, value in row.items():
        kind = table.columns[column]
        if value is None:
            encoded[column] = None
        elif kind.kind is Kind.DATE:
            encoded[column] = epoch_days(value)
        elif kind.kind is Kind.TIMESTAMP:
            encoded[column] = epoch_micros(value)
        elif kind.kind is Kind.NUMERIC:
            encoded[column] = decimal_bytes(value, kind.scale or 0)
        else:
            encoded[column] = str(value)
    return encoded


def _placeholders(table: TableDef, key: Mapping[str, Any]) -> dict[str, Any]:
    """A delete's before image under REPLICA IDENTITY DEFAULT: the key, then "" and 0."""
    zero = {Kind.DATE: 0, Kind.TIMESTAMP: 0, Kind.NUMERIC: "AA=="}
    image = {c: zero.get(t.kind, "") for c, t in table.columns.items()}
    return image | encode_row(table, {c: key[c] for c in table.primary_key})


def death_row(record: DeathRecord) -> dict[str, Any]:
    return {
        "certificate_no": record.certificate_no,
        "id_number": record.id_number,
        "date_of_death": record.date_of_death,
        "source": str(record.source),
        "recorded_at": record.recorded_at,
    }


def _source(
    committed_at: datetime,
    lsn: int,
    last_commit_lsn: int,
    table: str = DEATHS,
    snapshot: str = "false",
) -> dict[str, Any]:
    schema, name = table.split(".")
    micros = epoch_micros(committed_at - REGISTRY_UTC_OFFSET)
    return {
        "version": VERSION,
        "connector": "postgresql",
        "name": TOPIC_PREFIX,
        "ts_ms": micros // 1000,
        "snapshot": snapshot,
        "db": DATABASES[schema],
        "sequence": f'["{last_commit_lsn}","{lsn}"]',
        "ts_us": micros,
        "ts_ns": micros * 1000,
        "schema": schema,
        "table": name,
        "txId": lsn // _LSN_STEP,
        "lsn": lsn,
        "xmin": None,
    }


def _payload(
    before: Any, after: Any, op: str, source: dict[str, Any], lag_us: int
) -> dict[str, Any]:
    processed_us = source["ts_us"] + lag_us
    return {
        "before": before,
        "after": after,
        "source": source,
        "transaction": None,
        "op": op,
        "ts_ms": processed_us // 1000,
        "ts_us": processed_us,
        "ts_ns": processed_us * 1000 + lag_us % 1000,
    }


def _field(kind: str, field: str, *, optional: bool = False, **named: Any) -> dict[str, Any]:
    return {"type": kind, "optional": optional, **named, "field": field}


def _logical(kind: str, field: str, name: str, **extra: Any) -> dict[str, Any]:
    return _field(kind, field, name=name, version=1, **extra)


def _enum(field: str, allowed: str, *, optional: bool = False, **extra: Any) -> dict[str, Any]:
    enum = {"name": "io.debezium.data.Enum", "version": 1, "parameters": {"allowed": allowed}}
    return _field("string", field, optional=optional, **enum, **extra)


def _column_schema(table: TableDef, column: str) -> dict[str, Any]:
    kind, optional = table.columns[column], column in NULLABLE
    if kind.kind is Kind.DATE:
        return _logical("int32", column, "io.debezium.time.Date", optional=optional)
    if kind.kind is Kind.TIMESTAMP:
        return _logical("int64", column, "io.debezium.time.MicroTimestamp", optional=optional)
    if kind.kind is Kind.ENUM:
        return _enum(column, ENUM_LABELS[column], optional=optional)
    if kind.kind is Kind.NUMERIC:
        scale = {"scale": str(kind.scale), "connect.decimal.precision": str(kind.precision)}
        decimal = "org.apache.kafka.connect.data.Decimal"
        return _logical("bytes", column, decimal, optional=optional, parameters=scale)
    return _field("string", column, optional=optional)


def _value_schema(field: str, table: str = DEATHS) -> dict[str, Any]:
    definition = TABLES[table]
    fields = [_column_schema(definition, column) for column in definition.columns]
    name = f"{TOPIC_PREFIX}.{table}.Value"
    return {"type": "struct", "fields": fields, "optional": True, "name": name, "field": field}


def _source_schema() -> dict[str, Any]:
    fields = [
        _field("string", "version"),
        _field("string", "connector"),
        _field("string", "name"),
        _field("int64", "ts_ms"),
        _enum("snapshot", "true,last,false,incremental", optional=True, default="false"),
        _field("string", "db"),
        _field("string", "sequence", optional=True),
        _field("int64", "ts_us", optional=True),
        _field("int64", "ts_ns", optional=True),
        _field("string", "schema"),
        _field("string", "table"),
        _field("int64", "txId", optional=True),
        _field("int64", "lsn", optional=True),
        _field("int64", "xmin", optional=True),
    ]
    name = "io.debezium.connector.postgresql.Source"
    return {"type": "struct", "fields": fields, "optional": False, "name": name, "field": "source"}


def _block_schema() -> dict[str, Any]:
    fields = [
        _field("string", "id"),
        _field("int64", "total_order"),
        _field("int64", "data_collection_order"),
    ]
    return {
        "type": "struct",
        "fields": fields,
        "optional": True,
        "name": "event.block",
        "version": 1,
        "field": "transaction",
    }


def envelope_schema(table: str = DEATHS) -> dict[str, Any]:
    """The Kafka Connect schema of a change event of `table`, as Debezium 2.7 writes it."""
    fields = [
        _value_schema("before", table),
        _value_schema("after", table),
        _source_schema(),
        _block_schema(),
        _field("string", "op"),
        *(_field("int64", name, optional=True) for name in ("ts_ms", "ts_us", "ts_ns")),
    ]
    name = f"{TOPIC_PREFIX}.{table}.Envelope"
    return {"type": "struct", "fields": fields, "optional": False, "name": name, "version": 2}


def _wrap(payload: dict[str, Any], schema: dict[str, Any] | None) -> dict[str, Any]:
    return payload if schema is None else {"schema": schema, "payload": payload}


@functools.cache
def _shared_schema(table: str) -> dict[str, Any]:
    return envelope_schema(table)  # one shared dict per table: do not mutate it


def change_event(
    table: str,
    op: str,
    row: Mapping[str, Any],
    *,
    before: Mapping[str, Any] | None = None,
    lsn: int,
    with_schema: bool,
    committed_at: datetime,
    last_commit_lsn: int | None = None,
    lag_us: int = 150_000,
) -> dict[str, Any]:
    """One change event of `table`; `row` holds Python values (for a delete: at least the key).

    A delete's before image is the key plus placeholders (REPLICA IDENTITY DEFAULT); an update's
    before is null unless given. Snapshot reads (op "r") are marked as such in the source block.
    """
    definition = TABLES[table]
    if op == "d":
        old, new = _placeholders(definition, row), None
    else:
        old = None if before is None else encode_row(definition, before)
        new = encode_row(definition, row)
    snapshot = "true" if op == "r" else "false"
    previous = lsn - 56 if last_commit_lsn is None else last_commit_lsn
    source = _source(committed_at, lsn, previous, table, snapshot)
    payload = _payload(old, new, op, source, lag_us)
    return _wrap(payload, _shared_schema(table) if with_schema else None)


def death_change_events(
    deaths: Iterable[DeathRecord], *, with_schema: bool, start_lsn: int = 10_000_000
) -> list[dict[str, Any]]:
    """One create event (op "c") per registration, each its own transaction, LSNs increasing."""
    events, lsn = [], start_lsn
    for i, record in enumerate(deaths):
        committed_at = record.recorded_at + timedelta(microseconds=800 + 137 * (i % 7))
        event = change_event(
            DEATHS,
            "c",
            death_row(record),
            lsn=lsn,
            with_schema=with_schema,
            committed_at=committed_at,
            lag_us=150_000 + 37_013 * (i % 11),
        )
        events.append(event)
        lsn += _LSN_STEP + 8 * (i % 3)
    return events


def death_delete_event(
    record: DeathRecord, lsn: int, *, deleted_at: datetime | None = None, with_schema: bool = False
) -> dict[str, Any]:
    """A delete (op "d") under REPLICA IDENTITY DEFAULT: the key plus placeholders."""
    when = deleted_at or record.recorded_at + timedelta(days=1)
    row = {"certificate_no": record.certificate_no}
    return change_event(
        DEATHS, "d", row, lsn=lsn, with_schema=with_schema, committed_at=when, lag_us=210_000
    )
