"""A record batch of enrolments.v1 fanned out to the members (domain/membership.py): each
enrolment's changes in order against the members the one before left; bad messages set aside,
the rest go on; a replay folds into the same person states."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from matcher_events import (
    BENEFICIARY,
    CHILD,
    CLOCK,
    RULES,
    SHANGHAI,
    SPOUSE,
    enrolment,
)

from shaobing_contracts.codec import encode
from shaobing_contracts.enrolment import EnrolmentFacts, EnrolmentRecorded, MemberRole
from shaobing_dev.profile_matcher import Message
from shaobing_matcher.domain.batch import BatchResult, match_batch
from shaobing_matcher.domain.evaluation import RuleBook
from shaobing_matcher.domain.membership import (
    FanOut,
    decode_members,
    encode_members,
    fan_out_batch,
)

OTHER = "DIBAO-310110-0002"
_IDS = UUID("0d6f3c8e-3b1a-4f7e-9a52-6c1e2b7d4a90")


def recorded(facts: EnrolmentFacts, version: int = 1) -> bytes:
    return encode(
        EnrolmentRecorded(
            event_id=uuid5(_IDS, f"recorded|{facts.enrolment_id}|{version}"),
            recorded_at=datetime(2026, 3, version, 9, 0, tzinfo=SHANGHAI),
            enrolment=facts,
        )
    )


def records(*values: bytes) -> list[Message]:
    return [
        Message("enrolments.v1", 0, n, b"key", v, (("correlation_id", f"c{n}".encode()),))
        for n, v in enumerate(values)
    ]


def fanned(batch: list[Message], stored: dict[bytes, bytes] | None = None) -> FanOut:
    stored = stored or {}
    return fan_out_batch(batch, lambda keys: [stored.get(k) for k in keys])


def roles(result: FanOut) -> list[tuple[str, str, MemberRole | None]]:
    return [(m.enrolment.enrolment_id, m.id_number, m.role) for m, _ in result.messages]


def test_a_new_enrolment_tells_each_member_their_role_and_keeps_its_members() -> None:
    result = fanned(records(recorded(enrolment(members=[BENEFICIARY, SPOUSE]))))

    assert roles(result) == [
        ("DIBAO-310110-0001", BENEFICIARY, MemberRole.BENEFICIARY),
        ("DIBAO-310110-0001", SPOUSE, MemberRole.MEMBER),
    ]
    assert result.members == {b"DIBAO-310110-0001": encode_members([BENEFICIARY, SPOUSE])}
    assert (result.processed, result.failed) == (1, [])


def test_a_member_who_left_is_told_so_from_the_stored_members() -> None:
    stored = {b"DIBAO-310110-0001": encode_members([BENEFICIARY, SPOUSE, CHILD])}

    result = fanned(records(recorded(enrolment(members=[BENEFICIARY]), 2)), stored)

    assert roles(result) == [
        ("DIBAO-310110-0001", BENEFICIARY, MemberRole.BENEFICIARY),
        ("DIBAO-310110-0001", SPOUSE, None),
        ("DIBAO-310110-0001", CHILD, None),
    ]
    assert decode_members(result.members[b"DIBAO-310110-0001"]) == [BENEFICIARY]


def test_changes_of_one_enrolment_in_one_batch_follow_each_other_in_order() -> None:
    batch = records(
        recorded(enrolment(members=[BENEFICIARY, SPOUSE]), 1),
        recorded(enrolment(OTHER, members=[BENEFICIARY]), 1),
        recorded(enrolment(members=[BENEFICIARY, CHILD]), 2),
        recorded(enrolment(members=[BENEFICIARY]), 3),
    )

    result = fanned(batch)

    mine = [(p, r) for e, p, r in roles(result) if e == "DIBAO-310110-0001"]
    assert mine == [
        (BENEFICIARY, MemberRole.BENEFICIARY),
        (SPOUSE, MemberRole.MEMBER),
        (BENEFICIARY, MemberRole.BENEFICIARY),
        (CHILD, MemberRole.MEMBER),
        (SPOUSE, None),  # left with the second change
        (BENEFICIARY, MemberRole.BENEFICIARY),
        (CHILD, None),  # left with the third
    ]
    assert result.members == {
        b"DIBAO-310110-0001": encode_members([BENEFICIARY]),
        OTHER.encode(): encode_members([BENEFICIARY]),
    }
    headers = [h for m, h in result.messages if m.enrolment.enrolment_id == "DIBAO-310110-0001"]
    assert [dict(h)["correlation_id"] for h in headers] == [b"c0"] * 2 + [b"c2"] * 3 + [b"c3"] * 2


def test_an_enrolment_that_cannot_be_read_is_set_aside_and_the_rest_go_on() -> None:
    batch = records(b'{"enrolment": "nonsense"}', recorded(enrolment(members=[BENEFICIARY])))

    result = fanned(batch)

    [(record, error)] = result.failed
    assert record.offset == 0 and "validation error" in str(error)
    assert roles(result) == [("DIBAO-310110-0001", BENEFICIARY, MemberRole.BENEFICIARY)]
    assert result.processed == 1


def test_members_unchanged_are_not_stored_again() -> None:
    stored = {b"DIBAO-310110-0001": encode_members([BENEFICIARY, SPOUSE])}

    result = fanned(records(recorded(enrolment(monthly_amount="1600.00"), 2)), stored)

    assert len(result.messages) == 2  # the members are told of the new amount all the same
    assert result.members == {}


def test_an_enrolment_fanned_out_again_folds_into_the_same_person_states() -> None:
    """What an upgrade (a new consumer group reading enrolments.v1 from the start, members not
    yet known) or a batch read again after a crash sends twice changes nothing downstream."""
    batch = records(recorded(enrolment(members=[BENEFICIARY, SPOUSE])))
    first = fanned(batch)
    again = fanned(batch, first.members)
    assert [m for m, _ in first.messages] == [m for m, _ in again.messages]
    states = matched(first).states
    replayed = matched(again, states)
    assert (replayed.states, replayed.matched) == ({}, [])


def matched(result: FanOut, stored: dict[bytes, bytes] | None = None) -> BatchResult:
    """The person enrolments through the hot path's batch (domain/batch.py)."""
    stored = stored or {}
    person_records = [
        Message("person-enrolments.v1", 0, n, m.id_number.encode(), encode(m))
        for n, (m, _) in enumerate(result.messages)
    ]
    book = RuleBook.on(RULES, CLOCK)
    return match_batch(person_records, lambda keys: [stored.get(k) for k in keys], book, CLOCK)
