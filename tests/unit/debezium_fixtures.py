"""Debezium items for the upstream tables, in the shape of the real samples (06 and 07).

Lower-case Connect types, schema names on dates, timestamps, decimals and enums, a 2.7-style
source block. The real samples are read from ../shared/debezium-samples, never copied.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import orjson

from shaobing_contracts.id_number import make_id_number
from shaobing_contracts.provenance import Channel, SourceSystem
from shaobing_ingest.domain.cdc.changes import RowChange, parse_change

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "debezium-samples"

PERSON = make_id_number("110105", date(1950, 3, 9), 2)  # born before 1970: negative epoch days
OTHER_PERSON = make_id_number("310104", date(1962, 11, 30), 15)
DEATH_DAY = 20300  # 2025-07-31
RECORDED_AT_MICROS = 1754004600000000  # 2025-07-31 23:30:00 wall clock
TS_MS = 1754004601234  # source.ts_ms: 2025-07-31 23:30:01.234 UTC
SNAPSHOT_LSN = 26863936

_DATE = {"type": "int32", "name": "io.debezium.time.Date", "version": 1}
_MICRO_TIMESTAMP = {"type": "int64", "name": "io.debezium.time.MicroTimestamp", "version": 1}


def _text(field: str, optional: bool = False) -> dict:
    return {"type": "string", "optional": optional, "field": field}


def _enum(field: str, allowed: str) -> dict:
    base = {"type": "string", "name": "io.debezium.data.Enum", "version": 1}
    return _typed(field, base | {"parameters": {"allowed": allowed}})


def _decimal(field: str, precision: int = 12, scale: int = 2) -> dict:
    base = {"type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1}
    parameters = {"scale": str(scale), "connect.decimal.precision": str(precision)}
    return _typed(field, base | {"parameters": parameters})


def _typed(field: str, base: dict, optional: bool = False) -> dict:
    return base | {"optional": optional, "field": field}


DEATH_FIELDS = [
    _text("certificate_no"),
    _text("id_number"),
    _typed("date_of_death", _DATE),
    _enum("source", "MEDICAL,CREMATION,POLICE,COURT"),
    _typed("recorded_at", _MICRO_TIMESTAMP),
]
HUKOU_FIELDS = [
    _text("id_number"),
    _text("name"),
    _text("gender"),
    _typed("birth_date", _DATE),
    _text("household_no"),
    _text("relation_to_head"),
    _text("area_code"),
    _text("address", optional=True),
    _enum("status", "ACTIVE,MOVED_OUT,DECEASED,CANCELLED"),
    _typed("updated_at", _MICRO_TIMESTAMP),
]
SOCIAL_SECURITY_FIELDS = [
    _text("id_number"),
    _enum("pension_status", "NONE,RECEIVING,SUSPENDED,TERMINATED"),
    _decimal("pension_monthly_amount"),
    _enum("employment_status", "UNEMPLOYED,EMPLOYED,SELF_EMPLOYED"),
    _text("employer_uscc", optional=True),
    _decimal("contribution_base"),
    _decimal("unemployment_benefit"),
    _typed("updated_at", _MICRO_TIMESTAMP),
]
MARRIAGE_FIELDS = [
    _text("registration_no"),
    _enum("kind", "MARRIAGE,DIVORCE,REMARRIAGE,ANNULMENT"),
    _text("party_a_id"),
    _text("party_b_id"),
    _typed("registered_on", _DATE),
    _text("office_code"),
]
FIELDS = {
    "death.registrations": DEATH_FIELDS,
    "hukou.population": HUKOU_FIELDS,
    "marriage.registrations": MARRIAGE_FIELDS,
    "social_security.person_status": SOCIAL_SECURITY_FIELDS,
}


def death_row(**changes: object) -> dict:
    """A death.registrations row as Debezium puts it on the wire."""
    row = {
        "certificate_no": "D110105-2025-000123",
        "id_number": PERSON,
        "date_of_death": DEATH_DAY,
        "source": "MEDICAL",
        "recorded_at": RECORDED_AT_MICROS,
    }
    return row | changes


def death_delete_before(certificate_no: str = "D110105-2025-000123") -> dict:
    """REPLICA IDENTITY DEFAULT: the key, and placeholders for the NOT NULL columns."""
    placeholders = {"id_number": "", "date_of_death": 0, "source": "", "recorded_at": 0}
    return {"certificate_no": certificate_no} | placeholders


def hukou_row(**changes: object) -> dict:
    row = {
        "id_number": PERSON,
        "name": "张三",
        "gender": "1",
        "birth_date": -7238,
        "household_no": "H0001",
        "relation_to_head": "户主",
        "area_code": "110105001002",
        "address": "北京市朝阳区",
        "status": "ACTIVE",
        "updated_at": RECORDED_AT_MICROS,
    }
    return row | changes


def social_security_row(**changes: object) -> dict:
    row = {
        "id_number": PERSON,
        "pension_status": "RECEIVING",
        "pension_monthly_amount": "BOIA",
        "employment_status": "UNEMPLOYED",
        "employer_uscc": None,
        "contribution_base": "AA==",
        "unemployment_benefit": "AA==",
        "updated_at": RECORDED_AT_MICROS,
    }
    return row | changes


def marriage_row(**changes: object) -> dict:
    row = {
        "registration_no": "J110105-2025-000456",
        "kind": "MARRIAGE",
        "party_a_id": PERSON,
        "party_b_id": OTHER_PERSON,
        "registered_on": DEATH_DAY,
        "office_code": "110105000000",
    }
    return row | changes


def delete_before(table: str, **key: object) -> dict:
    """REPLICA IDENTITY DEFAULT: the key, placeholders ("" or 0) for NOT NULL columns, else null."""
    placeholders = {
        f["field"]: None if f["optional"] else "" if f["type"] == "string" else 0
        for f in FIELDS[table]
    }
    return placeholders | key


def decimal_b64(amount: str, scale: int = 2) -> str:
    """NUMERIC in Debezium's precise mode: base64 of the unscaled two's complement, big-endian."""
    unscaled = int(Decimal(amount).scaleb(scale))
    length = unscaled.bit_length() // 8 + 1  # room for the sign bit
    return base64.b64encode(unscaled.to_bytes(length, "big", signed=True)).decode()


def payload(
    op: str,
    *,
    table: str = "death.registrations",
    before: dict | None = None,
    after: dict | None = None,
    lsn: object = 26863944,
    tx_id: object = 781,
    snapshot: object = "false",
    ts_ms: int = TS_MS,
) -> dict:
    """A schemaless value (payload only), Debezium 2.7 form."""
    schema, name = table.split(".")
    source = {
        "version": "2.7.3.Final",
        "connector": "postgresql",
        "name": "upstream_death",
        "ts_ms": ts_ms,
        "snapshot": snapshot,
        "db": "registry",
        "sequence": f'["{lsn}","{lsn}"]',
        "ts_us": ts_ms * 1000,
        "ts_ns": ts_ms * 1_000_000,
        "schema": schema,
        "table": name,
        "txId": tx_id,
        "lsn": lsn,
        "xmin": None,
    }
    return {
        "before": before,
        "after": after,
        "source": source,
        "transaction": None,
        "op": op,
        "ts_ms": ts_ms + 300,
        "ts_us": (ts_ms + 300) * 1000,
        "ts_ns": (ts_ms + 300) * 1_000_000 + 46,
    }


def with_schema(value: dict, *, table: str = "death.registrations", **field_overrides) -> dict:
    """Wrap a payload in the JsonConverter schema envelope; override column schemas by name."""
    columns = [field_overrides.get(f["field"], f) for f in FIELDS[table]]
    prefix = f"upstream_death.{table}"
    image = {"type": "struct", "optional": True, "name": f"{prefix}.Value"}
    envelope_fields = [
        image | {"fields": columns, "field": "before"},
        image | {"fields": columns, "field": "after"},
        {"type": "struct", "fields": _SOURCE_FIELDS, "optional": False}
        | {"name": "io.debezium.connector.postgresql.Source", "field": "source"},
        _TRANSACTION_FIELD,
        _text("op"),
        {"type": "int64", "optional": True, "field": "ts_ms"},
        {"type": "int64", "optional": True, "field": "ts_us"},
        {"type": "int64", "optional": True, "field": "ts_ns"},
    ]
    schema = {"type": "struct", "fields": envelope_fields, "optional": False}
    return {"schema": schema | {"name": f"{prefix}.Envelope", "version": 2}, "payload": value}


_SOURCE_FIELDS = [
    _text("version"),
    _text("connector"),
    _text("name"),
    {"type": "int64", "optional": False, "field": "ts_ms"},
    _enum("snapshot", "true,last,false,incremental") | {"optional": True, "default": "false"},
    _text("db"),
    _text("sequence", optional=True),
    {"type": "int64", "optional": True, "field": "ts_us"},
    {"type": "int64", "optional": True, "field": "ts_ns"},
    _text("schema"),
    _text("table"),
    {"type": "int64", "optional": True, "field": "txId"},
    {"type": "int64", "optional": True, "field": "lsn"},
    {"type": "int64", "optional": True, "field": "xmin"},
]
_TRANSACTION_FIELD = {
    "type": "struct",
    "fields": [
        _text("id"),
        {"type": "int64", "optional": False, "field": "total_order"},
        {"type": "int64", "optional": False, "field": "data_collection_order"},
    ],
    "optional": True,
    "name": "event.block",
    "version": 1,
    "field": "transaction",
}


def wire(item: object) -> object:
    """Round-trip through orjson, as the adapter decodes bodies (ints stay exact)."""
    return orjson.loads(orjson.dumps(item))


def sample_items(name: str) -> list[object]:
    """The items of one sample file: JSON, NDJSON, or the values of a Kafka log dump."""
    raw = (SAMPLES / name).read_bytes()
    if name.endswith(".ndjson"):
        return [orjson.loads(line) for line in raw.splitlines() if line.strip()]
    if name.endswith(".json"):
        return [orjson.loads(raw)]
    return [_dumped_value(line) for line in raw.decode().splitlines() if "valuesize:" in line]


def _dumped_value(line: str) -> object:
    """A kafka-dump-log line: `valuesize: -1` is a tombstone, else the value after `payload:`."""
    if "valuesize: -1" in line:
        return None
    return orjson.loads(line.split(" payload: ", 1)[1])


@dataclass(frozen=True)
class TableUnderTest:
    """The wire-to-events helpers each derivation test module needs, for one table."""

    table: str
    source: SourceSystem
    row: Callable[..., dict]
    derive_events: Callable[..., list]
    ingested_at: datetime

    def change(self, item: dict, *, schema: bool = False) -> RowChange:
        value = with_schema(item, table=self.table) if schema else item
        change = parse_change(wire(value), self.source)
        assert isinstance(change, RowChange)
        return change

    def item(self, op: str, **changes: object) -> dict:
        return payload(op, table=self.table, after=self.row(**changes))

    def derive(self, item: dict, previous_row: dict | None = None) -> list:
        return self.derive_events(
            self.change(item),
            previous_row=previous_row,
            channel=Channel.DEBEZIUM_HTTP,
            ingested_at=self.ingested_at,
        )

    def stored(self, **changes: object) -> dict:
        """The last row ingested for the key, as parse_change decoded it."""
        after = self.change(self.item("c", **changes)).after
        assert after is not None
        return after
