"""An enrolment fanned out to each person in it, so it can be joined with that person's facts."""

from __future__ import annotations

from shaobing_contracts.enrolment import EnrolmentRecorded, MemberRole, PersonEnrolment


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
