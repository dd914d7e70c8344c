"""A record batch through the matcher's hot path (domain/batch.py): one evaluation per person,
only where the batch changed the state; bad messages set aside, the rest go on."""

from __future__ import annotations

from matcher_events import BENEFICIARY, CLOCK, RULES, SPOUSE, died, joined, records, registered

from shaobing_matcher.domain.batch import BatchResult, decode_state, match_batch
from shaobing_matcher.domain.evaluation import RuleBook

BOOK = RuleBook.on(RULES, CLOCK)


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
