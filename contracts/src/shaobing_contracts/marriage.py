"""Canonical events of the marriage registry (婚姻登记, marriage.registrations).

One event per party: keyed by that party's ID number, spouse_id is the other party.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from .source_event import SourceEvent
from .types import AreaCode, IdNumber


class MarriageKind(StrEnum):
    MARRIAGE = "MARRIAGE"
    DIVORCE = "DIVORCE"
    REMARRIAGE = "REMARRIAGE"
    ANNULMENT = "ANNULMENT"


class MarriageRegistered(SourceEvent):
    event_type: Literal["marriage_registered"] = "marriage_registered"
    kind: MarriageKind
    registration_no: str
    registered_on: date
    occurred_on: date
    office_code: AreaCode
    spouse_id: IdNumber


class MarriageRetracted(SourceEvent):
    """Deleted, or corrected away from this party: what the registration raised is withdrawn."""

    event_type: Literal["marriage_retracted"] = "marriage_retracted"
    registration_no: str
    spouse_id: IdNumber | None = None
