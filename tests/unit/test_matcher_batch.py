"""A record batch through the matcher's hot path (domain/batch.py): one evaluation per person,
only where the batch changed the state; bad messages set aside, the rest go on; a person's state
capped (per kind of fact, and in bytes) so that bad data on one ID number stalls nothing."""

from __future__ import annotations

from datetime import date

import pytest
from matcher_events import (
    BENEFICIARY,
    CLOCK,
    RULES,
    SPOUSE,
    died,
    enrolment,
    joined,
    marriage_retracted,
    married,
    records,
    registered,
    spouse_died,
)

from shaobing_contracts.id_number import make_id_number
from shaobing_contracts.marriage import MarriageKind
from shaobing_matcher.domain import batch
from shaobing_matcher.domain.batch import BatchResult, StateTooLarge, decode_state, match_batch
from shaobing_matcher.domain.evaluation import RuleBook
from shaobing_matcher.domain.facts import MOST_KEPT, FactsCapped

BOOK = RuleBook.on(RULES, CLOCK)
BORN = date(1941, 1, 1)


def matched(batch: list, stored: dict[bytes, bytes] | None = None) -> BatchResult:
    stored = stored or {}
    return match_batch(batch, lambda keys: [stored.get(k) for k in keys], BOOK, CLOCK)


def test_a_persons_events_in_one_batch_are_evaluated_once_against_the_last_state() -> None:
    result = matched(records([registered(), joined(), died()]) + records([died(SPOUSE)], SPOUSE))
    [beneficiary, spouse] = result.matched
    assert beneficiary.key == BENEFICIARY.encode()
    assert [a.rule_id for a in beneficiary.outcome.raised] == ["death-of-beneficiary"]
    assert spouse.outcome.raised == []  # no enrolment known for the spouse
    assert set(result.states) == {BENEFICIARY.encode(), SPOUSE.encode()}
    assert decode_state(result.states[BENEFICIARY.encode()]).deaths
    assert result.processed == {
        "person_enrolment": 1,
        "death_registered": 2,
        "person_registered": 1,
    }


def test_a_batch_read_again_over_the_states_it_stored_sends_and_stores_nothing() -> None:
    batch = records([registered(), joined(), died()])
    first = matched(batch)
    again = matched(batch, first.states)  # the worker died after storing, before committing
    assert (again.matched, again.states, again.failed) == ([], {}, [])
    assert sum(again.processed.values()) == 3  # processed all the same


def test_an_event_that_changes_nothing_evaluates_nothing() -> None:
    stored = matched(records([registered(), joined()])).states
    assert matched(records([joined()]), stored).matched == []
    assert len(matched(records([died()]), stored).matched) == 1


def test_a_message_that_cannot_be_read_is_set_aside_and_the_persons_others_go_on() -> None:
    result = matched(records([joined(), b'{"event_type": "nonsense"}', died()]))
    [(record, error)] = result.failed
    assert record.offset == 1 and "nonsense" in str(error)
    [person] = result.matched
    assert [a.rule_id for a in person.outcome.raised] == ["death-of-beneficiary"]


def _marriages(n: int) -> list:
    return [married(registration_no=f"M-{i:04d}") for i in range(n)]


FLOODS = {
    "marriage registrations": lambda n: married(registration_no=f"M-{n:04d}"),
    "death registrations": lambda n: died(certificate_no=f"D-{n:04d}"),
    "enrolments": lambda n: joined(enrolment(f"DIBAO-310110-{n:04d}")),
    "spouses' deaths": lambda n: spouse_died(BENEFICIARY, make_id_number("310110", BORN, n + 1)),
}


@pytest.mark.parametrize("flood", FLOODS.values(), ids=FLOODS)
def test_a_flood_of_one_kind_of_fact_on_one_person_is_capped_with_one_dead_letter(flood) -> None:
    capped = matched(records([flood(n) for n in range(MOST_KEPT + 1)]))
    flooded = matched(records([flood(n) for n in range(MOST_KEPT + 40)]))

    [(record, error)] = flooded.failed
    assert record.offset == MOST_KEPT and isinstance(error, FactsCapped)
    assert f"{MOST_KEPT} " in str(error)
    assert flooded.states == capped.states  # what came after the cap changed nothing


def test_more_of_a_capped_kind_later_changes_nothing_and_is_not_dead_lettered_again() -> None:
    stored = matched(records(_marriages(MOST_KEPT + 1))).states

    again = matched(records([married(registration_no="M-9999")]), stored)

    assert (again.matched, again.states, again.failed) == ([], {}, [])


def test_a_kept_registration_is_still_retracted_and_updated_over_the_cap() -> None:
    stored = matched(records(_marriages(MOST_KEPT + 1))).states
    divorce = married(registration_no="M-0001", kind=MarriageKind.DIVORCE)

    result = matched(records([marriage_retracted(registration_no="M-0000"), divorce]), stored)

    marriages = decode_state(result.states[BENEFICIARY.encode()]).marriages
    assert "M-0000" not in marriages and marriages["M-0001"].kind == "DIVORCE"
    assert result.failed == []


def test_a_state_too_large_to_store_sets_the_persons_events_aside_and_keeps_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored = matched(records([registered(), joined()])).states
    monkeypatch.setattr(batch, "MOST_STATE_BYTES", len(stored[BENEFICIARY.encode()]) + 100)

    result = matched(records(_marriages(3)) + records([died(SPOUSE)], SPOUSE), stored)

    assert [r.offset for r, e in result.failed] == [0, 1, 2]
    assert all(isinstance(e, StateTooLarge) for _, e in result.failed)
    assert set(result.states) == {SPOUSE.encode()}  # the others go on
