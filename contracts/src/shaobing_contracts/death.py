"""Canonical events of the death registry (死亡登记)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .alert import Evidence
from .source_event import SourceEvent
from .types import IdNumber

__all__ = ["DeathRegistered", "DeathRetracted", "DeathSource", "SourceEvent", "SpouseDeathNoted"]


class DeathSource(StrEnum):
    MEDICAL = "MEDICAL"
    CREMATION = "CREMATION"
    POLICE = "POLICE"
    COURT = "COURT"


class DeathRegistered(SourceEvent):
    event_type: Literal["death_registered"] = "death_registered"
    certificate_no: str
    date_of_death: date
    death_source: DeathSource


class DeathRetracted(SourceEvent):
    """The registration was deleted upstream; what it raised is withdrawn."""

    event_type: Literal["death_retracted"] = "death_retracted"
    certificate_no: str


class SpouseDeathNoted(BaseModel):
    """Matcher-internal: a person's death (or its retraction) told to their spouse, keyed by the
    spouse's ID number, so that each spouse's state knows whether the other is alive."""

    model_config = ConfigDict(frozen=True)

    event_type: Literal["spouse_death_noted"] = "spouse_death_noted"
    id_number: IdNumber  # the spouse told
    spouse_id: IdNumber  # the person who died
    date_of_death: date | None  # None: no death of theirs is registered any more
    certificate_no: str | None  # the certificate behind the date
    noted_at: datetime  # when the matcher told it
    # the death's registrations as the deceased's alerts cite them (none from older matchers)
    evidence: list[Evidence] = []
