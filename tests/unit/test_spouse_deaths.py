"""A death told to the spouse (domain/spouse.py): events of one person → what their spouse is told,
over the batches the hot path settles them in, including who is told nothing."""

from __future__ import annotations

from datetime import date

import pytest
from matcher_events import (
    BENEFICIARY,
    CHILD,
    CLOCK,
    RULES,
    death_retracted,
    died,
    married,
    registered,
)

from shaobing_contracts.marriage import MarriageKind
from shaobing_matcher.domain.evaluation import RuleBook
from shaobing_matcher.domain.facts import fold
from shaobing_matcher.domain.matching import settle
from shaobing_matcher.domain.person import PersonState

BOOK = RuleBook.on(RULES, CLOCK)
DIED_ON = date(2026, 9, 5)  # matcher_events.died's default

CASES = {
    "a married person dies": ([[married(), died()]], [(CHILD, DIED_ON)]),
    "a married person dies, one batch at a time": ([[married()], [died()]], [(CHILD, DIED_ON)]),
    "the marriage is learnt after the death": ([[died()], [married()]], [(CHILD, DIED_ON)]),
    "the death is retracted": (
        [[married()], [died()], [death_retracted()]],
        [(CHILD, DIED_ON), (CHILD, None)],
    ),
    "an unmarried person dies": ([[registered(), died()]], []),
    "a divorced person dies": ([[married(kind=MarriageKind.DIVORCE), died()]], []),
    "a married person lives on": ([[married()], [registered()]], []),
    "the same death again": ([[married(), died()], [died()]], [(CHILD, DIED_ON)]),
}


@pytest.mark.parametrize(("batches", "told"), CASES.values(), ids=CASES.keys())
def test_the_spouse_is_told_of_a_death_and_of_its_retraction(batches, told) -> None:
    state, notices = None, []
    for batch in batches:
        after = state or PersonState(id_number=BENEFICIARY)
        for event in batch:
            after = fold(after, event)
        outcome = settle(state, after, BOOK, CLOCK)
        notices += outcome.spouse_notices if outcome else []
        state = outcome.state if outcome else state

    assert [(n.id_number, n.date_of_death) for n in notices] == told
    assert all(n.spouse_id == BENEFICIARY for n in notices)
