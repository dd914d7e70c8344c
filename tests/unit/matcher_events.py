"""Events of every source, enrolments, and the default rules, for the matcher's unit tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from uuid import UUID, uuid5

from shaobing_contracts.alert import AlertRaised, AlertWithdrawn
from shaobing_contracts.codec import AnyPersonEvent, encode
from shaobing_contracts.death import DeathRegistered, DeathRetracted, DeathSource, SpouseDeathNoted
from shaobing_contracts.enrolment import (
    EnrolmentFacts,
    EnrolmentStatus,
    MemberRole,
    PersonEnrolment,
    Program,
)
from shaobing_contracts.hukou import (
    CancellationReason,
    Gender,
    HukouStatus,
    PersonMoved,
    PersonMovedOut,
    PersonRegistered,
    RegistrationCancelled,
)
from shaobing_contracts.id_number import make_id_number
from shaobing_contracts.marriage import MarriageKind, MarriageRegistered, MarriageRetracted
from shaobing_contracts.provenance import Channel, Provenance, SourcePosition, SourceSystem
from shaobing_contracts.social_security import (
    EmploymentEnded,
    EmploymentStarted,
    EmploymentStatus,
    PensionStarted,
)
from shaobing_contracts.source_event import SourceEvent
from shaobing_dev.profile_matcher import Message
from shaobing_matcher.domain.clock import Clock
from shaobing_matcher.domain.evaluation import Outcome, RuleBook, alert_id
from shaobing_matcher.domain.matching import apply
from shaobing_matcher.domain.person import PersonState
from shaobing_rules.loading import load_rule_set

ROOT = Path(__file__).resolve().parents[2]
RULES = load_rule_set(ROOT / "rules")
SHANGHAI = timezone(timedelta(hours=8))
BENEFICIARY = make_id_number("310110", date(1940, 4, 1), 11)
SPOUSE = make_id_number("310110", date(1942, 6, 30), 22)
CHILD = make_id_number("310110", date(1975, 1, 15), 33)
HOME = "310110012003"  # the enrolment's community
CLOCK = Clock(now=datetime(2026, 11, 25, 3, 0, tzinfo=UTC), today=date(2026, 11, 25), cutoff_day=20)
ENROLLED_AT = datetime(2024, 1, 3, 9, 0, tzinfo=SHANGHAI)
_NAMESPACE = UUID("9b1c1a3e-6f59-4c55-8c8e-2a4b9e3f0d11")


def enrolment(
    enrolment_id: str = "DIBAO-310110-0001",
    *,
    program: Program = Program.DIBAO,
    status: EnrolmentStatus = EnrolmentStatus.ACTIVE,
    beneficiary: str = BENEFICIARY,
    members: Sequence[str] = (BENEFICIARY, SPOUSE),
    area: str = HOME,
    monthly_amount: str = "1510.00",
    start_month: str = "2024-01",
) -> EnrolmentFacts:
    return EnrolmentFacts(
        enrolment_id=enrolment_id,
        program=program,
        beneficiary_id=beneficiary,
        household_members=list(members),
        monthly_amount=Decimal(monthly_amount),
        area_code=area,
        status=status,
        start_month=start_month,
    )


def joined(
    facts: EnrolmentFacts | None = None,
    *,
    person: str = BENEFICIARY,
    role: MemberRole | None = MemberRole.BENEFICIARY,
    at: datetime = ENROLLED_AT,
) -> PersonEnrolment:
    facts = facts or enrolment()
    return PersonEnrolment(
        id_number=person,
        role=role,
        source_event_id=uuid5(_NAMESPACE, f"enrolment|{facts.enrolment_id}|{facts.status}|{at}"),
        recorded_at=at,
        enrolment=facts,
    )


def provenance(system: SourceSystem, table: str, key: str, op: str = "c") -> Provenance:
    return Provenance(
        source_system=system,
        table=table,
        primary_key=key,
        position=SourcePosition(op=op, lsn="26863944", tx_id=781),
        channel=Channel.DEBEZIUM_HTTP,
        ingested_at=datetime(2026, 11, 25, 2, 31, tzinfo=UTC),
    )


def _base(kind: str, person: str, key: str, system: SourceSystem, table: str, at: datetime):
    return {
        "event_id": uuid5(_NAMESPACE, f"{kind}|{person}|{key}|{at}"),
        "id_number": person,
        "recorded_at": at,
        "provenance": provenance(system, table, key, "d" if "retract" in kind else "c"),
    }


def died(
    person: str = BENEFICIARY,
    *,
    on: date = date(2026, 9, 5),
    recorded: datetime = datetime(2026, 11, 25, 10, 30, tzinfo=SHANGHAI),
    certificate_no: str = "D310110-2026-000042",
) -> DeathRegistered:
    return DeathRegistered(
        **_base(
            "death", person, certificate_no, SourceSystem.DEATH, "death.registrations", recorded
        ),
        certificate_no=certificate_no,
        date_of_death=on,
        death_source=DeathSource.MEDICAL,
    )


def death_retracted(
    person: str = BENEFICIARY, certificate_no: str = "D310110-2026-000042"
) -> DeathRetracted:
    at = datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
    return DeathRetracted(
        **_base("death-retract", person, certificate_no, SourceSystem.DEATH, "death.r", at),
        certificate_no=certificate_no,
    )


def spouse_died(person: str, spouse: str, on: date | None = date(2026, 8, 1)) -> SpouseDeathNoted:
    """What the matcher tells `person` of their spouse's death (on None: retracted)."""
    return SpouseDeathNoted(
        id_number=person,
        spouse_id=spouse,
        date_of_death=on,
        certificate_no="D310110-2026-000007" if on else None,
        noted_at=CLOCK.now,
    )


_HUKOU = (SourceSystem.HUKOU, "hukou.population")
_AT = datetime(2026, 11, 10, 9, 0, tzinfo=SHANGHAI)


def registered(person: str = BENEFICIARY, area: str = HOME) -> PersonRegistered:
    return PersonRegistered(
        **_base("registered", person, person, *_HUKOU, datetime(2020, 1, 1, tzinfo=SHANGHAI)),
        occurred_on=date(2020, 1, 1),
        gender=Gender.FEMALE,
        birth_date=date(1940, 4, 1),
        household_no="H-0001",
        relation_to_head="户主",
        area_code=area,
        status=HukouStatus.ACTIVE,
    )


def moved(person: str = BENEFICIARY, to_area: str = "310115001001") -> PersonMoved:
    return PersonMoved(
        **_base(f"moved-{to_area}", person, person, *_HUKOU, _AT),
        occurred_on=date(2026, 9, 10),
        from_area=HOME,
        to_area=to_area,
        within_district=to_area[:6] == HOME[:6],
    )


def moved_out(person: str = BENEFICIARY) -> PersonMovedOut:
    return PersonMovedOut(
        **_base("moved-out", person, person, *_HUKOU, _AT),
        occurred_on=date(2026, 9, 10),
        from_area=HOME,
    )


def cancelled(
    person: str = BENEFICIARY, reason: CancellationReason = CancellationReason.CANCELLED
) -> RegistrationCancelled:
    return RegistrationCancelled(
        **_base(f"cancelled-{reason}", person, person, *_HUKOU, _AT),
        occurred_on=date(2026, 9, 10),
        reason=reason,
        area_code=HOME,
    )


def married(
    person: str = BENEFICIARY,
    *,
    spouse: str = CHILD,
    kind: MarriageKind = MarriageKind.MARRIAGE,
    registration_no: str = "M-2026-0007",
) -> MarriageRegistered:
    return MarriageRegistered(
        **_base(kind, person, registration_no, SourceSystem.MARRIAGE, "marriage.r", _AT),
        kind=kind,
        registration_no=registration_no,
        registered_on=date(2026, 11, 8),
        occurred_on=date(2026, 11, 8),
        office_code=HOME,
        spouse_id=spouse,
    )


def marriage_retracted(
    person: str = BENEFICIARY, registration_no: str = "M-2026-0007"
) -> MarriageRetracted:
    at = datetime(2026, 11, 12, 9, 0, tzinfo=SHANGHAI)
    return MarriageRetracted(
        **_base("marriage-retract", person, registration_no, SourceSystem.MARRIAGE, "m.r", at),
        registration_no=registration_no,
    )


_SOCIAL = (SourceSystem.SOCIAL_SECURITY, "social_security.person_status")


def pension_started(person: str = BENEFICIARY, amount: str = "2100.00") -> PensionStarted:
    return PensionStarted(
        **_base(f"pension-{amount}", person, person, *_SOCIAL, _AT),
        occurred_on=date(2026, 10, 1),
        monthly_amount=Decimal(amount),
    )


def employed(person: str = BENEFICIARY, base: str = "5200.00") -> EmploymentStarted:
    return EmploymentStarted(
        **_base(f"employed-{base}", person, person, *_SOCIAL, _AT),
        occurred_on=date(2026, 10, 1),
        employment_status=EmploymentStatus.EMPLOYED,
        employer_uscc="91310000MA1FL0000X",
        contribution_base=Decimal(base),
    )


def unemployed(person: str = BENEFICIARY) -> EmploymentEnded:
    return EmploymentEnded(
        **_base("unemployed", person, person, *_SOCIAL, datetime(2026, 11, 20, tzinfo=SHANGHAI)),
        occurred_on=date(2026, 11, 15),
        employment_status=EmploymentStatus.UNEMPLOYED,
    )


def ingested(event: SourceEvent, at: datetime, lsn: int | None = 26863944) -> SourceEvent:
    """The event as ingest accepted it at `at`, at source position `lsn`."""
    provenance = event.provenance
    position = provenance.position.model_copy(update={"lsn": None if lsn is None else str(lsn)})
    changed = provenance.model_copy(update={"ingested_at": at, "position": position})
    return event.model_copy(update={"provenance": changed})


def records(events: Sequence[AnyPersonEvent | bytes], person: str = BENEFICIARY) -> list:
    """The events as consumed messages of the person (bytes: a message as it came)."""
    return [
        Message("src.test.v1", 0, n, person.encode(), e if isinstance(e, bytes) else encode(e))
        for n, e in enumerate(events)
    ]


def last_outcome(
    events: Sequence[AnyPersonEvent], *, person: str = BENEFICIARY, clock: Clock = CLOCK
) -> Outcome:
    """Apply the events in order; what the last evaluation gave."""
    state, book = PersonState(id_number=person), RuleBook.on(RULES, clock)
    for event in events:
        outcome = apply(state, event, book, clock)
        state = outcome.state
    return outcome


def run(
    events: Sequence[AnyPersonEvent], *, person: str = BENEFICIARY, clock: Clock = CLOCK
) -> tuple[PersonState, list[AlertRaised], list[AlertWithdrawn]]:
    """Apply the events in order; the final state with what the last evaluation sent."""
    outcome = last_outcome(events, person=person, clock=clock)
    return outcome.state, outcome.raised, outcome.withdrawn


def open_alerts(events: Sequence[AnyPersonEvent], **kwargs) -> dict[tuple[str, str], AlertRaised]:
    """(rule id, enrolment id) → alert, as the last evaluation holds them."""
    return {(a.rule_id, a.enrolment_id): a for a in run(events, **kwargs)[1]}


def expected_id(rule_id: str, fact_key: str, enrolment_id: str = "DIBAO-310110-0001") -> UUID:
    return alert_id(rule_id, enrolment_id, fact_key)
