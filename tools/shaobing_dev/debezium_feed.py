"""Death registrations as Debezium 2.7 PostgreSQL change events (Kafka Connect JsonConverter)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from shaobing_dev.city import DeathRecord

VERSION = "2.7.3.Final"
TOPIC_PREFIX = "civil"  # Debezium's topic.prefix: source.name and the schema names start with it
DATABASE, SCHEMA, TABLE = "death_registry", "death", "registrations"
ALLOWED_SOURCES = "MEDICAL,CREMATION,POLICE,COURT"
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


def _row(record: DeathRecord) -> dict[str, Any]:
    return {
        "certificate_no": record.certificate_no,
        "id_number": record.id_number,
        "date_of_death": epoch_days(record.date_of_death),
        "source": str(record.source),
        "recorded_at": epoch_micros(record.recorded_at),
    }


def _source(committed_at: datetime, lsn: int, last_commit_lsn: int) -> dict[str, Any]:
    micros = epoch_micros(committed_at - REGISTRY_UTC_OFFSET)
    return {
        "version": VERSION,
        "connector": "postgresql",
        "name": TOPIC_PREFIX,
        "ts_ms": micros // 1000,
        "snapshot": "false",
        "db": DATABASE,
        "sequence": f'["{last_commit_lsn}","{lsn}"]',
        "ts_us": micros,
        "ts_ns": micros * 1000,
        "schema": SCHEMA,
        "table": TABLE,
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


def _enum(field: str, allowed: str, **extra: Any) -> dict[str, Any]:
    enum = {"name": "io.debezium.data.Enum", "version": 1, "parameters": {"allowed": allowed}}
    return _field("string", field, **enum, **extra)


def _value_schema(field: str) -> dict[str, Any]:
    fields = [
        _field("string", "certificate_no"),
        _field("string", "id_number"),
        _logical("int32", "date_of_death", "io.debezium.time.Date"),
        _enum("source", ALLOWED_SOURCES),
        _logical("int64", "recorded_at", "io.debezium.time.MicroTimestamp"),
    ]
    name = f"{TOPIC_PREFIX}.{SCHEMA}.{TABLE}.Value"
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


def envelope_schema() -> dict[str, Any]:
    """The Kafka Connect schema of a death.registrations change event, as Debezium 2.7 writes it."""
    fields = [
        _value_schema("before"),
        _value_schema("after"),
        _source_schema(),
        _block_schema(),
        _field("string", "op"),
        *(_field("int64", name, optional=True) for name in ("ts_ms", "ts_us", "ts_ns")),
    ]
    name = f"{TOPIC_PREFIX}.{SCHEMA}.{TABLE}.Envelope"
    return {"type": "struct", "fields": fields, "optional": False, "name": name, "version": 2}


def _wrap(payload: dict[str, Any], schema: dict[str, Any] | None) -> dict[str, Any]:
    return payload if schema is None else {"schema": schema, "payload": payload}


def death_change_events(
    deaths: Iterable[DeathRecord], *, with_schema: bool, start_lsn: int = 10_000_000
) -> list[dict[str, Any]]:
    """One create event (op "c") per registration, each its own transaction, LSNs increasing."""
    schema = envelope_schema() if with_schema else None  # one shared dict: do not mutate it
    events, lsn = [], start_lsn
    for i, record in enumerate(deaths):
        committed_at = record.recorded_at + timedelta(microseconds=800 + 137 * (i % 7))
        source = _source(committed_at, lsn, last_commit_lsn=lsn - 56)
        payload = _payload(None, _row(record), "c", source, lag_us=150_000 + 37_013 * (i % 11))
        events.append(_wrap(payload, schema))
        lsn += _LSN_STEP + 8 * (i % 3)
    return events


def death_delete_event(
    record: DeathRecord, lsn: int, *, deleted_at: datetime | None = None, with_schema: bool = False
) -> dict[str, Any]:
    """A delete (op "d") under REPLICA IDENTITY DEFAULT: the key plus placeholders."""
    before = {"certificate_no": record.certificate_no, "id_number": "", "date_of_death": 0}
    before |= {"source": "", "recorded_at": 0}
    when = deleted_at or record.recorded_at + timedelta(days=1)
    payload = _payload(before, None, "d", _source(when, lsn, last_commit_lsn=lsn - 56), 210_000)
    return _wrap(payload, envelope_schema() if with_schema else None)
