"""The person state on disk and in the changelog: msgspec structs, in the JSON the pydantic
models wrote before them, so states stored by either version are read by the other."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from matcher_events import (
    BENEFICIARY,
    SPOUSE,
    died,
    employed,
    enrolment,
    joined,
    married,
    moved,
    pension_started,
    registered,
    run,
    spouse_died,
)

from shaobing_contracts.enrolment import Program
from shaobing_matcher.domain.person import PersonState, decode_state, encode_state

# Written by the pydantic PersonState (commit 807f46f) from the events below.
STORED_BY_PYDANTIC = (Path(__file__).parent / "person_state_v1.json").read_bytes().strip()


def every_kind_of_fact() -> PersonState:
    tekun = enrolment("TEKUN-310110-0009", program=Program.TEKUN, members=(BENEFICIARY,))
    events = [registered(), joined(), joined(tekun), married(), pension_started(), employed()]
    state, _, _ = run([*events, died(), spouse_died(BENEFICIARY, SPOUSE), moved()])
    return state


def test_a_state_stored_by_the_pydantic_models_reads_as_the_same_state() -> None:
    stored = decode_state(STORED_BY_PYDANTIC)

    assert stored == every_kind_of_fact()
    assert stored.enrolments["TEKUN-310110-0009"].enrolment.program is Program.TEKUN
    assert stored.death() is not None and stored.death().date_of_death == date(2026, 9, 5)
    assert len(stored.raised) == 9 and len(stored.withdrawn) == 2


def test_a_state_is_written_as_the_pydantic_models_wrote_it_with_what_came_later() -> None:
    # the only additions, at the end (the pydantic models ignore them)
    later = (
        b',"notified":[],"spouse_death_evidence":{},"notices_withdrawn":{},"retracted":{},'
        b'"capped":[]}'
    )
    expected = STORED_BY_PYDANTIC.removesuffix(b"}") + later

    assert encode_state(every_kind_of_fact()) == expected


def test_a_new_person_round_trips() -> None:
    state = PersonState(id_number=BENEFICIARY)

    assert decode_state(encode_state(state)) == state
    assert state.deaths == {} and state.deaths is not PersonState(id_number=SPOUSE).deaths
