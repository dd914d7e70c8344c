"""A death reaches the spouse's state through the broker, where the care visit is decided: never
for a spouse whose own death is registered, however close together the two deaths come."""

from __future__ import annotations

from datetime import date, timedelta

import httpx

from .conftest import (
    change_of,
    death_of,
    eventually,
    fetch,
    hukou_row,
    marriage_row,
    new_person,
    post_changes,
)


def _marriage(a: str, b: str) -> dict:
    return change_of("marriage.registrations", marriage_row(a, b, on=date(1975, 5, 1)))


def _matched(stack, event_type: str) -> float:
    text = httpx.get(f"{stack.url('matcher')}/metrics", timeout=10).text
    line = f'shaobing_matcher_events_total{{type="{event_type}"}} '
    return sum(float(x.rsplit(" ", 1)[1]) for x in text.splitlines() if x.startswith(line))


def _care_visits(stack, people: list[str]) -> set[str]:
    rows = fetch(
        stack.database_url,
        "select id_number from notifications"
        " where policy_id = 'living-alone-care-visit' and id_number = any($1)",
        people,
    )
    return {r["id_number"] for r in rows}


def test_the_care_visit_goes_to_a_living_spouse_over_80_not_to_one_dying_at_the_same_time(
    stack, ingest
):
    widow, late_spouse = new_person(date(1950, 3, 9)), new_person(date(1940, 2, 2))
    husband, old_wife = new_person(date(1950, 3, 9)), new_person(date(1940, 2, 2))
    couples = [(widow, late_spouse), (husband, old_wife)]
    registrations = [change_of("hukou.population", hukou_row(p)) for c in couples for p in c]
    post_changes(ingest, "hukou", registrations)
    post_changes(ingest, "marriage", [_marriage(a, b) for a, b in couples])
    told = _matched(stack, "spouse_death_noted")

    # One batch: each death is told to the other spouse while the other's own is matched.
    recently = date.today() - timedelta(days=3)  # a care visit is for a death of the last 90 days
    deaths = [death_of(p, died=recently) for p in (late_spouse, widow, husband)]
    post_changes(ingest, "death", deaths)

    eventually(lambda: old_wife in _care_visits(stack, [late_spouse, old_wife]))
    eventually(lambda: _matched(stack, "spouse_death_noted") >= told + 3)
    assert _care_visits(stack, [late_spouse, old_wife]) == {old_wife}
