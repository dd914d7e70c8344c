"""An enrolment fanned out to each person in it, so it can be joined with that person's facts.

Per record batch of enrolments.v1 (`fan_out_batch`): the members each enrolment had before are
read in one multi-get, each enrolment's changes are fanned out in arrival order (each against
the members the previous change left), and the members after the batch are kept. An enrolment
that cannot be read is set aside with its error (the caller dead-letters it); the rest go on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from shaobing_contracts.codec import decode
from shaobing_contracts.enrolment import EnrolmentRecorded, MemberRole, PersonEnrolment

from .batch import Headers, Record


def person_enrolments(
    recorded: EnrolmentRecorded, previous_members: list[str]
) -> list[PersonEnrolment]:
    """One message per current member, and a leaving message for each member no longer listed."""
    enrolment = recorded.enrolment
    current = enrolment.household_members
    roles = {m: MemberRole.MEMBER for m in current} | {
        enrolment.beneficiary_id: MemberRole.BENEFICIARY
    }
    leaving = [m for m in previous_members if m not in roles]
    return [
        PersonEnrolment(
            id_number=person,
            role=roles.get(person),
            enrolment=enrolment,
            source_event_id=recorded.event_id,
            recorded_at=recorded.recorded_at,
        )
        for person in [*current, *leaving]
    ]


def encode_members(members: Sequence[str]) -> bytes:
    """An enrolment's member list as stored (ID numbers separated by spaces, as the faust table
    kept it)."""
    return " ".join(members).encode()


def decode_members(raw: bytes | None) -> list[str]:
    return raw.decode().split() if raw else []


@dataclass
class FanOut:
    """What a batch of enrolment records gives."""

    # per enrolment in arrival order: its members' messages, with the headers of their cause
    messages: list[tuple[PersonEnrolment, Headers]] = field(default_factory=list)
    members: dict[bytes, bytes] = field(default_factory=dict)  # enrolment id → members, changed
    failed: list[tuple[Record, Exception]] = field(default_factory=list)
    processed: int = 0


def fan_out_batch(
    records: Sequence[Record], stored: Callable[[list[bytes]], list[bytes | None]]
) -> FanOut:
    """The batch's person enrolments; `stored` reads the members of the given enrolment ids
    (one multi-get)."""
    result = FanOut()
    changes: dict[bytes, list[tuple[Record, EnrolmentRecorded]]] = {}
    for record in records:
        try:
            recorded = decode(EnrolmentRecorded, record.value or b"")
        except Exception as exc:
            result.failed.append((record, exc))
            continue
        changes.setdefault(recorded.enrolment.enrolment_id.encode(), []).append((record, recorded))
    for (key, recorded), raw in zip(changes.items(), stored(list(changes)), strict=True):
        members = encode_members(_fan_out(decode_members(raw), recorded, result))
        if members != (raw or b""):
            result.members[key] = members
    return result


def _fan_out(
    members: list[str], changes: list[tuple[Record, EnrolmentRecorded]], result: FanOut
) -> list[str]:
    """One enrolment's changes in order, each against the members the one before left; returns
    the members after the last."""
    for record, recorded in changes:
        try:
            messages = person_enrolments(recorded, members)
        except Exception as exc:
            result.failed.append((record, exc))
            continue
        result.messages.extend((message, record.headers) for message in messages)
        members = list(recorded.enrolment.household_members)
        result.processed += 1
    return members
