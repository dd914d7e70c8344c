"""parse_change: real Debezium samples and the traps of design.md §4, table-driven."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import orjson
import pytest
from debezium_fixtures import (
    PERSON,
    SAMPLES,
    death_delete_before,
    death_row,
    hukou_row,
    payload,
    sample_items,
    social_security_row,
    wire,
    with_schema,
)

from shaobing_contracts.provenance import SourceSystem
from shaobing_ingest.domain.cdc.changes import ChangeRejected, Ignored, RowChange, parse_change
from shaobing_ingest.domain.cdc.debezium import decode_value
from shaobing_ingest.domain.sources.tables import (
    DATE,
    DEATH_REGISTRATIONS,
    TABLES,
    TEXT,
    TIMESTAMP,
    TableDef,
    char,
    enum,
    numeric,
    table_for,
)

DEATH = SourceSystem.DEATH
HUKOU = SourceSystem.HUKOU
SOCIAL = SourceSystem.SOCIAL_SECURITY
_INT = numeric(19, 0)  # the samples' integer columns; upstream tables have none


def _sample_table(qualified: str, key: tuple[str, ...], /, **columns) -> TableDef:
    schema, table = qualified.split(".")
    return TableDef(source=HUKOU, schema=schema, name=table, primary_key=key, columns=columns)


SAMPLE_TABLES = {
    t.qualified_name: t
    for t in (
        _sample_table(
            "public.payment",
            ("payment_id",),
            payment_id=_INT,
            customer_id=_INT,
            staff_id=_INT,
            rental_id=_INT,
            amount=numeric(5, 2),
            payment_date=TIMESTAMP,
        ),
        _sample_table(
            "public.film_actor",
            ("actor_id", "film_id"),
            actor_id=_INT,
            film_id=_INT,
            last_update=TIMESTAMP,
        ),
        _sample_table(
            "inventory.products",
            ("id",),
            id=_INT,
            name=TEXT,
            description=TEXT,
            weight=numeric(10, 2),
        ),
        _sample_table(
            "inventory.purchaseorder", ("id",), id=_INT, customerid=_INT, orderdate=TIMESTAMP
        ),
        _sample_table(
            "inventory.orderline",
            ("id",),
            id=_INT,
            item=TEXT,
            quantity=_INT,
            status=enum("ENTERED", "CANCELLED"),
            totalprice=numeric(7, 2),
            order_id=_INT,
        ),
        _sample_table("public.source_table", ("id",), id=_INT, name=TEXT),
        # `t` is a TIME (MicroTime); no upstream table has one, so it is read as its raw micros.
        _sample_table("public.t", ("id",), id=_INT, ts=TIMESTAMP, d=DATE, t=_INT),
        _sample_table("public.test_table", ("id",), id=char(4), code=TEXT),
    )
}

S01 = "01-pg-1.0-snapshot-last-decimal-schema.json"
S02 = "02-pg-1.1-delete-default-identity-schema.json"
S04 = "04-pg-1.2-schemaless-snapshot-update-create-delete.ndjson"
S05 = "05-pg-1.4-schemaless-decimal-update-before-null.ndjson"
S06 = "06-pg-2.7-create-with-schema-event-block.json"
S07 = "07-pg-1.9-snapshot-date-microtimestamp-schema.json"
S10 = "10-pg-0.8-delete-then-tombstone.kafka-dump.txt"

SAMPLE_ROW_CHANGES = [
    pytest.param(
        S01,
        0,
        "r",
        "32098",
        {
            "after.amount": Decimal("2.99"),
            "after.payment_date": datetime(2007, 5, 14, 13, 44, 29, 996577),
        },
        id="a 1.0 snapshot row decodes its decimal by scale and its micro timestamp",
    ),
    pytest.param(
        S02,
        0,
        "d",
        "1|23",
        {"before": {"actor_id": 1, "film_id": 23}},
        id="a default-identity delete keeps the composite key and drops the placeholder",
    ),
    pytest.param(S04, 0, "r", "101", {"after.weight": Decimal("3.14")}, id="first snapshot row"),
    pytest.param(S04, 1, "r", "102", {"after.weight": Decimal("8.10")}, id="second snapshot row"),
    pytest.param(
        S04,
        2,
        "u",
        "106",
        {
            "before.description": "16oz carpenter's hammer",
            "after.description": "18oz carpenter hammer",
        },
        id="a full-identity update keeps both images",
    ),
    pytest.param(S04, 3, "c", "110", {"after.name": "jacket"}, id="a schemaless create"),
    pytest.param(
        S04, 4, "d", "111", {"before": {"id": 111}}, id="a full-identity delete keeps the key only"
    ),
    pytest.param(
        S05,
        0,
        "c",
        "1",
        {"after.orderdate": datetime(2019, 1, 31, 12, 13, 1)},
        id="schemaless micros are recognised by magnitude",
    ),
    pytest.param(
        S05,
        1,
        "c",
        "1",
        {"after.totalprice": Decimal("39.98")},
        id="a schemaless base64 decimal takes the table's scale",
    ),
    pytest.param(S05, 2, "c", "2", {"after.totalprice": Decimal("29.99")}, id="29.99 not 2.999"),
    pytest.param(
        S05,
        3,
        "u",
        "2",
        {"before": None, "after.status": "CANCELLED"},
        id="a default-identity update has no before image",
    ),
    pytest.param(S06, 0, "c", "8", {"after.name": "test1"}, id="a 2.7 create with event block"),
    pytest.param(
        S07,
        0,
        "r",
        "1",
        {"after.d": date(2022, 10, 14), "after.ts": datetime(2022, 10, 14, 23, 55, 31, 989360)},
        id="a 1.9 snapshot row decodes its date and micro timestamp",
    ),
    pytest.param(
        S10,
        0,
        "d",
        "id1",
        {"before": {"id": "id1"}},
        id="a 0.8 delete with a boolean snapshot strips the CHAR key padding",
    ),
]


@pytest.mark.parametrize(("sample", "index", "op", "key", "expected"), SAMPLE_ROW_CHANGES)
def test_every_sample_row_change_parses_against_its_table(
    sample: str, index: int, op: str, key: str, expected: dict
) -> None:
    change = parse_change(sample_items(sample)[index], HUKOU, tables=SAMPLE_TABLES)
    assert isinstance(change, RowChange)
    assert (change.op, change.primary_key) == (op, key)
    for path, value in expected.items():
        image, _, column = path.partition(".")
        actual = getattr(change, image)
        assert (actual[column] if column else actual) == value


def _outcome(item: object, source: SourceSystem) -> object:
    try:
        return parse_change(item, source, tables=SAMPLE_TABLES)
    except ChangeRejected as exc:
        return ("rejected", exc.field, exc.reason)


@pytest.mark.parametrize(
    "sample", sorted(p.name for p in SAMPLES.iterdir() if p.suffix in {".json", ".ndjson"})
)
def test_typed_decoding_of_the_bytes_reads_every_sample_item_as_the_plain_json_does(
    sample: str,
) -> None:
    for item in sample_items(sample):
        for source in (HUKOU, DEATH):
            from_bytes = decode_value(orjson.dumps(item))
            assert _outcome(from_bytes, source) == _outcome(item, source)


def test_every_item_of_every_json_sample_is_in_the_table_above() -> None:
    key_sample = "03-pg-1.2-key-with-schema.json"  # a Kafka key, not a value: tested below
    files = [p.name for p in SAMPLES.iterdir() if p.suffix in {".json", ".ndjson"}]
    items = {(f, i) for f in files if f != key_sample for i in range(len(sample_items(f)))}
    assert items <= {(p.values[0], p.values[1]) for p in SAMPLE_ROW_CHANGES}


def test_the_tombstone_after_a_delete_is_ignored() -> None:
    assert parse_change(sample_items(S10)[1], HUKOU, tables=SAMPLE_TABLES) == Ignored("tombstone")


def test_sample_payment_is_rejected_as_an_unknown_table() -> None:
    with pytest.raises(ChangeRejected) as rejected:
        parse_change(sample_items(S01)[0], DEATH)
    assert rejected.value.field == "source.table"
    assert "public.payment" in rejected.value.reason


def test_a_kafka_key_is_not_taken_for_a_row_change() -> None:
    with pytest.raises(ChangeRejected) as rejected:
        parse_change(sample_items("03-pg-1.2-key-with-schema.json")[0], HUKOU)
    assert rejected.value.field == "op"


def test_snapshot_rows_share_one_position_but_not_their_key() -> None:
    first, second = (parse_change(i, HUKOU, tables=SAMPLE_TABLES) for i in sample_items(S04)[:2])
    shared = ("34078720", 601)
    assert (first.position.lsn, first.position.tx_id) == shared
    assert (second.position.lsn, second.position.tx_id) == shared
    assert first.primary_key != second.primary_key


def _after(item: object, source: SourceSystem = DEATH) -> dict:
    change = parse_change(wire(item), source)
    assert isinstance(change, RowChange)
    assert change.after is not None
    return change.after


def _social(amount: object, **overrides) -> dict:
    return payload(
        "c",
        table="social_security.person_status",
        after=social_security_row(pension_monthly_amount=amount),
        **overrides,
    )


@pytest.mark.parametrize(
    ("encoded", "amount"),
    [("BOIA", "3200.00"), ("AA==", "0.00"), ("/w==", "-0.01"), ("AIA=", "1.28")],
)
@pytest.mark.parametrize("schema", [True, False], ids=["with schema", "schemaless"])
def test_base64_decimals_take_the_scale_of_the_table(
    encoded: str, amount: str, schema: bool
) -> None:
    item = _social(encoded)
    item = with_schema(item, table="social_security.person_status") if schema else item
    assert _after(item, SOCIAL)["pension_monthly_amount"] == Decimal(amount)


_STRING_DECIMAL = {"type": "string", "optional": False, "field": "pension_monthly_amount"}


@pytest.mark.parametrize(
    ("value", "field_schema", "amount"),
    [
        pytest.param("3200.00", None, "3200.00", id="decimal handling mode string"),
        pytest.param("3200.00", _STRING_DECIMAL, "3200.00", id="string mode with its schema"),
        pytest.param("1234", _STRING_DECIMAL, "1234.00", id="digits typed string are text"),
        pytest.param(3200.0, None, "3200.00", id="decimal handling mode double"),
        pytest.param(3200, None, "3200.00", id="a JSON integer"),
        pytest.param({"scale": 2, "value": "BOIA"}, None, "3200.00", id="variable scale"),
        pytest.param({"scale": 0, "value": "DIA="}, None, "3200.00", id="variable scale 0"),
    ],
)
def test_numeric_accepts_every_converter_shape(
    value: object, field_schema: dict | None, amount: str
) -> None:
    overrides = {"pension_monthly_amount": field_schema} if field_schema else {}
    item = _social(value)
    if field_schema:
        item = with_schema(item, table="social_security.person_status", **overrides)
    assert _after(item, SOCIAL)["pension_monthly_amount"] == Decimal(amount)


_SCALE_3 = {
    "type": "bytes",
    "optional": False,
    "name": "org.apache.kafka.connect.data.Decimal",
    "parameters": {"scale": "3", "connect.decimal.precision": "12"},
    "field": "pension_monthly_amount",
}


@pytest.mark.parametrize(
    ("value", "field_schema", "reason"),
    [
        pytest.param("1234", None, "ambiguous", id="schemaless digits could be base64 or text"),
        pytest.param("BOIA", _SCALE_3, "scale 3", id="a schema scale unlike the table's"),
        pytest.param("2.999", None, "decimal places", id="more decimals than the column has"),
        pytest.param(10**12, None, "does not fit", id="more digits than the precision"),
        pytest.param("", None, "", id="an empty string placeholder outside a delete"),
        pytest.param(True, None, "boolean", id="a boolean"),
    ],
)
def test_numeric_values_that_do_not_fit_are_rejected_naming_the_column(
    value: object, field_schema: dict | None, reason: str
) -> None:
    item = _social(value)
    if field_schema:
        item = with_schema(
            item, table="social_security.person_status", pension_monthly_amount=field_schema
        )
    with pytest.raises(ChangeRejected) as rejected:
        parse_change(wire(item), SOCIAL)
    assert rejected.value.field == "pension_monthly_amount"
    assert reason in rejected.value.reason


_TEXT_DATE = {"type": "string", "optional": False, "field": "birth_date"}


@pytest.mark.parametrize(
    ("value", "born"),
    [
        pytest.param(-7238, date(1950, 3, 9), id="negative epoch days are before 1970"),
        pytest.param(0, date(1970, 1, 1), id="day zero"),
        pytest.param(20300, date(2025, 7, 31), id="positive epoch days"),
        pytest.param("1950-03-09", date(1950, 3, 9), id="ISO text from a date converter"),
    ],
)
@pytest.mark.parametrize("schema", [True, False], ids=["with schema", "schemaless"])
def test_dates_decode_from_signed_epoch_days_or_iso_text(
    value: object, born: date, schema: bool
) -> None:
    item = payload("c", table="hukou.population", after=hukou_row(birth_date=value))
    if schema:
        overrides = {"birth_date": _TEXT_DATE} if isinstance(value, str) else {}
        item = with_schema(item, table="hukou.population", **overrides)
    assert _after(item, HUKOU)["birth_date"] == born


@pytest.mark.parametrize("value", ["1950-3-9", "19500309", "1950-02-30", 1.5e3, True])
def test_dates_in_other_shapes_are_rejected(value: object) -> None:
    item = payload("c", table="hukou.population", after=hukou_row(birth_date=value))
    with pytest.raises(ChangeRejected) as rejected:
        parse_change(wire(item), HUKOU)
    assert rejected.value.field == "birth_date"


def _timestamp_schema(name: str | None, kind: str = "int64") -> dict:
    named = {"name": name, "version": 1} if name else {}
    return {"type": kind, "optional": False, "field": "recorded_at"} | named


WALL_CLOCK = datetime(2018, 6, 20, 15, 13, 16, 945104)


@pytest.mark.parametrize(
    ("value", "field_schema", "expected"),
    [
        pytest.param(
            1529507596945104,
            _timestamp_schema("io.debezium.time.MicroTimestamp"),
            WALL_CLOCK,
            id="micro timestamp",
        ),
        pytest.param(1529507596945104, None, WALL_CLOCK, id="schemaless micros by magnitude"),
        pytest.param(
            1529507596945,
            _timestamp_schema("io.debezium.time.Timestamp"),
            WALL_CLOCK.replace(microsecond=945000),
            id="millis named by io.debezium.time.Timestamp",
        ),
        pytest.param(
            1529507596945,
            _timestamp_schema("org.apache.kafka.connect.data.Timestamp"),
            WALL_CLOCK.replace(microsecond=945000),
            id="millis under time.precision.mode connect",
        ),
        pytest.param(
            1529507596945,
            None,
            WALL_CLOCK.replace(microsecond=945000),
            id="schemaless millis by magnitude",
        ),
        pytest.param(
            1529507596945104321,
            _timestamp_schema("io.debezium.time.NanoTimestamp"),
            WALL_CLOCK,
            id="nano timestamp",
        ),
        pytest.param(
            "2018-06-20T15:13:16.945104",
            _timestamp_schema(None, "string"),
            WALL_CLOCK,
            id="ISO text",
        ),
        pytest.param("2018-06-20 15:13:16.945104Z", None, WALL_CLOCK, id="ISO text with Z kept"),
        pytest.param(
            "2025-07-31 23:30:00",
            None,
            datetime(2025, 7, 31, 23, 30),
            id="a late-evening record stays on its day",
        ),
    ],
)
def test_timestamps_are_wall_clock_whatever_their_unit(
    value: object, field_schema: dict | None, expected: datetime
) -> None:
    item = payload("c", after=death_row(recorded_at=value))
    if field_schema:
        item = with_schema(item, recorded_at=field_schema)
    assert _after(item)["recorded_at"] == expected


@pytest.mark.parametrize("value", ["2018-06-20T15:13:16+08:00", "2018-06-20", 15.5, "noon"])
def test_timestamps_with_an_offset_or_no_time_are_rejected(value: object) -> None:
    with pytest.raises(ChangeRejected) as rejected:
        parse_change(wire(payload("c", after=death_row(recorded_at=value))), DEATH)
    assert rejected.value.field == "recorded_at"


def test_char_padding_is_stripped_but_text_keeps_its_blanks() -> None:
    row = hukou_row(area_code="110105      ", gender="1", address="北京市朝阳区 ")
    after = _after(payload("c", table="hukou.population", after=row), HUKOU)
    assert (after["area_code"], after["address"]) == ("110105", "北京市朝阳区 ")


def test_char_longer_than_its_length_is_rejected() -> None:
    row = hukou_row(area_code="1101050010021")
    with pytest.raises(ChangeRejected) as rejected:
        parse_change(wire(payload("c", table="hukou.population", after=row)), HUKOU)
    assert rejected.value.field == "area_code"


IGNORED = [
    pytest.param(None, "tombstone", id="a tombstone is null"),
    pytest.param({"schema": None, "payload": None}, "tombstone", id="an enveloped tombstone"),
    pytest.param({"ts_ms": 1588252618953}, "heartbeat", id="a schemaless heartbeat"),
    pytest.param(
        {
            "schema": {
                "type": "struct",
                "fields": [{"type": "int64", "optional": False, "field": "ts_ms"}],
                "optional": False,
                "name": "io.debezium.connector.common.Heartbeat",
            },
            "payload": {"ts_ms": 1588252618953},
        },
        "heartbeat",
        id="a heartbeat with its schema",
    ),
    pytest.param(
        {"status": "BEGIN", "id": "571:53195829", "ts_ms": 1486500577125, "event_count": None},
        "transaction BEGIN",
        id="a transaction BEGIN marker",
    ),
    pytest.param(
        {
            "status": "END",
            "id": "571:53195832",
            "ts_ms": 1486500577691,
            "event_count": 2,
            "data_collections": [{"data_collection": "s1.a", "event_count": 1}],
        },
        "transaction END",
        id="a transaction END marker",
    ),
    pytest.param(
        payload("t"),
        "truncate of death.registrations",
        id="a truncate names its table",
    ),
    pytest.param(
        {
            "source": payload("c")["source"] | {"schema": "", "table": "", "txId": None},
            "op": "m",
            "ts_ms": 1559033904961,
            "message": {"prefix": "foo", "content": "YmFy"},
        },
        "logical decoding message",
        id="a logical message has no before or after",
    ),
]


@pytest.mark.parametrize(("item", "reason"), IGNORED)
def test_items_that_are_not_row_changes_are_ignored_with_a_reason(
    item: object, reason: str
) -> None:
    assert parse_change(wire(item), DEATH) == Ignored(reason)


REJECTED = [
    pytest.param([payload("c", after=death_row())], None, id="an array is not one item"),
    pytest.param("c", None, id="a string is not an object"),
    pytest.param({"schema": {}, "payload": [1]}, "payload", id="a payload that is not an object"),
    pytest.param(payload("c", after=death_row()) | {"op": "x"}, "op", id="an unknown op"),
    pytest.param({"before": None, "after": death_row(), "op": "c"}, "source", id="no source"),
    pytest.param(
        payload("c", after=death_row()) | {"source": {"schema": "death", "table": ""}},
        "source.table",
        id="an empty table name",
    ),
    pytest.param(
        payload("c", table="death.registration", after=death_row()),
        "source.table",
        id="an unknown table",
    ),
    pytest.param(
        payload("c", table="hukou.population", after=hukou_row()),
        "source.table",
        id="another source's table",
    ),
    pytest.param(
        payload("c", after=death_row(cause="illness")), "cause", id="an unknown column is named"
    ),
    pytest.param(payload("c"), "after", id="a create without after image"),
    pytest.param(payload("d", before=None), "before", id="a delete without before image"),
    pytest.param(
        payload("d", before=death_delete_before(), after=death_row()),
        "after",
        id="a delete with an after image",
    ),
    pytest.param(
        payload("c", after=death_row(certificate_no=None)),
        "certificate_no",
        id="a null primary key",
    ),
    pytest.param(
        payload("c", after=death_row(source="HOSPITAL")), "source", id="an enum label not allowed"
    ),
    pytest.param(
        payload("c", after=death_row(id_number=110105195003090021)),
        "id_number",
        id="a number in a CHAR column",
    ),
    pytest.param(
        payload("c", after=death_row(), lsn=34078720.0),
        "source.lsn",
        id="a float lsn has already lost digits",
    ),
    pytest.param(
        payload("c", after=death_row(), snapshot="maybe"),
        "source.snapshot",
        id="an unknown snapshot marker",
    ),
]


@pytest.mark.parametrize(("item", "field"), REJECTED)
def test_malformed_items_are_rejected_naming_the_field(item: object, field: str | None) -> None:
    with pytest.raises(ChangeRejected) as rejected:
        parse_change(wire(item), DEATH)
    assert rejected.value.field == field
    assert str(rejected.value).startswith(f"{field}: " if field else rejected.value.reason)


@pytest.mark.parametrize(("item", "field"), REJECTED)
def test_typed_decoding_rejects_what_the_plain_json_rejects(
    item: object, field: str | None
) -> None:
    with pytest.raises(ChangeRejected) as rejected:
        parse_change(decode_value(orjson.dumps(item)), DEATH)
    assert rejected.value.field == field


def test_an_unknown_column_is_reported_not_guessed() -> None:
    with pytest.raises(ChangeRejected) as rejected:
        parse_change(wire(payload("c", after=death_row(cause="illness"))), DEATH)
    assert (rejected.value.field, rejected.value.reason) == ("cause", "unknown column")
    assert str(rejected.value) == "cause: unknown column"


ONE_OF_EACH_OP = [
    pytest.param(payload("c", after=death_row()), id="create"),
    pytest.param(payload("r", after=death_row(), snapshot="first"), id="snapshot read"),
    pytest.param(payload("u", after=death_row(source="COURT")), id="update"),
    pytest.param(payload("d", before=death_delete_before()), id="delete"),
]


@pytest.mark.parametrize("item", ONE_OF_EACH_OP)
def test_schema_envelope_and_schemaless_give_the_same_row_change(item: dict) -> None:
    enveloped = parse_change(wire(with_schema(item)), DEATH)
    assert enveloped == parse_change(wire(item), DEATH)
    assert isinstance(enveloped, RowChange)


def test_a_death_create_decodes_every_column() -> None:
    change = parse_change(wire(with_schema(payload("c", after=death_row()))), DEATH)
    assert change == RowChange(
        op="c",
        table=DEATH_REGISTRATIONS,
        before=None,
        after={
            "certificate_no": "D110105-2025-000123",
            "id_number": PERSON,
            "date_of_death": date(2025, 7, 31),
            "source": "MEDICAL",
            "recorded_at": datetime(2025, 7, 31, 23, 30),
        },
        primary_key="D110105-2025-000123",
        position=change.position,
    )
    assert change.position.model_dump() == {
        "op": "c",
        "lsn": "26863944",
        "tx_id": 781,
        "snapshot": False,
        "committed_at": datetime(2025, 7, 31, 23, 30, 1, 234000, tzinfo=UTC),
        "connector": "upstream_death",
        "row": None,
    }


def test_a_default_identity_delete_keeps_only_the_key_not_its_placeholders() -> None:
    change = parse_change(wire(payload("d", before=death_delete_before())), DEATH)
    assert change.before == {"certificate_no": "D110105-2025-000123"}
    assert (change.after, change.primary_key) == (None, "D110105-2025-000123")


def test_an_unchanged_toasted_value_is_unknown_not_a_value() -> None:
    row = hukou_row(address="__debezium_unavailable_value")
    after = _after(payload("u", table="hukou.population", after=row), HUKOU)
    assert "address" not in after
    assert after["name"] == "张三"


def test_nulls_stay_none() -> None:
    after = _after(
        payload("c", table="social_security.person_status", after=social_security_row()), SOCIAL
    )
    assert after["employer_uscc"] is None


@pytest.mark.parametrize(
    ("marker", "snapshot"),
    [
        ("true", True),
        ("first", True),
        ("first_in_data_collection", True),
        ("last_in_data_collection", True),
        ("last", True),
        ("incremental", True),
        ("false", False),
        (True, True),
        (False, False),
        (None, False),
    ],
)
def test_snapshot_markers_of_every_version_are_understood(marker: object, snapshot: bool) -> None:
    item = wire(payload("r", after=death_row(), snapshot=marker))
    assert parse_change(item, DEATH).position.snapshot is snapshot


def test_positions_beyond_two_to_the_53_stay_exact() -> None:
    body = orjson.dumps(payload("c", after=death_row())).replace(
        b'"lsn":26863944', b'"lsn":9007199254740993'
    )
    change = parse_change(orjson.loads(body), DEATH)
    assert change.position.lsn == "9007199254740993"


def test_an_incremental_snapshot_row_has_no_lsn() -> None:
    item = payload("r", after=death_row(), lsn=None, tx_id=None, snapshot="incremental")
    position = parse_change(wire(item), DEATH).position
    assert (position.lsn, position.tx_id, position.snapshot) == (None, None, True)


def test_table_for_knows_the_four_upstream_tables_and_their_sources() -> None:
    owners = {name: table.source for name, table in TABLES.items()}
    assert owners == {
        "hukou.population": HUKOU,
        "marriage.registrations": SourceSystem.MARRIAGE,
        "death.registrations": DEATH,
        "social_security.person_status": SOCIAL,
    }
    assert all(table_for(t.source, name) is t for name, t in TABLES.items())
