"""Canonical events of household registration (户籍, hukou.population).

No names or addresses on the bus: only what the rules need (gender, birth date, household,
relation to the head, area code, status).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from .source_event import SourceEvent
from .types import AreaCode


class Gender(StrEnum):
    """hukou.population.gender: '1' male, '2' female."""

    MALE = "MALE"
    FEMALE = "FEMALE"


class HukouStatus(StrEnum):
    ACTIVE = "ACTIVE"
    MOVED_OUT = "MOVED_OUT"
    DECEASED = "DECEASED"
    CANCELLED = "CANCELLED"


class CancellationReason(StrEnum):
    DECEASED = "DECEASED"
    CANCELLED = "CANCELLED"


class PersonRegistered(SourceEvent):
    """A registration first seen (insert or snapshot), or registered again after leaving."""

    event_type: Literal["person_registered"] = "person_registered"
    occurred_on: date
    gender: Gender
    birth_date: date
    household_no: str
    relation_to_head: str
    area_code: AreaCode
    status: HukouStatus


class PersonMoved(SourceEvent):
    """The registration moved to another area; within_district: the same county (6 digits)."""

    event_type: Literal["person_moved"] = "person_moved"
    occurred_on: date
    from_area: AreaCode
    to_area: AreaCode
    within_district: bool


class PersonMovedOut(SourceEvent):
    """The registration left (status MOVED_OUT); from_area is where it was."""

    event_type: Literal["person_moved_out"] = "person_moved_out"
    occurred_on: date
    from_area: AreaCode


class RegistrationCancelled(SourceEvent):
    """The registration was cancelled, because of death or otherwise."""

    event_type: Literal["registration_cancelled"] = "registration_cancelled"
    occurred_on: date
    reason: CancellationReason
    area_code: AreaCode


class HouseholdChanged(SourceEvent):
    """The person changed household or relation to its head."""

    event_type: Literal["household_changed"] = "household_changed"
    occurred_on: date
    from_household_no: str
    to_household_no: str
    from_relation_to_head: str
    to_relation_to_head: str
