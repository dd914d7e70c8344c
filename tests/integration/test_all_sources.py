"""Household registration, marriage and social security changes arrive on their own topics."""

from __future__ import annotations

from datetime import date

import orjson

from shaobing_contracts.topics import Topic

from .conftest import (
    TODAY_MICROS,
    change_of,
    epoch_days,
    hukou_row,
    new_person,
    post_changes,
)
from .topic_reader import read_topic


def _types_on(stack, topic: Topic, person: str) -> list[str]:
    return [
        m["event_type"]
        for m in map(orjson.loads, read_topic(stack.bootstrap, topic))
        if m["id_number"] == person
    ]


def test_a_move_out_of_the_district_and_a_marriage_and_a_pension_reach_their_topics(stack, ingest):
    person, spouse = new_person(date(1950, 3, 9)), new_person(date(1952, 6, 1))
    row = hukou_row(person)
    moved = {**row, "area_code": "320102003004", "updated_at": TODAY_MICROS + 1}
    hukou = post_changes(
        ingest,
        "hukou",
        [change_of("hukou.population", row), change_of("hukou.population", moved, op="u")],
    )
    marriage = post_changes(
        ingest,
        "marriage",
        [
            change_of(
                "marriage.registrations",
                {
                    "registration_no": "J-77",
                    "kind": "MARRIAGE",
                    "party_a_id": person,
                    "party_b_id": spouse,
                    "registered_on": epoch_days(date(2026, 11, 2)),
                    "office_code": "310110000000",
                },
            )
        ],
    )
    pension = post_changes(
        ingest,
        "social_security",
        [
            change_of(
                "social_security.person_status",
                {
                    "id_number": person,
                    "pension_status": "RECEIVING",
                    "pension_monthly_amount": "3200.00",
                    "employment_status": "UNEMPLOYED",
                    "employer_uscc": None,
                    "contribution_base": "0.00",
                    "unemployment_benefit": "0.00",
                    "updated_at": TODAY_MICROS,
                },
            )
        ],
    )

    assert (hukou["accepted"], marriage["accepted"], pension["accepted"]) == (2, 1, 1)
    assert _types_on(stack, Topic.HUKOU, person) == ["person_registered", "person_moved"]
    assert _types_on(stack, Topic.MARRIAGE, spouse) == ["marriage_registered"]
    assert _types_on(stack, Topic.SOCIAL_SECURITY, person) == ["pension_started"]
    [move] = [
        m
        for m in map(orjson.loads, read_topic(stack.bootstrap, Topic.HUKOU))
        if m["event_type"] == "person_moved" and m["id_number"] == person
    ]
    assert "王秀英" not in orjson.dumps(move).decode()  # names stay out of the bus
