"""Household registration (户籍, hukou.population) row changes → canonical hukou events.

Upstream keeps REPLICA IDENTITY DEFAULT: an update's `before` is null, so the caller passes
`previous_row`, the last row it ingested for the ID number, and the events come from comparing it
with the new row:

- no previous row (create, snapshot read, or an update of a row never ingested): PersonRegistered;
- area_code changed: PersonMoved (within_district when the first 6 digits, the county, agree);
- household_no or relation_to_head changed: HouseholdChanged;
- status → MOVED_OUT: PersonMovedOut; → DECEASED or CANCELLED: RegistrationCancelled;
  → ACTIVE again: PersonRegistered;
- anything else (name, address, updated_at only): nothing.

A create or snapshot read of a row already ingested is compared like an update (a re-snapshot
repeats nothing). A delete derives nothing: moves, deaths and cancellations are status updates,
and removing a population row is not a life event; the intake reports it as ignored and forgets
the stored row. Names and addresses never leave ingest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from shaobing_contracts.hukou import (
    CancellationReason,
    Gender,
    HouseholdChanged,
    HukouStatus,
    PersonMoved,
    PersonMovedOut,
    PersonRegistered,
    RegistrationCancelled,
)
from shaobing_contracts.id_number import birth_date_of
from shaobing_contracts.provenance import Channel, Provenance
from shaobing_contracts.validated import validated

from ..cdc.changes import ChangeRejected, RowChange
from ..cdc.event_ids import event_id
from .derivation import (
    Row,
    area_code,
    changed,
    id_number,
    merged,
    one_of,
    past_date,
    provenance_of,
    required_text,
    wall_clock,
)
from .tables import HUKOU_POPULATION

_RELEVANT = ("household_no", "relation_to_head", "area_code", "status")
_GENDERS = {"1": Gender.MALE, "2": Gender.FEMALE}

HukouEvent = (
    PersonRegistered | PersonMoved | PersonMovedOut | RegistrationCancelled | HouseholdChanged
)


@dataclass(frozen=True)
class _Registration:
    """A validated population row, without name and address."""

    id_number: str
    gender: Gender
    birth_date: date
    household_no: str
    relation_to_head: str
    area_code: str
    status: HukouStatus
    updated_at: datetime


def derive_hukou_events(
    change: RowChange,
    *,
    previous_row: Row | None,
    channel: Channel,
    ingested_at: datetime,
) -> list[HukouEvent]:
    """The events one population change means; raises ChangeRejected if it is invalid.

    recorded_at is the row's updated_at (Shanghai wall-clock time), occurred_on its day.
    ingested_at must be timezone-aware.
    """
    provenance = provenance_of(change, HUKOU_POPULATION, channel=channel, ingested_at=ingested_at)
    if change.op == "d":
        return []
    row = merged(previous_row, change.after)
    if previous_row is not None and not changed(row, previous_row, _RELEVANT):
        return []
    current = _registration(row, ingested_at)
    previous = _previous(previous_row, ingested_at)
    if previous is None:
        return [_registered(current, change, provenance)]
    return _compared(current, previous, row, previous_row or {}, change, provenance)


def _compared(
    current: _Registration,
    previous: _Registration,
    row: Row,
    previous_row: Row,
    change: RowChange,
    provenance: Provenance,
) -> list[HukouEvent]:
    common = _common(current, change, provenance)
    events: list[HukouEvent] = []
    if changed(row, previous_row, ("area_code",)):
        events.append(
            validated(
                PersonMoved,
                **common("person_moved"),
                from_area=previous.area_code,
                to_area=current.area_code,
                within_district=previous.area_code[:6] == current.area_code[:6],
            )
        )
    if changed(row, previous_row, ("household_no", "relation_to_head")):
        events.append(
            validated(
                HouseholdChanged,
                **common("household_changed"),
                from_household_no=previous.household_no,
                to_household_no=current.household_no,
                from_relation_to_head=previous.relation_to_head,
                to_relation_to_head=current.relation_to_head,
            )
        )
    if current.status != previous.status:
        events.extend(_status_changed(current, previous, change, provenance))
    return events


def _status_changed(
    current: _Registration, previous: _Registration, change: RowChange, provenance: Provenance
) -> list[HukouEvent]:
    common = _common(current, change, provenance)
    if current.status is HukouStatus.MOVED_OUT:
        return [
            validated(PersonMovedOut, **common("person_moved_out"), from_area=previous.area_code)
        ]
    if current.status is HukouStatus.ACTIVE:
        return [_registered(current, change, provenance)]
    return [
        validated(
            RegistrationCancelled,
            **common("registration_cancelled"),
            reason=CancellationReason(current.status.value),
            area_code=previous.area_code,
        )
    ]


def _registered(
    current: _Registration, change: RowChange, provenance: Provenance
) -> PersonRegistered:
    return validated(
        PersonRegistered,
        **_common(current, change, provenance)("person_registered"),
        gender=current.gender,
        birth_date=current.birth_date,
        household_no=current.household_no,
        relation_to_head=current.relation_to_head,
        area_code=current.area_code,
        status=current.status,
    )


def _common(
    current: _Registration, change: RowChange, provenance: Provenance
) -> Callable[[str], dict[str, Any]]:
    """The fields every event of this change shares, for one event type."""

    def fields(event_type: str) -> dict[str, Any]:
        return {
            "event_id": event_id(
                provenance, event_type=event_type, id_number=current.id_number, image=change.after
            ),
            "id_number": current.id_number,
            "recorded_at": current.updated_at,
            "occurred_on": current.updated_at.date(),
            "provenance": provenance,
        }

    return fields


def _registration(row: Row, ingested_at: datetime) -> _Registration:
    person = id_number(row)
    return _Registration(
        id_number=person,
        gender=_gender(row.get("gender")),
        birth_date=_birth_date(row, person, ingested_at),
        household_no=required_text(row, "household_no"),
        relation_to_head=required_text(row, "relation_to_head"),
        area_code=area_code(row),
        status=one_of(row, "status", HukouStatus),
        updated_at=wall_clock(row, "updated_at", ingested_at),
    )


def _previous(previous_row: Row | None, ingested_at: datetime) -> _Registration | None:
    """The stored row, validated; None if there is none or it is not valid (never registered)."""
    if previous_row is None:
        return None
    try:
        return _registration(previous_row, ingested_at)
    except ChangeRejected:
        return None


def _gender(value: object) -> Gender:
    gender = _GENDERS.get(value.strip() if isinstance(value, str) else "")
    if gender is None:
        raise ChangeRejected("gender", "required, '1' (male) or '2' (female)")
    return gender


def _birth_date(row: Row, person: str, ingested_at: datetime) -> date:
    born = past_date(row, "birth_date", ingested_at)
    if born != birth_date_of(person):
        raise ChangeRejected("birth_date", "differs from the birth date in the ID number")
    return born
