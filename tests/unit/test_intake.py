"""Ingest's pure path: a posted body → items → row changes → canonical events or dead letters."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import orjson
import pytest
from debezium_fixtures import (
    OTHER_PERSON,
    PERSON,
    TS_MS,
    death_delete_before,
    death_row,
    hukou_row,
    payload,
    with_schema,
)

from shaobing_contracts.death import DeathRegistered, DeathRetracted
from shaobing_contracts.provenance import Channel, SourceSystem
from shaobing_ingest.domain.cdc.body import BodyItem, UnparseableBody, may_hold_nul, split_body
from shaobing_ingest.domain.cdc.changes import RowChange
from shaobing_ingest.domain.cdc.debezium import DebeziumValue, value_of
from shaobing_ingest.domain.cdc.stored_rows import decode_stored_row, decode_stored_rows
from shaobing_ingest.domain.intake import DERIVERS, Intake, ItemOutcome, changes_of, derive
from shaobing_ingest.domain.sources.tables import (
    DEATH_REGISTRATIONS,
    HUKOU_POPULATION,
    SOCIAL_SECURITY_PERSON_STATUS,
    ChangeRejected,
)

INGESTED_AT = datetime(2025, 8, 1, 2, 0, tzinfo=UTC)
CERTIFICATE = "D110105-2025-000123"
KEY = ("death.registrations", CERTIFICATE)
BAD_CHECKSUM = PERSON[:17] + ("0" if PERSON[17] != "0" else "1")
HEARTBEAT = {"ts_ms": TS_MS}


def ndjson(*items: object) -> bytes:
    return b"\n".join(orjson.dumps(item) for item in items) + b"\n"


def intake_of(
    body: bytes,
    previous_rows: dict | None = None,
    *,
    source: SourceSystem = SourceSystem.DEATH,
) -> Intake:
    return derive(
        changes_of(split_body(body).items, source),
        previous_rows or {},
        channel=Channel.DEBEZIUM_HTTP,
        ingested_at=INGESTED_AT,
    )


def summary(intake: Intake) -> list[tuple[int, str, str | None]]:
    return [(o.index, o.status, o.field) for o in intake.outcomes]


# --- split_body ------------------------------------------------------------------------------


def typed(value: object) -> object:
    """What the body decoder makes of a plain JSON value (typed, or itself when it does not fit)."""
    try:
        return value_of(value)
    except ChangeRejected:
        return value


def test_a_single_object_is_one_item_with_its_own_bytes() -> None:
    body = orjson.dumps(payload("c", after=death_row()))

    split = split_body(body)

    assert split.items == [BodyItem(0, value_of(orjson.loads(body)))]
    assert split.raw(0) == body


def test_an_array_is_one_item_per_element_in_order_its_texts_cut_on_demand() -> None:
    values = [payload("c", after=death_row()), HEARTBEAT, None]

    split = split_body(orjson.dumps(values))

    assert [i.index for i in split.items] == [0, 1, 2]
    assert [i.value for i in split.items] == [value_of(v) for v in values]
    assert all(isinstance(i.value, DebeziumValue) for i in split.items)
    assert [orjson.loads(split.raw(i)) for i in range(3)] == values
    assert all(i.error is None for i in split.items)


def test_an_empty_array_is_no_items() -> None:
    assert split_body(b"[]").items == []


def test_ndjson_with_one_bad_line_keeps_the_others_and_marks_that_one() -> None:
    good = payload("c", after=death_row())
    body = orjson.dumps(good) + b"\n{not json\n" + orjson.dumps(HEARTBEAT) + b"\n"

    split = split_body(body)
    first, bad, third = split.items

    assert (first.index, first.value, first.error) == (0, value_of(good), None)
    assert (bad.index, split.raw(1), bad.value) == (1, b"{not json", None)
    assert bad.error is not None
    assert bad.error.startswith("line 2 is not JSON")
    assert (third.index, third.value, third.error) == (2, value_of(HEARTBEAT), None)


def test_ndjson_skips_blank_lines_and_handles_crlf() -> None:
    body = orjson.dumps(HEARTBEAT) + b"\r\n\r\n" + orjson.dumps(HEARTBEAT) + b"\r\n"

    items = split_body(body).items

    assert [(i.index, i.value, i.error) for i in items] == [
        (0, value_of(HEARTBEAT), None),
        (1, value_of(HEARTBEAT), None),
    ]


def test_items_of_one_schema_share_one_decoded_schema_and_keep_their_own_payload() -> None:
    schema = {"type": "struct", "fields": [{"field": "after", "type": "struct"}], "name": "x"}
    values = [{"schema": schema, "payload": {"op": "c", "ts_ms": n}} for n in range(3)]

    items = split_body(orjson.dumps(values)).items

    assert [i.value for i in items] == [value_of(v) for v in values]
    assert [i.value.payload.ts_ms for i in items] == [0, 1, 2]
    assert items[0].value.schema is items[2].value.schema


@pytest.mark.parametrize(
    "value",
    [
        {"schema": None, "payload": {"op": "c"}},
        {"schema": {"name": "s"}, "payload": None},
        {"schema": {"name": "s"}},
        {"payload": {"op": "c"}},
        {"schema": "text", "payload": [1]},
        {"op": "c", "source": {"lsn": 1.5}},
        [1, 2],
        "text",
    ],
)
def test_any_json_item_decodes_to_its_typed_value_or_else_its_plain_value(value: object) -> None:
    split = split_body(orjson.dumps([value, HEARTBEAT]))

    assert [(i.value, i.error) for i in split.items] == [
        (typed(value), None),
        (value_of(HEARTBEAT), None),
    ]
    assert orjson.loads(split.raw(0)) == value


def test_an_item_with_an_unpaired_surrogate_is_a_bad_item_and_the_others_go_through() -> None:
    body = b'[{"op": "c"}, {"name": "\\ud800x"}, null]'

    split = split_body(body)
    first, bad, last = split.items

    assert (first.value, last.value) == (value_of({"op": "c"}), value_of(None))
    assert bad.error == "item 1 holds text that is not Unicode (an unpaired surrogate)"
    assert split.raw(1) == b'{"name": "\\ud800x"}'


@pytest.mark.parametrize("body", [b"null", b" null\n"])
def test_a_null_body_is_kept_as_a_tombstone_item(body: bytes) -> None:
    [item] = split_body(body).items

    assert item.index == 0
    assert item.value == DebeziumValue(None, None)
    assert item.error is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b" \n\t ", "empty"),
        (b'{"op": "c", "x": "\xff\xfe"}', "not UTF-8"),
        (b"42", "JSON object, a JSON array or NDJSON"),
        (b'"a string"', "JSON object, a JSON array or NDJSON"),
        (b"true", "JSON object, a JSON array or NDJSON"),
        (b"{not json", "neither JSON nor NDJSON"),
        (b"{not json\n[also not\n", "neither JSON nor NDJSON"),
    ],
    ids=[
        "empty",
        "blank",
        "not UTF-8",
        "a bare number",
        "a bare string",
        "a bare boolean",
        "a single bad line",
        "every line bad",
    ],
)
def test_a_body_that_cannot_be_parsed_at_all_is_unparseable(body: bytes, message: str) -> None:
    with pytest.raises(UnparseableBody, match=message):
        split_body(body)


def test_unparseable_body_names_the_offending_byte_of_non_utf8() -> None:
    with pytest.raises(UnparseableBody, match=r"byte 3\)"):
        split_body(b'{"a\xff": 1}')


# --- changes_of + derive -----------------------------------------------------------------------


def test_a_mixed_batch_is_accepted_dead_lettered_and_ignored_item_by_item() -> None:
    body = ndjson(
        payload("c", after=death_row()),
        payload("c", after=death_row(certificate_no="D110105-2025-000124", id_number=BAD_CHECKSUM)),
        payload("c", table="death.autopsies", after={"autopsy_no": "A1"}),
        HEARTBEAT,
    )

    intake = intake_of(body)

    assert summary(intake) == [
        (0, "accepted", None),
        (1, "dead_lettered", "id_number"),
        (2, "dead_lettered", "source.table"),
        (3, "ignored", None),
    ]
    accepted, checksum, table, heartbeat = intake.outcomes
    [event] = accepted.events
    assert isinstance(event, DeathRegistered)
    assert event.id_number == PERSON
    assert event.certificate_no == CERTIFICATE
    assert event.date_of_death == date(2025, 7, 31)
    assert "check character" in (checksum.reason or "")
    assert "death.autopsies" in (table.reason or "")
    assert heartbeat.reason == "heartbeat"
    assert intake.events == [event]


def test_only_accepted_rows_are_remembered() -> None:
    body = ndjson(
        payload("c", after=death_row()),
        payload("c", after=death_row(certificate_no="D110105-2025-000124", id_number=BAD_CHECKSUM)),
    )

    intake = intake_of(body)

    assert set(intake.rows) == {KEY}


def test_a_bad_line_of_ndjson_is_dead_lettered_in_its_place() -> None:
    body = orjson.dumps(payload("c", after=death_row())) + b"\n{oops\n" + orjson.dumps(HEARTBEAT)

    intake = intake_of(body)

    assert summary(intake) == [
        (0, "accepted", None),
        (1, "dead_lettered", None),
        (2, "ignored", None),
    ]
    assert (intake.outcomes[1].reason or "").startswith("line 2 is not JSON")


@pytest.mark.parametrize(
    ("item", "status", "field"),
    [
        (None, "ignored", None),
        ([1, 2], "dead_lettered", None),
        (
            payload("c", table="hukou.population", after=hukou_row()),
            "dead_lettered",
            "source.table",
        ),
        (payload("x", after=death_row()), "dead_lettered", "op"),
        (payload("c", after=death_row(id_number="")), "dead_lettered", "id_number"),
        (payload("c", after=death_row(coroner="X")), "dead_lettered", "coroner"),
        (payload("c", after=death_row(source="RUMOUR")), "dead_lettered", "source"),
        (with_schema(payload("c", after=death_row())), "accepted", None),
    ],
    ids=[
        "tombstone",
        "an array item",
        "a table of another source",
        "unknown op",
        "empty id number",
        "unknown column",
        "unknown death source",
        "with schema envelope",
    ],
)
def test_each_item_gets_one_outcome(item: object, status: str, field: str | None) -> None:
    [outcome] = intake_of(orjson.dumps([item])).outcomes

    assert (outcome.index, outcome.status, outcome.field) == (0, status, field)


def test_a_known_table_without_a_deriver_is_dead_lettered_not_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(DERIVERS, "hukou.population")
    body = ndjson(payload("c", table="hukou.population", after=hukou_row()))

    [outcome] = intake_of(body, source=SourceSystem.HUKOU).outcomes

    assert (outcome.status, outcome.field) == ("dead_lettered", "source.table")
    assert "hukou.population" in (outcome.reason or "")


def test_a_create_and_a_delete_in_one_batch_register_then_retract_the_same_person() -> None:
    body = ndjson(
        payload("c", after=death_row()),
        payload("d", before=death_delete_before(), lsn=26863952, tx_id=782),
    )

    intake = intake_of(body)

    assert summary(intake) == [(0, "accepted", None), (1, "accepted", None)]
    registered, retracted = intake.events
    assert isinstance(registered, DeathRegistered)
    assert isinstance(retracted, DeathRetracted)
    assert retracted.id_number == registered.id_number == PERSON
    assert retracted.certificate_no == registered.certificate_no == CERTIFICATE
    assert retracted.event_id != registered.event_id
    assert intake.rows == {KEY: None}


def test_a_delete_of_a_registration_never_ingested_is_dead_lettered() -> None:
    body = ndjson(payload("d", before=death_delete_before()))

    [outcome] = intake_of(body).outcomes

    assert (outcome.status, outcome.field) == ("dead_lettered", "certificate_no")


def test_an_update_with_no_relevant_change_is_ignored() -> None:
    stored = _decoded(death_row())
    later = death_row(recorded_at=death_row()["recorded_at"] + 3_600_000_000)  # an hour later
    body = ndjson(payload("u", after=later, lsn=26864000, tx_id=790))

    intake = intake_of(body, {KEY: stored})

    [outcome] = intake.outcomes
    assert (outcome.status, outcome.reason) == ("ignored", "no relevant column changed")
    assert outcome.events == ()
    assert intake.rows[KEY]["recorded_at"] == datetime(2025, 8, 1, 0, 30)


def test_an_update_to_another_person_retracts_the_old_and_registers_the_new() -> None:
    body = ndjson(payload("u", after=death_row(id_number=OTHER_PERSON), lsn=26864000))

    [outcome] = intake_of(body, {KEY: _decoded(death_row())}).outcomes

    assert outcome.status == "accepted"
    retracted, registered = outcome.events
    assert (type(retracted), retracted.id_number) == (DeathRetracted, PERSON)
    assert (type(registered), registered.id_number) == (DeathRegistered, OTHER_PERSON)


def test_derive_does_not_change_the_rows_it_was_given() -> None:
    previous = {KEY: _decoded(death_row())}
    body = ndjson(payload("d", before=death_delete_before()))

    intake = intake_of(body, previous)

    assert intake.rows == {KEY: None}
    assert previous[KEY] is not None


def test_outcomes_keep_the_index_of_their_item() -> None:
    parsed: list[RowChange | ItemOutcome] = [ItemOutcome(7, "ignored", reason="heartbeat")]

    intake = derive(parsed, {}, channel=Channel.DEBEZIUM_HTTP, ingested_at=INGESTED_AT)

    assert intake.outcomes == parsed


def _decoded(row: dict) -> dict:
    """The row as parse_change decodes it (what the intake remembers)."""
    [change] = changes_of(split_body(ndjson(payload("c", after=row))).items, SourceSystem.DEATH)
    assert isinstance(change, RowChange)
    assert change.after is not None
    return change.after


# --- stored rows -------------------------------------------------------------------------------


def test_a_stored_death_row_reads_back_as_date_and_datetime() -> None:
    stored = {
        "certificate_no": CERTIFICATE,
        "id_number": PERSON,
        "date_of_death": "2025-07-31",
        "source": "MEDICAL",
        "recorded_at": "2025-07-31T23:30:00",
    }

    row = decode_stored_row(DEATH_REGISTRATIONS, stored)

    assert row == {
        "certificate_no": CERTIFICATE,
        "id_number": PERSON,
        "date_of_death": date(2025, 7, 31),
        "source": "MEDICAL",
        "recorded_at": datetime(2025, 7, 31, 23, 30),
    }


@pytest.mark.parametrize(
    ("table", "column", "stored", "value"),
    [
        (HUKOU_POPULATION, "birth_date", "1950-03-09", date(1950, 3, 9)),
        (
            HUKOU_POPULATION,
            "updated_at",
            "2025-07-31T23:30:00.123456",
            datetime(2025, 7, 31, 23, 30, 0, 123456),
        ),
        (HUKOU_POPULATION, "area_code", "110105001002", "110105001002"),
        (SOCIAL_SECURITY_PERSON_STATUS, "pension_monthly_amount", "3200.50", Decimal("3200.50")),
        (SOCIAL_SECURITY_PERSON_STATUS, "unemployment_benefit", "0.00", Decimal("0.00")),
        (SOCIAL_SECURITY_PERSON_STATUS, "employer_uscc", None, None),
        (SOCIAL_SECURITY_PERSON_STATUS, "contribution_base", None, None),
        (DEATH_REGISTRATIONS, "not_a_column", "2025-07-31", "2025-07-31"),
    ],
)
def test_decode_stored_row_converts_by_column_type(
    table, column: str, stored: object, value: object
) -> None:
    decoded = decode_stored_row(table, {column: stored})

    assert decoded == {column: value}
    assert type(decoded[column]) is type(value)


def test_a_stored_row_round_trips_what_parse_change_decoded() -> None:
    decoded = _decoded(death_row())
    as_json = orjson.loads(orjson.dumps(decoded, default=str))

    assert decode_stored_row(DEATH_REGISTRATIONS, as_json) == decoded


def test_decode_stored_rows_picks_the_table_by_key() -> None:
    rows = {
        KEY: {"date_of_death": "2025-07-31"},
        ("hukou.population", PERSON): {"birth_date": "1950-03-09"},
    }

    assert decode_stored_rows(rows) == {
        KEY: {"date_of_death": date(2025, 7, 31)},
        ("hukou.population", PERSON): {"birth_date": date(1950, 3, 9)},
    }


def test_only_text_with_the_escape_may_decode_to_a_nul_character() -> None:
    assert may_hold_nul(b'{"a": "x\\u0000y"}')
    assert may_hold_nul(b"{}", b'["\\u0000"]')  # any of several (a batch of Kafka records)
    assert not may_hold_nul(b'{"a": "x/u0000 and 0000"}', b"{}")
    assert not may_hold_nul()
