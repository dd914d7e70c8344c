"""derive_marriage_events: marriage registry row changes → one event per party."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import orjson
import pytest
from debezium_fixtures import (
    OTHER_PERSON,
    PERSON,
    TableUnderTest,
    delete_before,
    hukou_row,
    marriage_row,
    payload,
    wire,
)

from shaobing_contracts.id_number import make_id_number
from shaobing_contracts.marriage import MarriageKind, MarriageRegistered, MarriageRetracted
from shaobing_contracts.provenance import Channel, SourceSystem
from shaobing_ingest.domain.cdc.body import split_body
from shaobing_ingest.domain.cdc.changes import ChangeRejected, RowChange, parse_change
from shaobing_ingest.domain.cdc.stored_rows import decode_stored_row
from shaobing_ingest.domain.intake import changes_of, derive
from shaobing_ingest.domain.sources.marriage import derive_marriage_events
from shaobing_ingest.domain.sources.tables import MARRIAGE_REGISTRATIONS

SHANGHAI = ZoneInfo("Asia/Shanghai")
INGESTED_AT = datetime(2025, 8, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
TABLE = "marriage.registrations"
REGISTRATION = "J110105-2025-000456"
THIRD_PERSON = make_id_number("110105", date(1958, 6, 1), 31)


_TABLE = TableUnderTest(
    TABLE, SourceSystem.MARRIAGE, marriage_row, derive_marriage_events, INGESTED_AT
)
_change, _item, _derive, _stored = _TABLE.change, _TABLE.item, _TABLE.derive, _TABLE.stored


def _summary(events: list) -> list[tuple[str, str, str | None]]:
    return [(e.event_type, e.id_number, e.spouse_id) for e in events]


BOTH_REGISTERED = [
    ("marriage_registered", PERSON, OTHER_PERSON),
    ("marriage_registered", OTHER_PERSON, PERSON),
]


@pytest.mark.parametrize("schema", [True, False], ids=["with schema", "schemaless"])
def test_a_created_registration_registers_each_party_with_the_other_as_spouse(
    schema: bool,
) -> None:
    change = _change(_item("c"), schema=schema)
    events = derive_marriage_events(
        change, previous_row=None, channel=Channel.DEBEZIUM_KAFKA, ingested_at=INGESTED_AT
    )
    assert _summary(events) == BOTH_REGISTERED
    for event in events:
        assert isinstance(event, MarriageRegistered)
        assert (event.kind, event.registration_no) == (MarriageKind.MARRIAGE, REGISTRATION)
        assert event.registered_on == event.occurred_on == date(2025, 7, 31)
        assert event.office_code == "110105000000"
        assert event.recorded_at == datetime(2025, 7, 31, 0, 0, tzinfo=SHANGHAI)
        assert (event.provenance.table, event.provenance.primary_key) == (TABLE, REGISTRATION)


def test_a_snapshot_row_registers_each_party() -> None:
    events = _derive(payload("r", table=TABLE, after=marriage_row(), snapshot="true"))
    assert _summary(events) == BOTH_REGISTERED
    assert all(e.provenance.position.snapshot for e in events)


@pytest.mark.parametrize("kind", list(MarriageKind), ids=str)
def test_every_kind_is_carried(kind: MarriageKind) -> None:
    events = _derive(_item("c", kind=kind.value))
    assert [e.kind for e in events] == [kind, kind]


def test_an_update_without_a_previous_row_registers_each_party() -> None:
    assert _summary(_derive(_item("u", kind="DIVORCE"))) == BOTH_REGISTERED


UPDATES = [
    pytest.param({}, [], id="an unchanged row derives nothing"),
    pytest.param({"office_code": "110105000000  "}, [], id="a blank-padded office code"),
    pytest.param({"kind": "ANNULMENT"}, BOTH_REGISTERED, id="a corrected kind registers again"),
    pytest.param({"registered_on": 20299}, BOTH_REGISTERED, id="a corrected date"),
    pytest.param({"office_code": "110106000000"}, BOTH_REGISTERED, id="a corrected office"),
    pytest.param(
        {"party_b_id": THIRD_PERSON},
        [
            ("marriage_retracted", OTHER_PERSON, PERSON),
            ("marriage_registered", PERSON, THIRD_PERSON),
            ("marriage_registered", THIRD_PERSON, PERSON),
        ],
        id="a corrected party is retracted and the new one registered",
    ),
    pytest.param(
        {"party_a_id": OTHER_PERSON, "party_b_id": PERSON},
        [
            ("marriage_registered", OTHER_PERSON, PERSON),
            ("marriage_registered", PERSON, OTHER_PERSON),
        ],
        id="swapped parties retract no one",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), UPDATES)
def test_an_update_is_compared_with_the_last_row_ingested(changes: dict, expected: list) -> None:
    events = _derive(_item("u", **changes), previous_row=_stored())
    assert _summary(events) == expected
    assert all(e.registration_no == REGISTRATION for e in events)


def test_a_delete_with_placeholders_retracts_each_party_of_the_last_row_ingested() -> None:
    before = delete_before(TABLE, registration_no=REGISTRATION)
    events = _derive(payload("d", table=TABLE, before=before), previous_row=_stored())
    assert _summary(events) == [
        ("marriage_retracted", PERSON, OTHER_PERSON),
        ("marriage_retracted", OTHER_PERSON, PERSON),
    ]
    for event in events:
        assert isinstance(event, MarriageRetracted)
        assert event.registration_no == REGISTRATION
        # when the delete was committed upstream (source.ts_ms), in Shanghai
        assert event.recorded_at == datetime(2025, 8, 1, 7, 30, 1, 234000, tzinfo=SHANGHAI)


def test_a_delete_of_a_registration_never_ingested_is_rejected() -> None:
    before = delete_before(TABLE, registration_no=REGISTRATION)
    with pytest.raises(ChangeRejected) as rejected:
        _derive(payload("d", table=TABLE, before=before))
    assert rejected.value.field == "registration_no"


def test_a_delete_after_a_row_with_one_invalid_party_retracts_the_other() -> None:
    previous = _stored() | {"party_b_id": OTHER_PERSON[:17] + "Y"}
    before = delete_before(TABLE, registration_no=REGISTRATION)
    events = _derive(payload("d", table=TABLE, before=before), previous_row=previous)
    assert _summary(events) == [("marriage_retracted", PERSON, None)]


def _bad_checksum(id_number: str) -> str:
    return id_number[:17] + ("0" if id_number[17] != "0" else "1")


INVALID = [
    pytest.param({"party_a_id": _bad_checksum(PERSON)}, "party_a_id", "check", id="bad party a"),
    pytest.param(
        {"party_b_id": _bad_checksum(OTHER_PERSON)}, "party_b_id", "check", id="bad party b"
    ),
    pytest.param({"party_b_id": None}, "party_b_id", "required", id="no party b"),
    pytest.param({"party_b_id": PERSON}, "party_b_id", "same person", id="marrying oneself"),
    pytest.param({"office_code": "1101050000"}, "office_code", "12-digit", id="short office"),
    pytest.param({"kind": "ENGAGEMENT"}, "kind", "not one of", id="unknown kind"),
    pytest.param({"kind": None}, "kind", "required", id="no kind"),
    pytest.param({"registered_on": 20302}, "registered_on", "future", id="in the future"),
    pytest.param(
        {"registered_on": -3000}, "registered_on", "birth date", id="before a party was born"
    ),
    pytest.param({"registered_on": None}, "registered_on", "required", id="no date"),
]


@pytest.mark.parametrize(("changes", "field", "reason"), INVALID)
def test_invalid_registrations_are_rejected_naming_the_field(
    changes: dict, field: str, reason: str
) -> None:
    with pytest.raises(ChangeRejected) as rejected:
        _derive(_item("c", **changes))
    assert rejected.value.field == field
    assert reason in rejected.value.reason


def test_a_change_of_another_table_is_rejected() -> None:
    change = parse_change(
        wire(payload("c", table="hukou.population", after=hukou_row())), SourceSystem.HUKOU
    )
    assert isinstance(change, RowChange)
    with pytest.raises(ChangeRejected) as rejected:
        derive_marriage_events(
            change, previous_row=None, channel=Channel.CSV, ingested_at=INGESTED_AT
        )
    assert rejected.value.field == "source.table"


def test_each_party_gets_its_own_stable_event_id() -> None:
    item = _item("c")
    first = [e.event_id for e in _derive(item)]
    assert len(set(first)) == 2
    assert first == [e.event_id for e in _derive(item)]


def test_a_delete_and_the_create_it_retracts_get_different_event_ids() -> None:
    created = {e.event_id for e in _derive(_item("c"))}
    before = delete_before(TABLE, registration_no=REGISTRATION)
    deleted = {e.event_id for e in _derive(payload("d", table=TABLE, before=before), _stored())}
    assert len(created | deleted) == 4


def test_a_create_and_a_delete_in_one_batch_register_then_retract_both_parties() -> None:
    before = delete_before(TABLE, registration_no=REGISTRATION)
    body = b"\n".join(
        orjson.dumps(item)
        for item in (_item("c"), payload("d", table=TABLE, before=before, lsn=26863952))
    )
    intake = derive(
        changes_of(split_body(body).items, SourceSystem.MARRIAGE),
        {},
        channel=Channel.DEBEZIUM_HTTP,
        ingested_at=INGESTED_AT,
    )
    assert [_summary(list(o.events)) for o in intake.outcomes] == [
        BOTH_REGISTERED,
        [
            ("marriage_retracted", PERSON, OTHER_PERSON),
            ("marriage_retracted", OTHER_PERSON, PERSON),
        ],
    ]
    assert intake.rows == {(TABLE, REGISTRATION): None}


def test_a_stored_row_read_back_from_json_is_compared_like_a_fresh_one() -> None:
    stored = decode_stored_row(
        MARRIAGE_REGISTRATIONS, orjson.loads(orjson.dumps(_stored(), default=str))
    )
    assert _derive(_item("u"), stored) == []
