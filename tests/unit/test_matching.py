"""The matcher domain: the death–enrolment join, the payout calendar and membership fan-out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID, uuid5

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shaobing_contracts.alert import Action, AlertRaised, Severity
from shaobing_contracts.death import DeathRegistered, DeathRetracted, DeathSource
from shaobing_contracts.enrolment import (
    EnrolmentFacts,
    EnrolmentRecorded,
    EnrolmentStatus,
    MemberRole,
    PersonEnrolment,
    Program,
)
from shaobing_contracts.id_number import make_id_number, mask_id_number
from shaobing_contracts.provenance import Channel, Provenance, SourcePosition, SourceSystem
from shaobing_matcher.domain.matching import (
    DEATH_OF_BENEFICIARY,
    Clock,
    PersonEvent,
    alert_id,
    apply,
)
from shaobing_matcher.domain.membership import person_enrolments
from shaobing_matcher.domain.payout_calendar import (
    months_paid_after,
    next_cutoff,
    overpaid_amount,
)
from shaobing_matcher.domain.person import PersonState

SHANGHAI = timezone(timedelta(hours=8))
BENEFICIARY = make_id_number("310110", date(1940, 4, 1), 11)
SPOUSE = make_id_number("310110", date(1942, 6, 30), 22)
CHILD = make_id_number("310110", date(1975, 1, 15), 33)
CERTIFICATE = "D310110-2026-000042"
CLOCK = Clock(now=datetime(2026, 11, 25, 3, 0, tzinfo=UTC), today=date(2026, 11, 25), cutoff_day=20)
_NAMESPACE = UUID("9b1c1a3e-6f59-4c55-8c8e-2a4b9e3f0d11")


# --- factories -----------------------------------------------------------------------------


def enrolment(
    enrolment_id: str = "DIBAO-310110-0001",
    *,
    status: EnrolmentStatus = EnrolmentStatus.ACTIVE,
    beneficiary: str = BENEFICIARY,
    members: Sequence[str] = (BENEFICIARY, SPOUSE),
    monthly_amount: str = "1510.00",
    start_month: str = "2024-01",
    program: Program = Program.DIBAO,
) -> EnrolmentFacts:
    return EnrolmentFacts(
        enrolment_id=enrolment_id,
        program=program,
        beneficiary_id=beneficiary,
        household_members=list(members),
        monthly_amount=Decimal(monthly_amount),
        area_code="310110012003",
        status=status,
        start_month=start_month,
    )


def joined(
    facts: EnrolmentFacts | None = None,
    *,
    person: str = BENEFICIARY,
    role: MemberRole | None = MemberRole.BENEFICIARY,
) -> PersonEnrolment:
    facts = facts or enrolment()
    return PersonEnrolment(
        id_number=person,
        role=role,
        source_event_id=uuid5(_NAMESPACE, f"enrolment|{facts.enrolment_id}|{facts.status}"),
        recorded_at=datetime(2024, 1, 3, 9, 0, tzinfo=SHANGHAI),
        enrolment=facts,
    )


def provenance(certificate_no: str = CERTIFICATE, op: str = "c") -> Provenance:
    return Provenance(
        source_system=SourceSystem.DEATH,
        table="death.registrations",
        primary_key=certificate_no,
        position=SourcePosition(op=op, lsn="26863944", tx_id=781),
        channel=Channel.DEBEZIUM_HTTP,
        ingested_at=datetime(2026, 11, 25, 2, 31, tzinfo=UTC),
    )


def died(
    person: str = BENEFICIARY,
    *,
    on: date = date(2026, 9, 5),
    recorded: datetime = datetime(2026, 11, 25, 10, 30, tzinfo=SHANGHAI),
    certificate_no: str = CERTIFICATE,
) -> DeathRegistered:
    return DeathRegistered(
        event_id=uuid5(_NAMESPACE, f"death|{certificate_no}|{person}"),
        id_number=person,
        recorded_at=recorded,
        provenance=provenance(certificate_no),
        certificate_no=certificate_no,
        date_of_death=on,
        death_source=DeathSource.MEDICAL,
    )


def retracted(person: str = BENEFICIARY, certificate_no: str = CERTIFICATE) -> DeathRetracted:
    return DeathRetracted(
        event_id=uuid5(_NAMESPACE, f"retracted|{certificate_no}|{person}"),
        id_number=person,
        recorded_at=datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI),
        provenance=provenance(certificate_no, op="d"),
        certificate_no=certificate_no,
    )


def fold(
    events: Sequence[PersonEvent], *, person: str = BENEFICIARY, clock: Clock = CLOCK
) -> tuple[PersonState, list[list[AlertRaised]]]:
    """Apply the events in order; the alerts each one raised."""
    state, raised = PersonState(id_number=person), []
    for event in events:
        state, alerts = apply(state, event, clock)
        raised.append(alerts)
    return state, raised


def all_alerts(events: Sequence[PersonEvent], **kwargs) -> list[AlertRaised]:
    return [a for alerts in fold(events, **kwargs)[1] for a in alerts]


def expected_id(enrolment_id: str = "DIBAO-310110-0001", person: str = BENEFICIARY):
    """The fact is the person's death, whichever certificate records it."""
    return alert_id(DEATH_OF_BENEFICIARY, enrolment_id, f"death:{person}")


# --- death of a beneficiary ----------------------------------------------------------------


def test_death_of_the_beneficiary_of_an_active_enrolment_raises_a_critical_stop() -> None:
    death = died()

    [[], [alert]] = fold([joined(), death])[1]

    assert alert.rule_id == "death-of-beneficiary"
    assert alert.rule_version == 1
    assert alert.severity is Severity.CRITICAL
    assert alert.action is Action.STOP
    assert alert.enrolment_id == "DIBAO-310110-0001"
    assert alert.program is Program.DIBAO
    assert alert.id_number == BENEFICIARY
    assert alert.area_code == "310110012003"
    assert alert.fact_key == f"death:{BENEFICIARY}"
    assert alert.id == expected_id()
    assert alert.raised_at == CLOCK.now


def test_the_alert_carries_the_death_event_as_evidence_with_its_provenance() -> None:
    death = died()

    [alert] = all_alerts([joined(), death])

    [evidence] = alert.evidence
    assert evidence.event_id == death.event_id
    assert evidence.event_type == "death_registered"
    assert evidence.recorded_at == death.recorded_at
    assert evidence.provenance == death.provenance
    assert evidence.facts == {
        "certificate_no": CERTIFICATE,
        "date_of_death": "2026-09-05",
        "death_source": "MEDICAL",
    }


def test_the_explanation_names_the_person_masked_in_both_languages() -> None:
    [alert] = all_alerts([joined(), died()])

    for text in (alert.explanation.zh_cn, alert.explanation.en):
        assert text.strip()
        assert mask_id_number(BENEFICIARY) in text
        assert BENEFICIARY not in text
        assert BENEFICIARY[6:14] not in text  # not even the birth date
        assert CERTIFICATE in text
    assert "最低生活保障" in alert.explanation.zh_cn
    assert "DIBAO" in alert.explanation.en


def test_death_recorded_before_enrolment_still_alerts_with_the_same_id() -> None:
    death_first = all_alerts([died(), joined()])
    enrolment_first = all_alerts([joined(), died()])

    assert [a.id for a in death_first] == [a.id for a in enrolment_first] == [expected_id()]
    assert death_first[0].model_dump(exclude={"raised_at"}) == enrolment_first[0].model_dump(
        exclude={"raised_at"}
    )


def test_the_same_death_delivered_twice_raises_the_same_alert_id() -> None:
    [[], [first], [second]] = fold([joined(), died(), died()])[1]

    assert first.id == second.id == expected_id()
    assert first == second


def test_the_alert_id_is_deterministic_in_rule_enrolment_and_fact() -> None:
    same = alert_id(DEATH_OF_BENEFICIARY, "E1", "death:C1")
    others = {
        alert_id(DEATH_OF_BENEFICIARY, "E2", "death:C1"),
        alert_id(DEATH_OF_BENEFICIARY, "E1", "death:C2"),
    }

    assert alert_id(DEATH_OF_BENEFICIARY, "E1", "death:C1") == same
    assert same not in others
    assert len(others) == 2


def test_each_active_enrolment_of_the_beneficiary_gets_its_own_alert() -> None:
    dibao = enrolment("DIBAO-310110-0001")
    gaoling = enrolment(
        "GAOLING-310110-0007", program=Program.GAOLING, members=[BENEFICIARY], start_month="2020-05"
    )

    alerts = all_alerts([joined(dibao), joined(gaoling), died()])

    assert {a.id for a in alerts} == {
        expected_id("DIBAO-310110-0001"),
        expected_id("GAOLING-310110-0007"),
    }


@pytest.mark.parametrize(
    ("events", "person"),
    [
        ([joined(person=SPOUSE, role=MemberRole.MEMBER), died(SPOUSE)], SPOUSE),
        ([died(SPOUSE), joined(person=SPOUSE, role=MemberRole.MEMBER)], SPOUSE),
        ([joined(enrolment(status=EnrolmentStatus.TERMINATED)), died()], BENEFICIARY),
        ([joined(enrolment(status=EnrolmentStatus.SUSPENDED)), died()], BENEFICIARY),
        ([died(), joined(enrolment(status=EnrolmentStatus.TERMINATED))], BENEFICIARY),
        ([died(), joined(enrolment(status=EnrolmentStatus.SUSPENDED))], BENEFICIARY),
        ([joined(), joined(role=None), died()], BENEFICIARY),
        ([died(), retracted(), joined()], BENEFICIARY),
        ([died()], BENEFICIARY),
        ([joined()], BENEFICIARY),
    ],
    ids=[
        "a household member dies",
        "a household member who died joins",
        "terminated enrolment",
        "suspended enrolment",
        "death, then terminated enrolment",
        "death, then suspended enrolment",
        "the beneficiary left the household",
        "retracted death, then enrolment",
        "death without enrolment",
        "enrolment without death",
    ],
)
def test_no_alert_from_death_of_beneficiary(events: list[PersonEvent], person: str) -> None:
    assert all_alerts(events, person=person) == []


def test_a_retraction_itself_raises_nothing() -> None:
    [[], [alert], after_retraction] = fold([joined(), died(), retracted()])[1]

    assert alert.id == expected_id()
    assert after_retraction == []


def test_a_person_leaving_the_household_removes_the_enrolment() -> None:
    state, raised = fold([joined(), joined(role=None)])

    assert state.enrolments == {}
    assert raised == [[], []]


def test_leaving_an_enrolment_keeps_the_persons_other_enrolments() -> None:
    gaoling = enrolment("GAOLING-310110-0007", program=Program.GAOLING, members=[BENEFICIARY])

    state, _ = fold([joined(), joined(gaoling), joined(role=None)])

    assert set(state.enrolments) == {"GAOLING-310110-0007"}


def test_a_retracted_death_is_forgotten_so_a_later_enrolment_raises_nothing() -> None:
    state, raised = fold([died(), retracted(), joined()])

    assert state.deaths == {}
    assert raised == [[], [], []]


def test_retracting_one_certificate_keeps_another_registered_death() -> None:
    other = died(certificate_no="D310110-2026-000043")

    state, raised = fold([died(), other, retracted(), joined()])

    assert set(state.deaths) == {"D310110-2026-000043"}
    assert [a.id for a in raised[-1]] == [expected_id()]


def test_an_enrolment_suspended_after_the_death_raises_nothing_more() -> None:
    suspended = joined(enrolment(status=EnrolmentStatus.SUSPENDED))

    [[], [alert], []] = fold([joined(), died(), suspended])[1]

    assert alert.id == expected_id()


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (date(2026, 11, 25), date(2026, 12, 20)),
        (date(2026, 11, 20), date(2026, 11, 20)),
        (date(2026, 11, 3), date(2026, 11, 20)),
        (date(2026, 12, 21), date(2027, 1, 20)),
    ],
)
def test_the_due_date_is_the_next_payout_cutoff(today: date, due: date) -> None:
    clock = Clock(now=datetime(2026, 12, 31, tzinfo=UTC), today=today, cutoff_day=20)

    [alert] = all_alerts(
        [joined(), died(recorded=datetime(2026, 9, 6, tzinfo=SHANGHAI))], clock=clock
    )

    assert alert.due_date == due


def test_a_late_recorded_death_carries_the_months_and_amount_overpaid() -> None:
    death = died(on=date(2026, 9, 5), recorded=datetime(2026, 11, 25, 10, 30, tzinfo=SHANGHAI))

    [alert] = all_alerts([joined(enrolment(monthly_amount="1510.00")), death])

    assert alert.overpaid_months == 2  # October and November were paid out
    assert alert.overpaid_amount == Decimal("3020.00")
    assert "3020.00" in alert.explanation.zh_cn
    assert "3020.00" in alert.explanation.en
    assert '"overpaid_amount":"3020.00"' in alert.model_dump_json()


def test_a_death_recorded_before_the_next_cutoff_overpaid_nothing() -> None:
    death = died(on=date(2026, 9, 5), recorded=datetime(2026, 9, 10, 8, 0, tzinfo=SHANGHAI))

    [alert] = all_alerts([joined(), death])

    assert alert.overpaid_months == 0
    assert alert.overpaid_amount == Decimal("0.00")
    assert "追回" not in alert.explanation.zh_cn


# --- order independence ----------------------------------------------------------------------

_ENROLMENT_SHAPES = st.lists(
    st.tuples(st.sampled_from(list(EnrolmentStatus)), st.sampled_from(list(MemberRole))),
    min_size=1,
    max_size=3,
)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), shapes=_ENROLMENT_SHAPES, deliveries=st.integers(1, 2))
def test_the_order_of_death_and_enrolments_does_not_change_the_alerts(
    data: st.DataObject, shapes: list[tuple[EnrolmentStatus, MemberRole]], deliveries: int
) -> None:
    """Whatever arrives first, exactly the ACTIVE enrolments where the dead person is the
    beneficiary are alerted, each under one id."""
    events: list[PersonEvent] = [died()] * deliveries
    expected = set()
    for n, (status, role) in enumerate(shapes):
        members = [BENEFICIARY] if role is MemberRole.BENEFICIARY else [SPOUSE, BENEFICIARY]
        beneficiary = BENEFICIARY if role is MemberRole.BENEFICIARY else SPOUSE
        facts = enrolment(f"E-{n}", status=status, beneficiary=beneficiary, members=members)
        events.append(joined(facts, role=role))
        if role is MemberRole.BENEFICIARY and status is EnrolmentStatus.ACTIVE:
            expected.add(expected_id(f"E-{n}"))

    shuffled = data.draw(st.permutations(events))

    assert {a.id for a in all_alerts(shuffled)} == expected


@settings(max_examples=10, deadline=None)
@given(shuffled=st.permutations([died(), joined()]))
def test_death_and_beneficiary_enrolment_in_either_order_give_the_same_alert(
    shuffled: list[PersonEvent],
) -> None:
    assert {a.id for a in all_alerts(shuffled)} == {expected_id()}


def test_two_certificates_of_one_death_raise_one_alert_whatever_the_order() -> None:
    deaths: list[PersonEvent] = [
        died(on=date(2026, 9, 5), certificate_no="D310110-2026-000042"),
        died(on=date(2026, 9, 3), certificate_no="P310110-2026-000007"),  # police, 2 days earlier
    ]

    enrolment_first = {a.id for a in all_alerts([joined(), *deaths])}
    deaths_first = {a.id for a in all_alerts([*deaths, joined()])}

    assert enrolment_first == deaths_first
    assert len(deaths_first) == 1


# --- payout calendar -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "cutoff_day", "expected"),
    [
        (date(2026, 11, 19), 20, date(2026, 11, 20)),
        (date(2026, 11, 20), 20, date(2026, 11, 20)),
        (date(2026, 11, 21), 20, date(2026, 12, 20)),
        (date(2026, 12, 21), 20, date(2027, 1, 20)),
        (date(2026, 12, 31), 1, date(2027, 1, 1)),
        (date(2026, 1, 1), 1, date(2026, 1, 1)),
        (date(2026, 2, 28), 28, date(2026, 2, 28)),
    ],
    ids=["before", "on", "after", "December to January", "New Year", "first day", "end of Feb"],
)
def test_next_cutoff_is_the_first_cutoff_on_or_after_today(
    today: date, cutoff_day: int, expected: date
) -> None:
    assert next_cutoff(today, cutoff_day) == expected


def test_a_cutoff_day_past_the_end_of_a_short_month_falls_in_that_month() -> None:
    assert next_cutoff(date(2026, 2, 10), 30).month == 2


@pytest.mark.parametrize(
    ("died_on", "known_on", "start_month", "months"),
    [
        (date(2026, 9, 5), date(2026, 11, 25), "2024-01", 2),  # Oct, Nov paid
        (date(2026, 9, 5), date(2026, 11, 20), "2024-01", 2),  # on Nov's cut-off: paid
        (date(2026, 9, 5), date(2026, 11, 19), "2024-01", 1),  # Nov not yet paid
        (date(2026, 9, 5), date(2026, 9, 25), "2024-01", 0),  # same month: nothing after it
        (date(2026, 9, 5), date(2026, 9, 6), "2024-01", 0),
        (date(2026, 9, 25), date(2026, 10, 19), "2024-01", 0),
        (date(2026, 9, 25), date(2026, 10, 20), "2024-01", 1),
        (date(2026, 10, 5), date(2026, 12, 25), "2026-12", 1),  # enrolled after the death
        (date(2026, 10, 5), date(2026, 12, 25), "2027-01", 0),  # not paid yet at all
        (date(2026, 11, 5), date(2027, 2, 25), "2024-01", 3),  # Dec, Jan, Feb
        (date(2026, 12, 31), date(2027, 1, 20), "2024-01", 1),  # over New Year
    ],
)
def test_months_paid_after_counts_paid_months_after_the_death_month(
    died_on: date, known_on: date, start_month: str, months: int
) -> None:
    paid = months_paid_after(died_on, known_on=known_on, start_month=start_month, cutoff_day=20)

    assert paid == months


@pytest.mark.parametrize(
    ("months", "amount", "expected"),
    [(0, "1510.00", "0.00"), (2, "1510.00", "3020.00"), (3, "333.33", "999.99")],
)
def test_overpaid_amount_is_months_times_the_monthly_amount(
    months: int, amount: str, expected: str
) -> None:
    assert overpaid_amount(months, Decimal(amount)) == Decimal(expected)


# --- membership ------------------------------------------------------------------------------


def _recorded(facts: EnrolmentFacts) -> EnrolmentRecorded:
    return EnrolmentRecorded(
        event_id=uuid5(_NAMESPACE, f"recorded|{facts.enrolment_id}"),
        recorded_at=datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI),
        enrolment=facts,
    )


def test_every_member_gets_a_person_enrolment_with_their_role() -> None:
    recorded = _recorded(enrolment(members=[SPOUSE, BENEFICIARY, CHILD]))

    fanned = person_enrolments(recorded, previous_members=[])

    assert [(p.id_number, p.role) for p in fanned] == [
        (SPOUSE, MemberRole.MEMBER),
        (BENEFICIARY, MemberRole.BENEFICIARY),
        (CHILD, MemberRole.MEMBER),
    ]
    assert all(p.enrolment == recorded.enrolment for p in fanned)
    assert all(p.source_event_id == recorded.event_id for p in fanned)
    assert all(p.recorded_at == recorded.recorded_at for p in fanned)


def test_members_no_longer_listed_get_role_none() -> None:
    recorded = _recorded(enrolment(members=[BENEFICIARY]))

    fanned = person_enrolments(recorded, previous_members=[BENEFICIARY, SPOUSE, CHILD])

    assert [(p.id_number, p.role) for p in fanned] == [
        (BENEFICIARY, MemberRole.BENEFICIARY),
        (SPOUSE, None),
        (CHILD, None),
    ]


def test_a_new_beneficiary_takes_the_role_and_the_old_one_stays_a_member() -> None:
    recorded = _recorded(enrolment(beneficiary=SPOUSE, members=[BENEFICIARY, SPOUSE]))

    fanned = person_enrolments(recorded, previous_members=[BENEFICIARY, SPOUSE])

    assert {p.id_number: p.role for p in fanned} == {
        BENEFICIARY: MemberRole.MEMBER,
        SPOUSE: MemberRole.BENEFICIARY,
    }


def test_a_membership_fan_out_folds_into_alerts_only_for_the_beneficiary() -> None:
    recorded = _recorded(enrolment(members=[BENEFICIARY, SPOUSE]))
    fanned = {p.id_number: p for p in person_enrolments(recorded, previous_members=[])}

    beneficiary_alerts = all_alerts([died(), fanned[BENEFICIARY]])
    spouse_alerts = all_alerts([died(SPOUSE), fanned[SPOUSE]], person=SPOUSE)

    assert [a.id for a in beneficiary_alerts] == [expected_id()]
    assert spouse_alerts == []
