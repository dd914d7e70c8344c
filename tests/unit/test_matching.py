"""The matcher's calendar and membership fan-out: pure functions, no I/O."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID, uuid5

import pytest
from matcher_events import (
    BENEFICIARY,
    CHILD,
    SHANGHAI,
    SPOUSE,
    died,
    enrolment,
    expected_id,
    joined,
    last_outcome,
    open_alerts,
)

from shaobing_contracts.enrolment import EnrolmentFacts, EnrolmentRecorded, MemberRole
from shaobing_matcher.domain.membership import person_enrolments
from shaobing_matcher.domain.payout_calendar import (
    months_paid_after,
    next_cutoff,
    overpaid_amount,
)

_NAMESPACE = UUID("9b1c1a3e-6f59-4c55-8c8e-2a4b9e3f0d11")


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


def test_a_household_fan_out_alerts_the_beneficiary_and_the_member_by_their_roles() -> None:
    recorded = _recorded(enrolment(members=[BENEFICIARY, SPOUSE]))
    fanned = {p.id_number: p for p in person_enrolments(recorded, previous_members=[])}

    beneficiary = open_alerts([died(), fanned[BENEFICIARY]])
    spouse = open_alerts([died(SPOUSE), fanned[SPOUSE]], person=SPOUSE)

    assert [a.id for a in beneficiary.values()] == [
        expected_id("death-of-beneficiary", f"death:{BENEFICIARY}")
    ]
    assert [a.rule_id for a in spouse.values()] == ["death-of-household-member"]


def test_an_outcome_counts_the_rule_conditions_it_evaluated() -> None:
    outcome = last_outcome([joined(), died()])

    assert outcome.evaluated["death-of-beneficiary"] == 1
    assert "income-above-threshold" not in outcome.evaluated  # no pension or employment fact
