"""The pydantic contracts: validation, wire form, the checked-in schemas and the topics."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from shaobing_contracts.alert import (
    Action,
    AlertRaised,
    AlertWithdrawn,
    Evidence,
    Explanation,
    Severity,
)
from shaobing_contracts.codec import (
    MESSAGES,
    decode,
    decode_alert_message,
    decode_notification_message,
    decode_person_event,
    encode,
)
from shaobing_contracts.dead_letter import DeadLetter
from shaobing_contracts.death import DeathRegistered, DeathRetracted, DeathSource, SpouseDeathNoted
from shaobing_contracts.enrolment import (
    Enrolment,
    EnrolmentFacts,
    EnrolmentRecorded,
    EnrolmentStatus,
    MemberRole,
    PersonEnrolment,
    Program,
)
from shaobing_contracts.export_schemas import rendered_schemas
from shaobing_contracts.hukou import (
    CancellationReason,
    Gender,
    HouseholdChanged,
    HukouStatus,
    PersonMoved,
    PersonMovedOut,
    PersonRegistered,
    RegistrationCancelled,
)
from shaobing_contracts.id_number import make_id_number
from shaobing_contracts.marriage import MarriageKind, MarriageRegistered, MarriageRetracted
from shaobing_contracts.notification import NotificationRaised, NotificationWithdrawn, Stage
from shaobing_contracts.plain_json import is_plain
from shaobing_contracts.provenance import Channel, Provenance, SourcePosition, SourceSystem
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
from shaobing_contracts.topics import TOPICS, Topic

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "contracts" / "schemas"
SHANGHAI = timezone(timedelta(hours=8))
AT = datetime(2026, 11, 25, 10, 30, tzinfo=SHANGHAI)
BENEFICIARY = make_id_number("310110", date(1948, 5, 17), 11)
SPOUSE = make_id_number("310110", date(1950, 2, 3), 22)


def _with_wrong_check(id_number: str) -> str:
    return id_number[:17] + ("0" if id_number[17] != "0" else "1")


def enrolment_fields(**changes: Any) -> dict[str, Any]:
    """An enrolment as a client would post it (JSON-shaped values)."""
    fields: dict[str, Any] = {
        "enrolment_id": "DIBAO-310110-0001",
        "program": "DIBAO",
        "beneficiary_id": BENEFICIARY,
        "household_members": [BENEFICIARY, SPOUSE],
        "monthly_amount": "1510.00",
        "area_code": "310110012003",
        "status": "ACTIVE",
        "start_month": "2024-01",
        "payout_account": "6222 0210 0112 3456",
    }
    return fields | changes


def facts() -> EnrolmentFacts:
    fields = enrolment_fields()
    del fields["payout_account"]
    return EnrolmentFacts.model_validate(fields)


def provenance() -> Provenance:
    return Provenance(
        source_system=SourceSystem.DEATH,
        table="death.registrations",
        primary_key="D310110-2026-000042",
        position=SourcePosition(op="c", lsn="26863944", tx_id=781),
        channel=Channel.DEBEZIUM_HTTP,
        ingested_at=datetime(2026, 11, 25, 2, 31, tzinfo=UTC),
    )


def death_registered() -> DeathRegistered:
    return DeathRegistered(
        event_id=UUID("00000000-0000-4000-8000-000000000001"),
        id_number=BENEFICIARY,
        recorded_at=AT,
        provenance=provenance(),
        certificate_no="D310110-2026-000042",
        date_of_death=date(2026, 9, 5),
        death_source=DeathSource.MEDICAL,
    )


def death_retracted() -> DeathRetracted:
    return DeathRetracted(
        event_id=UUID("00000000-0000-4000-8000-000000000002"),
        id_number=BENEFICIARY,
        recorded_at=AT,
        provenance=provenance(),
        certificate_no="D310110-2026-000042",
    )


def enrolment_recorded() -> EnrolmentRecorded:
    return EnrolmentRecorded(
        event_id=UUID("00000000-0000-4000-8000-000000000003"), recorded_at=AT, enrolment=facts()
    )


def person_enrolment() -> PersonEnrolment:
    return PersonEnrolment(
        id_number=SPOUSE,
        role=MemberRole.MEMBER,
        source_event_id=UUID("00000000-0000-4000-8000-000000000003"),
        recorded_at=AT,
        enrolment=facts(),
    )


def spouse_death_noted() -> SpouseDeathNoted:
    return SpouseDeathNoted(
        id_number=SPOUSE,
        spouse_id=BENEFICIARY,
        date_of_death=date(2026, 11, 20),
        certificate_no="D310110-2026-000042",
        noted_at=AT,
        evidence=[death_evidence()],
    )


def death_evidence() -> Evidence:
    death = death_registered()
    return Evidence(
        event_id=death.event_id,
        event_type=death.event_type,
        recorded_at=death.recorded_at,
        provenance=death.provenance,
        facts={"certificate_no": death.certificate_no, "date_of_death": "2026-09-05"},
    )


def alert_raised() -> AlertRaised:
    return AlertRaised(
        id=UUID("00000000-0000-4000-8000-000000000004"),
        rule_id="death-of-beneficiary",
        rule_version=1,
        fact_key="death:D310110-2026-000042",
        enrolment_id="DIBAO-310110-0001",
        program=Program.DIBAO,
        id_number=BENEFICIARY,
        area_code="310110012003",
        severity=Severity.CRITICAL,
        action=Action.STOP,
        due_date=date(2026, 12, 20),
        overpaid_months=2,
        overpaid_amount=Decimal("3020.00"),
        evidence=[death_evidence()],
        explanation=Explanation(zh_cn="受益人已死亡，应停发待遇。", en="The beneficiary died."),
        raised_at=AT,
    )


def alert_withdrawn() -> AlertWithdrawn:
    return AlertWithdrawn(
        id=UUID("00000000-0000-4000-8000-000000000004"),
        rule_id="death-of-beneficiary",
        enrolment_id="DIBAO-310110-0001",
        fact_key=f"death:{BENEFICIARY}",
        id_number=BENEFICIARY,
        reason=Explanation(zh_cn="死亡登记已撤销，预警撤回。", en="Death retracted: withdrawn."),
        withdrawn_at=AT,
    )


def notification_raised() -> NotificationRaised:
    return NotificationRaised(
        id=UUID("00000000-0000-4000-8000-000000000005"),
        policy_id="gaoling-eligible",
        policy_version=1,
        benefit="GAOLING",
        stage=Stage.ELIGIBLE,
        period="80",
        id_number=BENEFICIARY,
        area_code="310110012003",
        evidence=[],
        explanation=Explanation(zh_cn="年满80周岁，可申请高龄津贴。", en="Turned 80."),
        raised_at=AT,
    )


def notification_withdrawn() -> NotificationWithdrawn:
    return NotificationWithdrawn(
        id=UUID("00000000-0000-4000-8000-000000000005"),
        policy_id="gaoling-eligible",
        id_number=BENEFICIARY,
        reason=Explanation(zh_cn="已享受高龄津贴，条件不再成立。", en="Enrolled: withdrawn."),
        withdrawn_at=AT,
    )


def test_a_notifications_topic_message_decodes_as_what_it_is() -> None:
    raised, withdrawn = notification_raised(), notification_withdrawn()

    assert decode_notification_message(encode(raised)) == raised
    assert decode_notification_message(encode(withdrawn)) == withdrawn


def test_an_alerts_topic_message_decodes_as_what_it_is() -> None:
    raised, withdrawn = alert_raised(), alert_withdrawn()

    assert decode_alert_message(encode(raised)) == raised
    assert decode_alert_message(encode(withdrawn)) == withdrawn


def dead_letter() -> DeadLetter:
    return DeadLetter(
        id=UUID("00000000-0000-4000-8000-000000000005"),
        service="ingest",
        source="death",
        item=2,
        field="id_number",
        reason="check character is 0, expected X",
        raw='{"op":"c"}',
        received_at=AT,
        correlation_id="req-1",
    )


def _source(n: int, system: SourceSystem, table: str, key: str) -> dict[str, Any]:
    """The fields every source event carries, for the examples of one source."""
    return {
        "event_id": UUID(f"00000000-0000-4000-8000-0000000001{n:02d}"),
        "id_number": BENEFICIARY,
        "recorded_at": AT,
        "provenance": provenance().model_copy(
            update={"source_system": system, "table": table, "primary_key": key}
        ),
    }


def _hukou(n: int) -> dict[str, Any]:
    return _source(n, SourceSystem.HUKOU, "hukou.population", BENEFICIARY) | {
        "occurred_on": date(2026, 11, 25)
    }


def _social(n: int) -> dict[str, Any]:
    return _source(
        n, SourceSystem.SOCIAL_SECURITY, "social_security.person_status", BENEFICIARY
    ) | {"occurred_on": date(2026, 11, 25)}


def _marriage(n: int) -> dict[str, Any]:
    return _source(n, SourceSystem.MARRIAGE, "marriage.registrations", "J310110-2026-000007")


SOURCE_EXAMPLES: dict[str, Callable[[], BaseModel]] = {
    "PersonRegistered": lambda: PersonRegistered(
        **_hukou(1),
        gender=Gender.MALE,
        birth_date=date(1948, 5, 17),
        household_no="H310110-0001",
        relation_to_head="户主",
        area_code="310110012003",
        status=HukouStatus.ACTIVE,
    ),
    "PersonMoved": lambda: PersonMoved(
        **_hukou(2), from_area="310110012003", to_area="310110013001", within_district=True
    ),
    "PersonMovedOut": lambda: PersonMovedOut(**_hukou(3), from_area="310110012003"),
    "RegistrationCancelled": lambda: RegistrationCancelled(
        **_hukou(4), reason=CancellationReason.DECEASED, area_code="310110012003"
    ),
    "HouseholdChanged": lambda: HouseholdChanged(
        **_hukou(5),
        from_household_no="H310110-0001",
        to_household_no="H310110-0002",
        from_relation_to_head="户主",
        to_relation_to_head="父亲",
    ),
    "MarriageRegistered": lambda: MarriageRegistered(
        **_marriage(6),
        kind=MarriageKind.REMARRIAGE,
        registration_no="J310110-2026-000007",
        registered_on=date(2026, 11, 20),
        occurred_on=date(2026, 11, 20),
        office_code="310110000000",
        spouse_id=SPOUSE,
    ),
    "MarriageRetracted": lambda: MarriageRetracted(
        **_marriage(7), registration_no="J310110-2026-000007", spouse_id=SPOUSE
    ),
    "PensionStarted": lambda: PensionStarted(**_social(8), monthly_amount=Decimal("3200.00")),
    "PensionAmountChanged": lambda: PensionAmountChanged(
        **_social(9), from_amount=Decimal("3200.00"), to_amount=Decimal("3300.50")
    ),
    "PensionEnded": lambda: PensionEnded(
        **_social(10),
        pension_status=PensionStatus.SUSPENDED,
        last_monthly_amount=Decimal("3300.50"),
    ),
    "EmploymentStarted": lambda: EmploymentStarted(
        **_social(11),
        employment_status=EmploymentStatus.EMPLOYED,
        employer_uscc="91310110MA1FL2XK3B",
        contribution_base=Decimal("6500.00"),
    ),
    "EmploymentEnded": lambda: EmploymentEnded(
        **_social(12), employment_status=EmploymentStatus.SELF_EMPLOYED
    ),
    "UnemploymentBenefitStarted": lambda: UnemploymentBenefitStarted(
        **_social(13), monthly_amount=Decimal("1850.00")
    ),
    "UnemploymentBenefitEnded": lambda: UnemploymentBenefitEnded(
        **_social(14), last_monthly_amount=Decimal("1850.00")
    ),
}

EXAMPLES: dict[str, Callable[[], BaseModel]] = {
    "DeathRegistered": death_registered,
    "DeathRetracted": death_retracted,
    **SOURCE_EXAMPLES,
    "EnrolmentRecorded": enrolment_recorded,
    "PersonEnrolment": person_enrolment,
    "SpouseDeathNoted": spouse_death_noted,
    "AlertRaised": alert_raised,
    "AlertWithdrawn": alert_withdrawn,
    "NotificationRaised": notification_raised,
    "NotificationWithdrawn": notification_withdrawn,
    "DeadLetter": dead_letter,
}


def _error_fields(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[str | int, ...]]:
    return [e["loc"] for e in exc.value.errors()]


# --- Enrolment validation ----------------------------------------------------------------


def test_a_valid_enrolment_is_accepted() -> None:
    enrolment = Enrolment.model_validate(enrolment_fields())

    assert enrolment.monthly_amount == Decimal("1510.00")
    assert enrolment.status is EnrolmentStatus.ACTIVE


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("beneficiary_id", _with_wrong_check(BENEFICIARY), "check character"),
        ("beneficiary_id", BENEFICIARY[:17], "17 digits followed by a digit or X"),
        ("area_code", "31011001200", "12-digit area code"),
        ("area_code", "3101100120031", "12-digit area code"),
        ("monthly_amount", 1510.0, "not a float"),
        ("monthly_amount", "1510.005", "at most two decimal places"),
        ("monthly_amount", "-0.01", "at least 0"),
        ("monthly_amount", "NaN", "finite"),
        ("monthly_amount", "Infinity", "finite"),
        ("monthly_amount", "a lot", "decimal string"),
        ("start_month", "2026-13", "pattern"),
        ("start_month", "2026-00", "pattern"),
        ("start_month", "2026-1", "pattern"),
        ("enrolment_id", "", "pattern"),
        ("enrolment_id", "-starts-with-dash", "pattern"),
        ("program", "PENSION", "DIBAO"),
        ("status", "CLOSED", "ACTIVE"),
        ("payout_account", "12", "at least 4"),
    ],
)
def test_an_invalid_enrolment_field_is_rejected_naming_the_field(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        Enrolment.model_validate(enrolment_fields(**{field: value}))

    [error] = exc.value.errors()
    assert error["loc"] == (field,)
    assert message in error["msg"]


def test_a_household_member_with_a_bad_checksum_is_rejected_naming_its_position() -> None:
    members = [BENEFICIARY, _with_wrong_check(SPOUSE)]
    with pytest.raises(ValidationError) as exc:
        Enrolment.model_validate(enrolment_fields(household_members=members))

    assert _error_fields(exc) == [("household_members", 1)]


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([SPOUSE], "household_members must include beneficiary_id"),
        ([BENEFICIARY, SPOUSE, SPOUSE], "household_members lists a person twice"),
        ([BENEFICIARY, BENEFICIARY], "household_members lists a person twice"),
    ],
    ids=["beneficiary missing", "member twice", "beneficiary twice"],
)
def test_an_inconsistent_household_is_rejected_with_a_message_naming_the_field(
    members: list[str], message: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        Enrolment.model_validate(enrolment_fields(household_members=members))

    assert message in str(exc.value)


@pytest.mark.parametrize(
    "members", [[SPOUSE], [BENEFICIARY, SPOUSE, SPOUSE]], ids=["missing", "twice"]
)
def test_an_inconsistent_household_is_reported_at_household_members(members: list[str]) -> None:
    with pytest.raises(ValidationError) as exc:
        Enrolment.model_validate(enrolment_fields(household_members=members))

    assert _error_fields(exc) == [("household_members",)]


def test_an_empty_household_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        Enrolment.model_validate(enrolment_fields(household_members=[]))

    assert ("household_members",) in _error_fields(exc)


@pytest.mark.parametrize(
    ("given", "stored"),
    [("1510", "1510.00"), ("1510.5", "1510.50"), (1510, "1510.00"), ("0", "0.00")],
)
def test_money_is_kept_with_two_decimal_places(given: object, stored: str) -> None:
    enrolment = Enrolment.model_validate(enrolment_fields(monthly_amount=given))

    assert str(enrolment.monthly_amount) == stored


@pytest.mark.parametrize("amount", ["1e30", "1" * 29])
def test_an_absurdly_large_amount_is_a_validation_error(amount: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Enrolment.model_validate(enrolment_fields(monthly_amount=amount))

    assert _error_fields(exc) == [("monthly_amount",)]


def test_an_area_code_with_a_trailing_newline_is_rejected() -> None:
    with pytest.raises(ValidationError):
        Enrolment.model_validate(enrolment_fields(area_code="310110012003\n"))


def test_money_serializes_as_a_decimal_string_in_json() -> None:
    enrolment = Enrolment.model_validate(enrolment_fields(monthly_amount="1510"))

    assert json.loads(enrolment.model_dump_json())["monthly_amount"] == "1510.00"
    assert enrolment.model_dump()["monthly_amount"] == Decimal("1510.00")


def test_enrolment_facts_leave_out_the_payout_account() -> None:
    enrolment = Enrolment.model_validate(enrolment_fields())

    matcher_view = EnrolmentFacts.model_validate(enrolment.model_dump(exclude={"payout_account"}))

    assert "payout_account" not in EnrolmentFacts.model_fields
    assert "payout_account" not in matcher_view.model_dump_json()
    assert (
        "payout_account"
        not in EnrolmentRecorded.model_json_schema(mode="serialization")["$defs"]["EnrolmentFacts"][
            "properties"
        ]
    )


def test_enrolment_facts_built_from_a_full_enrolment_drop_the_account() -> None:
    enrolment = Enrolment.model_validate(enrolment_fields())

    matcher_view = EnrolmentFacts.model_validate(enrolment.model_dump())

    assert "6222" not in matcher_view.model_dump_json()


# --- codec -------------------------------------------------------------------------------


def test_every_message_has_an_example_here() -> None:
    assert set(EXAMPLES) == set(MESSAGES)


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_every_message_survives_an_encode_decode_round_trip(name: str) -> None:
    message = EXAMPLES[name]()
    assert isinstance(message, MESSAGES[name])

    data = encode(message)

    assert isinstance(data, bytes)
    assert decode(MESSAGES[name], data) == message
    assert encode(decode(MESSAGES[name], data)) == data


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_every_message_is_encoded_byte_for_byte_as_pydantic_writes_it(name: str) -> None:
    message = EXAMPLES[name]()

    assert encode(message) == message.__pydantic_serializer__.to_json(message)


def test_source_events_and_enrolments_take_the_fast_path_and_free_form_evidence_does_not() -> None:
    fast = {name for name, model in MESSAGES.items() if is_plain(model)}

    assert set(SOURCE_EXAMPLES) | {"DeathRegistered", "DeadLetter"} <= fast
    assert {"AlertRaised", "SpouseDeathNoted"}.isdisjoint(fast)  # evidence: facts of any type


def test_a_full_enrolment_in_place_of_its_facts_is_written_without_the_account() -> None:
    full = Enrolment.model_validate(enrolment_fields())
    recorded = EnrolmentRecorded(
        event_id=UUID(int=1), recorded_at=AT, enrolment=full
    )  # pydantic keeps the subclass instance as it is

    assert not is_plain(EnrolmentRecorded)
    assert b"payout_account" not in encode(recorded)


# Offsets in whole minutes: the only zones with seconds are local mean times before 1901, which
# msgspec rounds and pydantic truncates; ingest refuses wall-clock times before 1901.
_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=-3, minutes=-30)), ZoneInfo("Etc/GMT-14")])
_SHANGHAI = ZoneInfo("Asia/Shanghai")
_TIMES = st.datetimes(timezones=_ZONES) | st.datetimes(
    datetime(1901, 1, 1), timezones=st.just(_SHANGHAI)
)
_TEXT = st.text(st.characters(exclude_categories=("Cs",)))  # any text JSON can hold


@given(
    recorded_at=_TIMES,
    committed_at=st.none() | _TIMES | st.datetimes(),
    key=_TEXT,
    tx_id=st.none() | st.integers(min_value=0, max_value=2**70),
    amount=st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2),
)
def test_the_fast_path_writes_pydantics_bytes_for_any_times_text_numbers_and_money(
    recorded_at: datetime,
    committed_at: datetime | None,
    key: str,
    tx_id: int | None,
    amount: Decimal,
) -> None:
    position = SourcePosition(op="u", lsn=key, tx_id=tx_id, committed_at=committed_at)
    source = _social(1) | {"recorded_at": recorded_at}
    source["provenance"] = provenance().model_copy(update={"position": position})
    message = PensionStarted(**source, monthly_amount=amount)

    assert is_plain(PensionStarted)
    assert encode(message) == message.__pydantic_serializer__.to_json(message)


@pytest.mark.parametrize(
    "example",
    [death_registered, death_retracted, person_enrolment, *SOURCE_EXAMPLES.values()],
    ids=["death_registered", "death_retracted", "person_enrolment", *SOURCE_EXAMPLES],
)
def test_decode_person_event_dispatches_on_event_type(example: Callable[[], BaseModel]) -> None:
    message = example()

    decoded = decode_person_event(encode(message))

    assert type(decoded) is type(message)
    assert decoded == message


def test_decode_person_event_refuses_an_unknown_event_type() -> None:
    data = json.loads(encode(death_registered()))
    data["event_type"] = "death_rumoured"

    with pytest.raises(ValidationError):
        decode_person_event(json.dumps(data).encode())


def test_decode_refuses_a_message_with_an_invalid_id_number() -> None:
    data = json.loads(encode(death_registered()))
    data["id_number"] = _with_wrong_check(BENEFICIARY)

    with pytest.raises(ValidationError, match="check character"):
        decode(DeathRegistered, json.dumps(data).encode())


# --- schemas and topics ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(rendered_schemas()))
def test_the_checked_in_schema_matches_the_model(name: str) -> None:
    path = SCHEMA_DIR / name
    text = rendered_schemas()[name]

    assert path.is_file(), f"{path} is missing: run `make schemas`"
    assert path.read_text(encoding="utf-8") == text, f"{name} is stale: run `make schemas`"


def test_no_schema_is_checked_in_without_a_model() -> None:
    checked_in = {p.name for p in SCHEMA_DIR.glob("*.schema.json")}

    extra = checked_in - set(rendered_schemas())

    assert not extra, f"no model for {sorted(extra)}: run `make schemas` and delete them"


def test_every_topic_has_a_spec() -> None:
    assert set(TOPICS) == set(Topic)
    assert all(spec.topic is topic for topic, spec in TOPICS.items())


@pytest.mark.parametrize("topic", list(Topic), ids=str)
def test_every_topic_name_ends_in_a_version(topic: Topic) -> None:
    assert re.fullmatch(r"[a-z0-9.-]+\.v\d+", topic.value)


@pytest.mark.parametrize("topic", list(Topic), ids=str)
def test_every_topic_carries_known_messages(topic: Topic) -> None:
    names = [n.strip() for n in TOPICS[topic].message.split("|")]

    assert set(names) <= set(MESSAGES)
