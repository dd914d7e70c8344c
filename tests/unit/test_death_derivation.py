"""derive_death_events: death registry row changes → DeathRegistered / DeathRetracted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from debezium_fixtures import (
    OTHER_PERSON,
    PERSON,
    death_delete_before,
    death_row,
    hukou_row,
    payload,
    wire,
    with_schema,
)

from shaobing_contracts.death import DeathRegistered, DeathRetracted, DeathSource
from shaobing_contracts.id_number import make_id_number
from shaobing_contracts.provenance import Channel, SourceSystem
from shaobing_ingest.domain.cdc.changes import ChangeRejected, RowChange, parse_change
from shaobing_ingest.domain.sources.death import derive_death_events

SHANGHAI = ZoneInfo("Asia/Shanghai")
INGESTED_AT = datetime(2025, 8, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
CERTIFICATE = "D110105-2025-000123"


def _change(item: dict, *, schema: bool = False) -> RowChange:
    change = parse_change(wire(with_schema(item) if schema else item), SourceSystem.DEATH)
    assert isinstance(change, RowChange)
    return change


def _derive(
    item: dict, previous_row: dict | None = None, *, ingested_at: datetime = INGESTED_AT
) -> list[DeathRegistered | DeathRetracted]:
    return derive_death_events(
        _change(item),
        previous_row=previous_row,
        channel=Channel.DEBEZIUM_HTTP,
        ingested_at=ingested_at,
    )


def _stored(**changes: object) -> dict:
    """The last row ingested for the certificate, as parse_change decoded it."""
    after = _change(payload("c", after=death_row(**changes))).after
    assert after is not None
    return after


@pytest.mark.parametrize("schema", [True, False], ids=["with schema", "schemaless"])
def test_a_created_registration_registers_the_death(schema: bool) -> None:
    change = _change(payload("c", after=death_row()), schema=schema)
    [event] = derive_death_events(
        change, previous_row=None, channel=Channel.DEBEZIUM_KAFKA, ingested_at=INGESTED_AT
    )
    assert isinstance(event, DeathRegistered)
    assert (event.id_number, event.certificate_no) == (PERSON, CERTIFICATE)
    assert (event.date_of_death, event.death_source) == (date(2025, 7, 31), DeathSource.MEDICAL)
    assert event.recorded_at == datetime(2025, 7, 31, 23, 30, tzinfo=SHANGHAI)
    assert event.provenance.model_dump() == {
        "source_system": SourceSystem.DEATH,
        "table": "death.registrations",
        "primary_key": CERTIFICATE,
        "position": change.position.model_dump(),
        "channel": Channel.DEBEZIUM_KAFKA,
        "ingested_at": INGESTED_AT,
    }


def test_a_late_evening_record_keeps_its_wall_clock_day_in_shanghai() -> None:
    [event] = _derive(payload("c", after=death_row()))
    local = event.recorded_at.astimezone(SHANGHAI)
    assert (local.date(), local.hour, local.minute) == (date(2025, 7, 31), 23, 30)


def test_a_snapshot_row_registers_the_death() -> None:
    [event] = _derive(payload("r", after=death_row(), snapshot="first"))
    assert isinstance(event, DeathRegistered)
    assert event.provenance.position.snapshot is True


UPDATES = [
    pytest.param(
        {"recorded_at": 1754100000000000},
        [],
        id="an update of no relevant column derives nothing",
    ),
    pytest.param(
        {"date_of_death": 20299},
        [("death_registered", PERSON)],
        id="a corrected date of death registers again",
    ),
    pytest.param(
        {"source": "COURT"},
        [("death_registered", PERSON)],
        id="a changed source registers again",
    ),
    pytest.param(
        {"id_number": OTHER_PERSON},
        [("death_retracted", PERSON), ("death_registered", OTHER_PERSON)],
        id="a corrected person retracts the old one and registers the new",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), UPDATES)
def test_an_update_is_compared_with_the_last_row_ingested(
    changes: dict, expected: list[tuple[str, str]]
) -> None:
    events = _derive(payload("u", after=death_row(**changes)), previous_row=_stored())
    assert [(e.event_type, e.id_number) for e in events] == expected
    assert all(e.certificate_no == CERTIFICATE for e in events)


def test_an_update_without_a_previous_row_registers_the_death() -> None:
    [event] = _derive(payload("u", after=death_row(source="POLICE")))
    assert (event.event_type, event.death_source) == ("death_registered", DeathSource.POLICE)


def test_an_update_after_an_invalid_previous_row_retracts_no_one() -> None:
    previous = _stored(id_number="110105195003090020")  # bad checksum: never registered
    events = _derive(payload("u", after=death_row()), previous_row=previous)
    assert [(e.event_type, e.id_number) for e in events] == [("death_registered", PERSON)]


def test_a_delete_with_placeholders_retracts_the_person_of_the_last_row_ingested() -> None:
    [event] = _derive(payload("d", before=death_delete_before()), previous_row=_stored())
    assert isinstance(event, DeathRetracted)
    assert (event.id_number, event.certificate_no) == (PERSON, CERTIFICATE)
    # when the delete was committed upstream (source.ts_ms), in Shanghai
    assert event.recorded_at == datetime(2025, 8, 1, 7, 30, 1, 234000, tzinfo=SHANGHAI)


def test_a_delete_of_a_registration_never_ingested_is_rejected() -> None:
    with pytest.raises(ChangeRejected) as rejected:
        _derive(payload("d", before=death_delete_before()))
    assert rejected.value.field == "certificate_no"
    assert rejected.value.reason == "delete of a registration that was never ingested"


def _micros(wall_clock: datetime) -> int:
    return (wall_clock - datetime(1970, 1, 1)) // timedelta(microseconds=1)


BORN_1990 = make_id_number("440305", date(1990, 5, 17), 31)
INVALID = [
    pytest.param(
        {"id_number": PERSON[:17] + ("0" if PERSON[17] != "0" else "1")},
        "id_number",
        "check character",
        id="a bad checksum is rejected, never matched",
    ),
    pytest.param({"id_number": None}, "id_number", "required", id="a missing ID number"),
    pytest.param({"date_of_death": 20302}, "date_of_death", "future", id="a death in the future"),
    pytest.param(
        {"id_number": BORN_1990, "date_of_death": 7000},
        "date_of_death",
        "before the birth date",
        id="a death before the birth in the ID number",
    ),
    pytest.param({"date_of_death": None}, "date_of_death", "required", id="no date of death"),
    pytest.param({"source": None}, "source", "required", id="no death source"),
    pytest.param({"recorded_at": None}, "recorded_at", "required", id="no recorded_at"),
    pytest.param(
        {"recorded_at": _micros(datetime(1900, 12, 31, 23, 59))},
        "recorded_at",
        "before 1901",
        id="recorded before any registry (Shanghai's local mean time)",
    ),
]


@pytest.mark.parametrize(("changes", "field", "reason"), INVALID)
def test_invalid_registrations_are_rejected_naming_the_field(
    changes: dict, field: str, reason: str
) -> None:
    with pytest.raises(ChangeRejected) as rejected:
        _derive(payload("c", after=death_row(**changes)))
    assert rejected.value.field == field
    assert reason in rejected.value.reason


def test_a_death_dated_today_in_shanghai_is_not_in_the_future() -> None:
    still_yesterday_in_utc = datetime(2025, 7, 31, 17, 0, tzinfo=UTC)  # 01:00 on 1 Aug in Shanghai
    [event] = _derive(
        payload("c", after=death_row(date_of_death=20301)), ingested_at=still_yesterday_in_utc
    )
    assert event.date_of_death == date(2025, 8, 1)


def test_a_change_of_another_table_is_rejected() -> None:
    change = parse_change(
        wire(payload("c", table="hukou.population", after=hukou_row())), SourceSystem.HUKOU
    )
    with pytest.raises(ChangeRejected) as rejected:
        derive_death_events(change, previous_row=None, channel=Channel.CSV, ingested_at=INGESTED_AT)
    assert rejected.value.field == "source.table"


def _event_id(item: dict, previous_row: dict | None = None) -> object:
    return [e.event_id for e in _derive(item, previous_row)]


def test_the_same_item_twice_gets_the_same_event_id() -> None:
    item = payload("c", after=death_row())
    assert _event_id(item) == _event_id(item)


def test_the_same_change_on_another_channel_gets_the_same_event_id() -> None:
    change = _change(payload("c", after=death_row()))
    ids = {
        derive_death_events(change, previous_row=None, channel=channel, ingested_at=INGESTED_AT)[
            0
        ].event_id
        for channel in (Channel.DEBEZIUM_HTTP, Channel.DEBEZIUM_KAFKA)
    }
    assert len(ids) == 1


def test_snapshot_rows_sharing_one_lsn_get_different_event_ids() -> None:
    rows = [
        death_row(certificate_no=f"D110105-2025-{n:06d}", id_number=person)
        for n, person in ((1, PERSON), (2, OTHER_PERSON))
    ]
    ids = {_event_id(payload("r", after=row, lsn=26863936, tx_id=780))[0] for row in rows}
    assert len(ids) == 2


@pytest.mark.parametrize(
    ("second", "same"),
    [
        pytest.param(death_row(), True, id="an identical re-send keeps its id"),
        pytest.param(death_row(source="COURT"), False, id="different contents get a new id"),
    ],
)
def test_without_an_lsn_the_row_content_decides_the_event_id(second: dict, same: bool) -> None:
    def incremental(row: dict) -> dict:
        return payload("r", after=row, lsn=None, tx_id=None, snapshot="incremental")

    assert (_event_id(incremental(death_row())) == _event_id(incremental(second))) is same


def test_retraction_and_registration_of_one_update_get_different_event_ids() -> None:
    item = payload("u", after=death_row(id_number=OTHER_PERSON))
    retraction, registration = _event_id(item, previous_row=_stored())
    assert retraction != registration


def test_a_delete_and_the_create_it_retracts_get_different_event_ids() -> None:
    [created] = _event_id(payload("c", after=death_row()))
    [deleted] = _event_id(payload("d", before=death_delete_before()), previous_row=_stored())
    assert created != deleted
