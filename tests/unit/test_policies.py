"""The default policies (rules/policies.yaml, 政策找人) as a table: a person's events → whom to
contact about what, including everyone who must not be contacted. Today is 25 November 2026."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from matcher_events import (
    BENEFICIARY,
    CLOCK,
    HOME,
    RULES,
    died,
    enrolment,
    joined,
    last_outcome,
    married,
    moved_out,
    registered,
    spouse_died,
)

from shaobing_contracts.death import SpouseDeathNoted
from shaobing_contracts.enrolment import Program
from shaobing_contracts.id_number import make_id_number
from shaobing_contracts.marriage import MarriageKind
from shaobing_contracts.notification import Stage
from shaobing_matcher.domain.clock import Clock
from shaobing_matcher.domain.evaluation import RuleBook
from shaobing_matcher.domain.facts import fold
from shaobing_matcher.domain.matching import reevaluate
from shaobing_matcher.domain.policies import notification_id
from shaobing_matcher.domain.spouse import spouse_notices


def born(day: date, sequence: int = 5) -> str:
    return make_id_number("310110", day, sequence)


TURNING_80_SOON = born(date(1946, 12, 10))  # 80 in 15 days
JUST_80 = born(date(1946, 11, 20))
CENTENARIAN = born(date(1926, 1, 2))
SIXTY = born(date(1966, 11, 1))
YOUNG = born(date(1986, 5, 5))
OLD_SPOUSE = born(date(1944, 2, 2), 8)
YOUNGER_SPOUSE = born(date(1951, 2, 2), 8)


def alone_in(program: Program, person: str) -> object:
    facts = enrolment(
        f"{program}-310110-0042", program=program, beneficiary=person, members=[person]
    )
    return joined(facts, person=person)


def gaoling(person: str) -> object:
    return alone_in(Program.GAOLING, person)


def dibao(person: str, program: Program = Program.DIBAO) -> object:
    return alone_in(program, person)


CASES = {
    "turning 80 within 30 days": (
        [registered(TURNING_80_SOON)],
        {
            ("gaoling-upcoming", "turning-80", TURNING_80_SOON),
            ("senior-card", "65", TURNING_80_SOON),
        },
    ),
    "just turned 80": (
        [registered(JUST_80)],
        {("gaoling-eligible", "80", JUST_80), ("senior-card", "65", JUST_80)},
    ),
    "80 and already receiving GAOLING": (
        [registered(JUST_80), gaoling(JUST_80)],
        {("senior-card", "65", JUST_80)},
    ),
    "80 and dead": ([registered(JUST_80), died(JUST_80)], set()),
    "80 and moved out": ([registered(JUST_80), moved_out(JUST_80)], set()),
    "80 and registered in another district": ([registered(JUST_80, "320102003004")], set()),
    "80 with no household registration known": ([gaoling(JUST_80), died(BENEFICIARY)], set()),
    "100": (
        [registered(CENTENARIAN)],
        {("gaoling-eligible", "100", CENTENARIAN), ("senior-card", "65", CENTENARIAN)},
    ),
    "60": ([registered(SIXTY)], {("senior-card", "60", SIXTY)}),
    "40": ([registered(YOUNG)], set()),
    "someone not registered here dies whose spouse is over 80": (
        [married(YOUNG, spouse=OLD_SPOUSE), died(YOUNG)],
        set(),  # no area to route it to
    ),
    "a DIBAO beneficiary dies": (
        [dibao(YOUNG), died(YOUNG)],
        {("funeral-subsidy", "death", YOUNG)},
    ),
    "a GAOLING beneficiary dies": ([gaoling(JUST_80), died(JUST_80)], set()),
    "someone dies whose spouse is over 80": (
        [registered(YOUNG), married(YOUNG, spouse=OLD_SPOUSE), died(YOUNG)],
        {("living-alone-care-visit", "spouse-died", OLD_SPOUSE)},
    ),
    "someone dies whose spouse over 80 died before them": (
        [
            registered(YOUNG),
            married(YOUNG, spouse=OLD_SPOUSE),
            spouse_died(YOUNG, OLD_SPOUSE),
            died(YOUNG),
        ],
        set(),
    ),
    "someone dies whose spouse's death was registered, then retracted": (
        [
            registered(YOUNG),
            married(YOUNG, spouse=OLD_SPOUSE),
            spouse_died(YOUNG, OLD_SPOUSE),
            spouse_died(YOUNG, OLD_SPOUSE, on=None),
            died(YOUNG),
        ],
        {("living-alone-care-visit", "spouse-died", OLD_SPOUSE)},
    ),
    "someone dies whose former spouse died, the current one over 80": (
        [
            registered(YOUNG),
            spouse_died(YOUNG, YOUNGER_SPOUSE),
            married(YOUNG, spouse=OLD_SPOUSE),
            died(YOUNG),
        ],
        {("living-alone-care-visit", "spouse-died", OLD_SPOUSE)},
    ),
    "someone dies whose spouse is 75": (
        [registered(YOUNG), married(YOUNG, spouse=YOUNGER_SPOUSE), died(YOUNG)],
        set(),
    ),
    "someone dies divorced from a spouse over 80": (
        [
            registered(YOUNG),
            married(YOUNG, spouse=OLD_SPOUSE, kind=MarriageKind.DIVORCE),
            died(YOUNG),
        ],
        set(),
    ),
}


@pytest.mark.parametrize(("events", "expected"), CASES.values(), ids=CASES.keys())
def test_policies_notify_exactly_whom_they_should(events, expected) -> None:
    outcome = last_outcome(events, person=events[0].id_number)

    assert {(n.policy_id, n.period, n.id_number) for n in outcome.notifications} == expected
    assert outcome.failures == []


# From 26 November 2026 (living-alone-care-visit v3) the care visit is decided in the state of
# the spouse to visit, told of the death by the deceased's state (domain/spouse.py).
CARE_VISIT_V3 = Clock(now=CLOCK.now + timedelta(days=1), today=date(2026, 11, 26), cutoff_day=20)


def told(person: str, deceased: str, on: date = date(2026, 9, 5)) -> SpouseDeathNoted:
    """What the deceased's state tells `person`, their spouse, when the death is registered."""
    before = last_outcome([married(deceased, spouse=person)], person=deceased).state
    [notice] = spouse_notices(before, fold(before, died(deceased, on=on)), CLOCK.now)
    return notice


VISIT = {("living-alone-care-visit", "spouse-died", OLD_SPOUSE)}
OLD_AND_MARRIED = [registered(OLD_SPOUSE), married(OLD_SPOUSE, spouse=YOUNG)]
CARE_VISIT_CASES = {
    "a spouse of 82 told of the death": ([*OLD_AND_MARRIED, told(OLD_SPOUSE, YOUNG)], VISIT),
    "a spouse of 82 told of a death 90 days before": (
        [*OLD_AND_MARRIED, told(OLD_SPOUSE, YOUNG, on=date(2026, 8, 28))],
        VISIT,
    ),
    "a spouse of 82 told of a death 91 days before": (
        [*OLD_AND_MARRIED, told(OLD_SPOUSE, YOUNG, on=date(2026, 8, 27))],
        set(),  # a first load of the death registry is not a wave of visits
    ),
    "a spouse of 82 whose own death came first": (
        [*OLD_AND_MARRIED, died(OLD_SPOUSE), told(OLD_SPOUSE, YOUNG)],
        set(),  # the race of v2: both deaths in one partition, in order
    ),
    "a spouse of 82 told of the death, then of its retraction": (
        [*OLD_AND_MARRIED, told(OLD_SPOUSE, YOUNG), spouse_died(OLD_SPOUSE, YOUNG, on=None)],
        set(),
    ),
    "a spouse of 75 told of the death": (
        [
            registered(YOUNGER_SPOUSE),
            married(YOUNGER_SPOUSE, spouse=YOUNG),
            told(YOUNGER_SPOUSE, YOUNG),
        ],
        set(),
    ),
    "someone of 82 told of a former spouse's death": (
        [
            registered(OLD_SPOUSE),
            married(OLD_SPOUSE, spouse=YOUNG, kind=MarriageKind.DIVORCE),
            told(OLD_SPOUSE, YOUNG),
        ],
        set(),
    ),
    "someone of 82 told of the death of another than the spouse": (
        [*OLD_AND_MARRIED, told(OLD_SPOUSE, YOUNGER_SPOUSE)],
        set(),
    ),
    "a spouse of 82 registered in another district": (
        [
            registered(OLD_SPOUSE, "320102003004"),
            married(OLD_SPOUSE, spouse=YOUNG),
            told(OLD_SPOUSE, YOUNG),
        ],
        set(),  # not ours to visit
    ),
    "a spouse of 82 who moved out": (
        [*OLD_AND_MARRIED, moved_out(OLD_SPOUSE), told(OLD_SPOUSE, YOUNG)],
        set(),
    ),
    "a spouse of 82 with no household registration known": (
        [married(OLD_SPOUSE, spouse=YOUNG), told(OLD_SPOUSE, YOUNG)],
        set(),  # no area to route it to
    ),
    "the deceased's state no longer decides it": (
        [registered(YOUNG), married(YOUNG, spouse=OLD_SPOUSE), died(YOUNG)],
        set(),
    ),
}


@pytest.mark.parametrize(
    ("events", "expected"), CARE_VISIT_CASES.values(), ids=CARE_VISIT_CASES.keys()
)
def test_the_care_visit_is_decided_by_the_spouse_to_visit(events, expected) -> None:
    outcome = last_outcome(events, person=events[0].id_number, clock=CARE_VISIT_V3)

    found = {(n.policy_id, n.period, n.id_number) for n in outcome.notifications}
    assert {f for f in found if f[0] == "living-alone-care-visit"} == expected
    assert outcome.failures == []


def test_the_care_visit_cites_the_death_and_names_both_masked() -> None:
    events = [*OLD_AND_MARRIED, told(OLD_SPOUSE, YOUNG)]
    outcome = last_outcome(events, person=OLD_SPOUSE, clock=CARE_VISIT_V3)

    [visit] = [n for n in outcome.notifications if n.policy_id == "living-alone-care-visit"]

    assert (visit.policy_version, visit.area_code) == (3, HOME)
    assert [e.event_type for e in visit.evidence] == ["death_registered"]
    assert visit.evidence[0].facts["certificate_no"] == "D310110-2026-000042"
    assert "（82 岁）" in visit.explanation.zh_cn and "2026-09-05" in visit.explanation.en
    assert YOUNG not in visit.explanation.en and OLD_SPOUSE not in visit.explanation.zh_cn


def test_a_notification_is_the_same_one_however_often_it_is_evaluated() -> None:
    first = last_outcome([registered(JUST_80)], person=JUST_80).notifications
    again = last_outcome([registered(JUST_80), registered(JUST_80)], person=JUST_80).notifications

    assert {n.id for n in first} == {n.id for n in again}
    assert notification_id("gaoling-eligible", JUST_80, "80") in {n.id for n in first}


def test_a_notification_says_who_where_and_why() -> None:
    [upcoming] = [
        n
        for n in last_outcome([registered(TURNING_80_SOON)], person=TURNING_80_SOON).notifications
        if n.policy_id == "gaoling-upcoming"
    ]

    assert (upcoming.stage, upcoming.benefit, upcoming.area_code) == (
        Stage.UPCOMING,
        "GAOLING",
        HOME,
    )
    assert "15 天后年满 80 周岁" in upcoming.explanation.zh_cn
    assert TURNING_80_SOON not in upcoming.explanation.en
    assert [e.event_type for e in upcoming.evidence] == ["person_registered"]


def test_the_funeral_subsidy_goes_to_the_enrolments_area_with_the_death_as_evidence() -> None:
    outcome = last_outcome([dibao(YOUNG, Program.TEKUN), died(YOUNG)], person=YOUNG)

    [funeral] = outcome.notifications
    assert (funeral.benefit, funeral.area_code) == ("SANGZANG", HOME)
    assert [e.event_type for e in funeral.evidence] == ["death_registered"]
    assert BENEFICIARY not in funeral.explanation.zh_cn


def test_the_daily_sweep_finds_a_birthday_that_passed_without_any_event() -> None:
    state = last_outcome([registered(TURNING_80_SOON)], person=TURNING_80_SOON).state
    later = CLOCK.now + timedelta(days=20)
    after_birthday = Clock(now=later, today=date(2026, 12, 15), cutoff_day=20)

    swept = reevaluate(state, RuleBook.on(RULES, after_birthday), after_birthday)

    assert {(n.policy_id, n.period) for n in swept.notifications} == {
        ("gaoling-eligible", "80"),
        ("senior-card", "65"),
    }
