"""Bad data on one ID number does not stall the matcher: a person's state is capped, the first
registration over the cap is a dead letter naming it, and the events behind flow on."""

from __future__ import annotations

from datetime import date

from .conftest import (
    alerts_for,
    change_of,
    death_of,
    enrolment,
    eventually,
    fetch,
    marriage_row,
    new_person,
    person_beside,
    post_changes,
)

FLOOD = 3_000


def _marriage(person: str, n: int) -> dict:
    """The person's n-th marriage registration, each to someone else."""
    row = marriage_row(person, new_person(date(1962, 2, 2)))
    return change_of("marriage.registrations", {**row, "registration_no": f"J-{n}-{person}"})


def _matcher_letters(stack, person: str) -> list:
    return fetch(
        stack.database_url,
        "select source, reason from dead_letters where service = 'matcher' and raw like $1",
        f'%"id_number":"{person}"%',
    )


def test_3000_marriages_on_one_id_number_are_capped_and_a_death_behind_them_still_alerts(
    stack, api, ingest
):
    flooded = new_person(date(1960, 1, 1))
    api.post("/v1/enrolments", json=enrolment(flooded)).raise_for_status()
    behind = person_beside(flooded, stack.config.partitions)
    behind_enrolment = enrolment(behind)
    api.post("/v1/enrolments", json=behind_enrolment).raise_for_status()

    post_changes(ingest, "marriage", [_marriage(flooded, n) for n in range(FLOOD)])
    post_changes(ingest, "death", [death_of(behind)])

    eventually(lambda: alerts_for(api, enrolment_id=behind_enrolment["enrolment_id"]), timeout=90)
    [(source, reason)] = eventually(lambda: _matcher_letters(stack, flooded))
    assert source == "src.marriage.v1"
    assert "FactsCapped" in reason and "marriage" in reason
