"""derive_hukou_events: household registration row changes → canonical hukou events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import orjson
import pytest
from debezium_fixtures import (
    OTHER_PERSON,
    PERSON,
    RECORDED_AT_MICROS,
    TableUnderTest,
    death_row,
    delete_before,
    hukou_row,
    payload,
    wire,
)

from shaobing_contracts.hukou import (
    CancellationReason,
    Gender,
    HukouStatus,
    PersonMoved,
    PersonRegistered,
)
from shaobing_contracts.provenance import Channel, SourceSystem
from shaobing_ingest.domain.cdc.body import split_body
from shaobing_ingest.domain.cdc.changes import ChangeRejected, RowChange, parse_change
from shaobing_ingest.domain.cdc.stored_rows import decode_stored_row
from shaobing_ingest.domain.intake import Intake, changes_of, derive
from shaobing_ingest.domain.sources.hukou import derive_hukou_events
from shaobing_ingest.domain.sources.tables import HUKOU_POPULATION

SHANGHAI = ZoneInfo("Asia/Shanghai")
INGESTED_AT = datetime(2025, 8, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
TABLE = "hukou.population"
HOUR = 3_600_000_000
DAY = 24 * HOUR


_TABLE = TableUnderTest(TABLE, SourceSystem.HUKOU, hukou_row, derive_hukou_events, INGESTED_AT)
_change, _item, _derive, _stored = _TABLE.change, _TABLE.item, _TABLE.derive, _TABLE.stored


def _types(events: list) -> list[str]:
    return [e.event_type for e in events]


@pytest.mark.parametrize("schema", [True, False], ids=["with schema", "schemaless"])
def test_a_created_row_registers_the_person(schema: bool) -> None:
    change = _change(_item("c"), schema=schema)
    [event] = derive_hukou_events(
        change, previous_row=None, channel=Channel.DEBEZIUM_KAFKA, ingested_at=INGESTED_AT
    )
    assert isinstance(event, PersonRegistered)
    assert (event.id_number, event.gender, event.birth_date) == (
        PERSON,
        Gender.MALE,
        date(1950, 3, 9),
    )
    assert (event.household_no, event.relation_to_head) == ("H0001", "户主")
    assert (event.area_code, event.status) == ("110105001002", HukouStatus.ACTIVE)
    assert event.recorded_at == datetime(2025, 7, 31, 23, 30, tzinfo=SHANGHAI)
    assert event.occurred_on == date(2025, 7, 31)
    assert (event.provenance.table, event.provenance.primary_key) == (TABLE, PERSON)
    assert event.provenance.source_system is SourceSystem.HUKOU


def test_no_name_or_address_leaves_ingest() -> None:
    [event] = _derive(_item("c"))
    wire_form = event.model_dump_json()
    assert "张三" not in wire_form
    assert "北京市" not in wire_form
    assert {"name", "address"}.isdisjoint(type(event).model_fields)


def test_a_snapshot_row_registers_the_person() -> None:
    [event] = _derive(payload("r", table=TABLE, after=hukou_row(), snapshot="first"))
    assert isinstance(event, PersonRegistered)
    assert event.provenance.position.snapshot is True


def test_an_update_without_a_previous_row_registers_the_person() -> None:
    assert _types(_derive(_item("u", area_code="110105002003"))) == ["person_registered"]


def test_a_resnapshot_of_a_row_already_ingested_derives_nothing() -> None:
    assert _derive(payload("r", table=TABLE, after=hukou_row(), lsn=1, tx_id=1), _stored()) == []


UPDATES = [
    pytest.param(
        {"name": "李四", "address": "北京市海淀区", "updated_at": RECORDED_AT_MICROS + HOUR},
        [],
        id="name, address and updated_at only derive nothing",
    ),
    pytest.param({"area_code": "110105002003"}, ["person_moved"], id="a move"),
    pytest.param({"household_no": "H0002"}, ["household_changed"], id="another household"),
    pytest.param({"relation_to_head": "子"}, ["household_changed"], id="another relation"),
    pytest.param({"status": "MOVED_OUT"}, ["person_moved_out"], id="moved out"),
    pytest.param({"status": "DECEASED"}, ["registration_cancelled"], id="deceased"),
    pytest.param({"status": "CANCELLED"}, ["registration_cancelled"], id="cancelled"),
    pytest.param(
        {"area_code": "310104001001", "status": "MOVED_OUT"},
        ["person_moved", "person_moved_out"],
        id="moved away and out",
    ),
    pytest.param(
        {"area_code": "110105002003", "household_no": "H0009", "relation_to_head": "户主"},
        ["person_moved", "household_changed"],
        id="moved with a new household",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), UPDATES)
def test_an_update_is_compared_with_the_last_row_ingested(
    changes: dict, expected: list[str]
) -> None:
    events = _derive(_item("u", **changes), previous_row=_stored())
    assert _types(events) == expected
    assert all(e.id_number == PERSON for e in events)


@pytest.mark.parametrize(
    ("to_area", "within"),
    [
        pytest.param("110105002003", True, id="another street of the same district"),
        pytest.param("110105001003", True, id="another community of the same street"),
        pytest.param("110106001002", False, id="another district of the same city"),
        pytest.param("310104001001", False, id="another province"),
    ],
)
def test_a_move_says_whether_it_stays_within_the_district(to_area: str, within: bool) -> None:
    [event] = _derive(_item("u", area_code=to_area), previous_row=_stored())
    assert isinstance(event, PersonMoved)
    assert (event.from_area, event.to_area, event.within_district) == (
        "110105001002",
        to_area,
        within,
    )
    assert event.occurred_on == date(2025, 7, 31)


@pytest.mark.parametrize(
    ("status", "reason"),
    [("DECEASED", CancellationReason.DECEASED), ("CANCELLED", CancellationReason.CANCELLED)],
)
def test_a_cancellation_says_why_and_where(status: str, reason: CancellationReason) -> None:
    [event] = _derive(_item("u", status=status), previous_row=_stored())
    assert (event.reason, event.area_code) == (reason, "110105001002")


def test_moving_out_names_the_area_left() -> None:
    [event] = _derive(
        _item("u", status="MOVED_OUT", area_code="310104001001"),
        previous_row=_stored(),
    )[1:]
    assert (event.event_type, event.from_area) == ("person_moved_out", "110105001002")


def test_a_household_change_carries_both_sides() -> None:
    [event] = _derive(_item("u", household_no="H0002", relation_to_head="子"), _stored())
    assert (event.from_household_no, event.to_household_no) == ("H0001", "H0002")
    assert (event.from_relation_to_head, event.to_relation_to_head) == ("户主", "子")


def test_returning_to_active_registers_the_person_again() -> None:
    events = _derive(_item("u"), previous_row=_stored(status="MOVED_OUT"))
    assert _types(events) == ["person_registered"]


def test_an_update_after_an_invalid_previous_row_registers_the_person() -> None:
    previous = _stored() | {"gender": "9"}
    assert _types(_derive(_item("u", area_code="110105002003"), previous)) == ["person_registered"]


@pytest.mark.parametrize("previous", [True, False], ids=["after a row", "never ingested"])
def test_a_delete_with_placeholders_derives_nothing(previous: bool) -> None:
    item = payload("d", table=TABLE, before=delete_before(TABLE, id_number=PERSON))
    assert _derive(item, _stored() if previous else None) == []


BAD_CHECKSUM = PERSON[:17] + ("0" if PERSON[17] != "0" else "1")

INVALID = [
    pytest.param({"id_number": BAD_CHECKSUM}, "id_number", "check character", id="bad checksum"),
    pytest.param({"area_code": "11010500100"}, "area_code", "12-digit", id="11-digit area"),
    pytest.param({"area_code": "11010500100A"}, "area_code", "12-digit", id="non-digit area"),
    pytest.param({"status": "EMIGRATED"}, "status", "not one of", id="unknown status"),
    pytest.param({"status": None}, "status", "required", id="no status"),
    pytest.param({"gender": "3"}, "gender", "required", id="unknown gender"),
    pytest.param(
        {"birth_date": -7237}, "birth_date", "ID number", id="a birth date not the ID number's"
    ),
    pytest.param({"birth_date": None}, "birth_date", "required", id="no birth date"),
    pytest.param({"household_no": " "}, "household_no", "required", id="no household"),
    pytest.param(
        {"updated_at": RECORDED_AT_MICROS + 2 * DAY}, "updated_at", "future", id="future update"
    ),
]


@pytest.mark.parametrize(("changes", "field", "reason"), INVALID)
def test_invalid_rows_are_rejected_naming_the_field(changes: dict, field: str, reason: str) -> None:
    with pytest.raises(ChangeRejected) as rejected:
        _derive(_item("c", **changes))
    assert rejected.value.field == field
    assert reason in rejected.value.reason


def test_a_relevant_update_to_an_invalid_row_is_rejected() -> None:
    with pytest.raises(ChangeRejected) as rejected:
        _derive(_item("u", area_code="110105002003", gender="0"), previous_row=_stored())
    assert rejected.value.field == "gender"


def test_a_change_of_another_table_is_rejected() -> None:
    change = parse_change(wire(payload("c", after=death_row())), SourceSystem.DEATH)
    assert isinstance(change, RowChange)
    with pytest.raises(ChangeRejected) as rejected:
        derive_hukou_events(change, previous_row=None, channel=Channel.CSV, ingested_at=INGESTED_AT)
    assert rejected.value.field == "source.table"


def test_the_events_of_one_change_get_distinct_and_stable_ids() -> None:
    item = _item("u", area_code="310104001001", household_no="H0002", status="MOVED_OUT")
    first = [e.event_id for e in _derive(item, _stored())]
    again = [e.event_id for e in _derive(item, _stored())]
    assert len(set(first)) == 3
    assert first == again


def test_two_people_of_one_snapshot_get_different_event_ids() -> None:
    rows = [
        hukou_row(),
        hukou_row(id_number=OTHER_PERSON, birth_date=-2589, area_code="310104001001"),
    ]
    ids = {
        _derive(payload("r", table=TABLE, after=row, lsn=26863936, tx_id=780))[0].event_id
        for row in rows
    }
    assert len(ids) == 2


def _batch(*items: dict, previous_rows: dict | None = None) -> Intake:
    body = b"\n".join(orjson.dumps(item) for item in items)
    return derive(
        changes_of(split_body(body).items, SourceSystem.HUKOU),
        previous_rows or {},
        channel=Channel.DEBEZIUM_HTTP,
        ingested_at=INGESTED_AT,
    )


def test_a_batch_registers_moves_and_forgets_the_person() -> None:
    intake = _batch(
        _item("c"),
        payload("u", table=TABLE, after=hukou_row(area_code="310104001001"), lsn=26863952),
        payload("d", table=TABLE, before=delete_before(TABLE, id_number=PERSON), lsn=26863960),
    )
    assert [(o.status, [e.event_type for e in o.events]) for o in intake.outcomes] == [
        ("accepted", ["person_registered"]),
        ("accepted", ["person_moved"]),
        ("ignored", []),
    ]
    assert intake.rows == {(TABLE, PERSON): None}


def test_a_stored_row_read_back_from_json_is_compared_like_a_fresh_one() -> None:
    stored = decode_stored_row(HUKOU_POPULATION, orjson.loads(orjson.dumps(_stored(), default=str)))
    assert _derive(_item("u", updated_at=RECORDED_AT_MICROS + HOUR), stored) == []
    assert _types(_derive(_item("u", status="DECEASED"), stored)) == ["registration_cancelled"]
