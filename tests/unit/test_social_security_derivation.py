"""derive_social_security_events: person-status row changes → pension, employment, benefit."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import orjson
import pytest
from debezium_fixtures import (
    PERSON,
    RECORDED_AT_MICROS,
    TableUnderTest,
    decimal_b64,
    delete_before,
    hukou_row,
    payload,
    social_security_row,
    wire,
)

from shaobing_contracts.provenance import Channel, SourceSystem
from shaobing_contracts.social_security import (
    EmploymentEnded,
    EmploymentStarted,
    EmploymentStatus,
    PensionAmountChanged,
    PensionEnded,
    PensionStarted,
    PensionStatus,
    UnemploymentBenefitEnded,
    UnemploymentBenefitStarted,
)
from shaobing_ingest.domain.cdc.body import split_body
from shaobing_ingest.domain.cdc.changes import ChangeRejected, RowChange, parse_change
from shaobing_ingest.domain.cdc.stored_rows import decode_stored_row
from shaobing_ingest.domain.intake import changes_of, derive
from shaobing_ingest.domain.sources.social_security import derive_social_security_events
from shaobing_ingest.domain.sources.tables import SOCIAL_SECURITY_PERSON_STATUS

SHANGHAI = ZoneInfo("Asia/Shanghai")
INGESTED_AT = datetime(2025, 8, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
TABLE = "social_security.person_status"
HOUR = 3_600_000_000
EMPLOYER = "91110105MA01ABCD1X"
OTHER_EMPLOYER = "91310104MA1FL2XK3B"
# The fixture row: RECEIVING 3200.00 a month, UNEMPLOYED, no benefit.
NOTHING = {"pension_status": "NONE", "pension_monthly_amount": decimal_b64("0")}
RECEIVING = {"pension_status": "RECEIVING", "pension_monthly_amount": decimal_b64("3200.00")}
EMPLOYED = {
    "employment_status": "EMPLOYED",
    "employer_uscc": EMPLOYER,
    "contribution_base": decimal_b64("6500.00"),
}
UNEMPLOYED = {"employment_status": "UNEMPLOYED", "employer_uscc": None}
BENEFIT = {"unemployment_benefit": decimal_b64("1850.00")}
NO_BENEFIT = {"unemployment_benefit": decimal_b64("0")}


_TABLE = TableUnderTest(
    TABLE,
    SourceSystem.SOCIAL_SECURITY,
    social_security_row,
    derive_social_security_events,
    INGESTED_AT,
)
_change, _item, _derive, _stored = _TABLE.change, _TABLE.item, _TABLE.derive, _TABLE.stored


def _types(events: list) -> list[str]:
    return [e.event_type for e in events]


@pytest.mark.parametrize("schema", [True, False], ids=["with schema", "schemaless"])
def test_a_created_row_receiving_a_pension_starts_it(schema: bool) -> None:
    change = _change(_item("c"), schema=schema)
    [event] = derive_social_security_events(
        change, previous_row=None, channel=Channel.DEBEZIUM_KAFKA, ingested_at=INGESTED_AT
    )
    assert isinstance(event, PensionStarted)
    assert (event.id_number, event.monthly_amount) == (PERSON, Decimal("3200.00"))
    assert json.loads(event.model_dump_json())["monthly_amount"] == "3200.00"
    assert event.recorded_at == datetime(2025, 7, 31, 23, 30, tzinfo=SHANGHAI)
    assert event.occurred_on == date(2025, 7, 31)
    assert (event.provenance.table, event.provenance.primary_key) == (TABLE, PERSON)


CREATED = [
    pytest.param("c", NOTHING, [], id="a row in the default state derives nothing"),
    pytest.param("r", {}, ["pension_started"], id="a snapshot row receiving a pension"),
    pytest.param("r", NOTHING | EMPLOYED, ["employment_started"], id="a snapshot row employed"),
    pytest.param(
        "c",
        NOTHING | {"employment_status": "SELF_EMPLOYED"},
        ["employment_started"],
        id="self-employed without an employer",
    ),
    pytest.param(
        "c", NOTHING | BENEFIT, ["unemployment_benefit_started"], id="a row with a benefit"
    ),
    pytest.param(
        "u",
        EMPLOYED | BENEFIT,
        ["pension_started", "employment_started", "unemployment_benefit_started"],
        id="an update never ingested shows everything",
    ),
    pytest.param(
        "r",
        {"pension_status": "SUSPENDED"},
        [],
        id="a suspended pension is not a start",
    ),
]


@pytest.mark.parametrize(("op", "changes", "expected"), CREATED)
def test_without_a_previous_row_whatever_the_row_shows_is_reported(
    op: str, changes: dict, expected: list[str]
) -> None:
    assert _types(_derive(_item(op, **changes))) == expected


UPDATES = [
    pytest.param(
        {},
        {"updated_at": RECORDED_AT_MICROS + HOUR, "contribution_base": decimal_b64("4000.00")},
        [],
        id="updated_at and contribution base only derive nothing",
    ),
    pytest.param(
        {},
        {"pension_monthly_amount": decimal_b64("3300.00")},
        ["pension_amount_changed"],
        id="a new pension amount",
    ),
    pytest.param({}, {"pension_status": "SUSPENDED"}, ["pension_ended"], id="suspended"),
    pytest.param({}, {"pension_status": "TERMINATED"}, ["pension_ended"], id="terminated"),
    pytest.param({}, NOTHING, ["pension_ended"], id="back to none"),
    pytest.param(NOTHING, RECEIVING, ["pension_started"], id="a pension starts"),
    pytest.param({"pension_status": "SUSPENDED"}, RECEIVING, ["pension_started"], id="resumed"),
    pytest.param({}, EMPLOYED, ["employment_started"], id="employed"),
    pytest.param(EMPLOYED, UNEMPLOYED, ["employment_ended"], id="employment ends"),
    pytest.param(
        EMPLOYED,
        {"employer_uscc": OTHER_EMPLOYER},
        ["employment_ended", "employment_started"],
        id="another employer",
    ),
    pytest.param(
        EMPLOYED,
        {"employment_status": "SELF_EMPLOYED", "employer_uscc": None},
        ["employment_ended", "employment_started"],
        id="from employed to self-employed",
    ),
    pytest.param({}, BENEFIT, ["unemployment_benefit_started"], id="a benefit starts"),
    pytest.param(BENEFIT, NO_BENEFIT, ["unemployment_benefit_ended"], id="a benefit ends"),
    pytest.param(
        BENEFIT,
        {"unemployment_benefit": decimal_b64("1900.00")},
        [],
        id="a changed benefit amount derives nothing",
    ),
    pytest.param(
        BENEFIT,
        EMPLOYED | NO_BENEFIT | {"pension_status": "TERMINATED"},
        ["pension_ended", "employment_started", "unemployment_benefit_ended"],
        id="several at once",
    ),
]


@pytest.mark.parametrize(("previous", "changes", "expected"), UPDATES)
def test_an_update_is_compared_with_the_last_row_ingested(
    previous: dict, changes: dict, expected: list[str]
) -> None:
    events = _derive(_item("u", **(previous | changes)), previous_row=_stored(**previous))
    assert _types(events) == expected
    assert all(e.id_number == PERSON for e in events)


def test_the_events_carry_amounts_and_employers() -> None:
    previous = _stored(**EMPLOYED, **BENEFIT)
    item = _item(
        "u",
        pension_monthly_amount=decimal_b64("3300.00"),
        employment_status="EMPLOYED",
        employer_uscc=OTHER_EMPLOYER,
        contribution_base=decimal_b64("9000.00"),
        **NO_BENEFIT,
    )
    changed, ended, started, benefit_ended = _derive(item, previous)
    assert isinstance(changed, PensionAmountChanged)
    assert (changed.from_amount, changed.to_amount) == (Decimal("3200.00"), Decimal("3300.00"))
    assert isinstance(ended, EmploymentEnded)
    assert (ended.employment_status, ended.employer_uscc) == (EmploymentStatus.EMPLOYED, EMPLOYER)
    assert isinstance(started, EmploymentStarted)
    assert (started.employer_uscc, started.contribution_base) == (
        OTHER_EMPLOYER,
        Decimal("9000.00"),
    )
    assert isinstance(benefit_ended, UnemploymentBenefitEnded)
    assert benefit_ended.last_monthly_amount == Decimal("1850.00")


def test_an_ended_pension_says_its_new_status_and_last_amount() -> None:
    [event] = _derive(_item("u", pension_status="SUSPENDED"), _stored())
    assert isinstance(event, PensionEnded)
    assert (event.pension_status, event.last_monthly_amount) == (
        PensionStatus.SUSPENDED,
        Decimal("3200.00"),
    )


def test_a_started_benefit_carries_its_monthly_amount() -> None:
    [event] = _derive(_item("u", **BENEFIT), _stored())
    assert isinstance(event, UnemploymentBenefitStarted)
    assert event.monthly_amount == Decimal("1850.00")


@pytest.mark.parametrize("previous", [True, False], ids=["after a row", "never ingested"])
def test_a_delete_with_placeholders_derives_nothing(previous: bool) -> None:
    item = payload("d", table=TABLE, before=delete_before(TABLE, id_number=PERSON))
    assert _derive(item, _stored() if previous else None) == []


BAD_CHECKSUM = PERSON[:17] + ("0" if PERSON[17] != "0" else "1")

INVALID = [
    pytest.param({"id_number": BAD_CHECKSUM}, "id_number", "check character", id="bad checksum"),
    pytest.param({"pension_status": "PAUSED"}, "pension_status", "not one of", id="unknown"),
    pytest.param({"employment_status": None}, "employment_status", "required", id="no status"),
    pytest.param(
        {"employment_status": "EMPLOYED"}, "employer_uscc", "required", id="employed by no one"
    ),
    pytest.param(
        EMPLOYED | {"employer_uscc": "91110105MA01ABCDIO"},
        "employer_uscc",
        "credit code",
        id="an employer code with I and O",
    ),
    pytest.param(
        {"pension_monthly_amount": decimal_b64("0")},
        "pension_monthly_amount",
        "above 0",
        id="receiving nothing",
    ),
    pytest.param(
        {"unemployment_benefit": decimal_b64("-0.01")},
        "unemployment_benefit",
        "at least 0",
        id="a negative benefit",
    ),
    pytest.param({"contribution_base": None}, "contribution_base", "required", id="no base"),
    pytest.param(
        {"updated_at": RECORDED_AT_MICROS + 48 * HOUR}, "updated_at", "future", id="future update"
    ),
]


@pytest.mark.parametrize(("changes", "field", "reason"), INVALID)
def test_invalid_rows_are_rejected_naming_the_field(changes: dict, field: str, reason: str) -> None:
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
        derive_social_security_events(
            change, previous_row=None, channel=Channel.CSV, ingested_at=INGESTED_AT
        )
    assert rejected.value.field == "source.table"


def test_the_events_of_one_change_get_distinct_and_stable_ids() -> None:
    item = _item("u", **EMPLOYED, **BENEFIT, pension_status="TERMINATED")
    first = [e.event_id for e in _derive(item, _stored())]
    assert len(set(first)) == 3
    assert first == [e.event_id for e in _derive(item, _stored())]


def test_a_stored_row_read_back_from_json_is_compared_like_a_fresh_one() -> None:
    stored = decode_stored_row(
        SOCIAL_SECURITY_PERSON_STATUS,
        orjson.loads(orjson.dumps(_stored(**EMPLOYED, **BENEFIT), default=str)),
    )
    unchanged = _item("u", **EMPLOYED, **BENEFIT, updated_at=RECORDED_AT_MICROS + HOUR)
    assert _derive(unchanged, stored) == []
    ended = _item("u", **EMPLOYED, **NO_BENEFIT)
    assert _types(_derive(ended, stored)) == ["unemployment_benefit_ended"]


def test_a_row_without_events_is_reported_as_ignored_by_the_intake() -> None:
    body = orjson.dumps(_item("c", **NOTHING))
    [outcome] = derive(
        changes_of(split_body(body).items, SourceSystem.SOCIAL_SECURITY),
        {},
        channel=Channel.DEBEZIUM_HTTP,
        ingested_at=INGESTED_AT,
    ).outcomes
    assert outcome.status == "ignored"
