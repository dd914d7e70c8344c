"""A replay of a time window publishes older events again after newer ones: the fold keeps the
newest version of each fact (ingested later; within one intake, the later source position), so
a replay never rolls a person's state back, and the same event again folds as before."""

from __future__ import annotations

from datetime import UTC, datetime

from matcher_events import (
    BENEFICIARY,
    death_retracted,
    died,
    employed,
    ingested,
    joined,
    marriage_retracted,
    married,
    moved,
    records,
    registered,
    unemployed,
)
from test_matcher_batch import matched

from shaobing_matcher.domain.facts import fold
from shaobing_matcher.domain.person import PersonState

EARLIER = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
ELSEWHERE = "310110005001"


def folded(*events) -> PersonState:
    state = PersonState(id_number=BENEFICIARY)
    for event in events:
        state = fold(state, event)
    return state


def test_a_death_registration_replayed_after_its_retraction_does_not_bring_the_death_back() -> None:
    death = ingested(died(), EARLIER)

    state = folded(death, ingested(death_retracted(), LATER), death)

    assert state.deaths == {}


def test_a_death_registered_again_after_its_retraction_counts() -> None:
    state = folded(
        ingested(died(), EARLIER), ingested(death_retracted(), EARLIER), ingested(died(), LATER)
    )

    assert list(state.deaths) == ["D310110-2026-000042"]


def test_a_retraction_replayed_after_the_registration_that_followed_it_retracts_nothing() -> None:
    retraction = ingested(death_retracted(), EARLIER)

    state = folded(ingested(died(), EARLIER), retraction, ingested(died(), LATER), retraction)

    assert list(state.deaths) == ["D310110-2026-000042"]


def test_a_marriage_replayed_after_its_retraction_stays_retracted() -> None:
    marriage = ingested(married(), EARLIER)

    state = folded(marriage, ingested(marriage_retracted(), LATER), marriage)

    assert state.marriages == {} and state.marital_status() == "UNKNOWN"


def test_a_registration_replayed_after_a_move_does_not_move_the_person_back() -> None:
    registration = ingested(registered(), EARLIER)

    state = folded(registration, ingested(moved(to_area=ELSEWHERE), LATER), registration)

    assert state.registration is not None and state.registration.area_code == ELSEWHERE


def test_an_older_employment_replayed_does_not_undo_its_end() -> None:
    job = ingested(employed(), EARLIER)

    state = folded(job, ingested(unemployed(), LATER), job)

    assert state.social is not None and state.social.employment_status == "UNEMPLOYED"


def test_within_one_intake_the_later_source_position_is_the_newer() -> None:
    first = ingested(registered(), LATER, lsn=1_000)
    then = ingested(moved(to_area=ELSEWHERE), LATER, lsn=2_000)

    assert folded(first, then, first).registration.area_code == ELSEWHERE
    assert folded(then, first).registration.area_code == ELSEWHERE


def test_an_event_without_a_source_position_is_ordered_by_its_intake_alone() -> None:
    csv_row, update = ingested(registered(), EARLIER, lsn=None), ingested(moved(), LATER)

    assert folded(csv_row, update, csv_row).registration.area_code == update.to_area


def test_the_same_event_again_folds_to_the_same_state() -> None:
    events = [ingested(e, EARLIER) for e in (registered(), married(), died(), employed())]
    state = folded(*events)

    assert folded(*events, *events) == state


def test_a_replayed_window_raises_nothing_again_through_the_hot_path() -> None:
    death = ingested(died(), EARLIER)
    stored = matched(records([joined(), death])).states
    stored |= matched(records([ingested(death_retracted(), LATER)]), stored).states

    replayed = matched(records([death]), stored)

    assert (replayed.matched, replayed.states, replayed.failed) == ([], {}, [])
