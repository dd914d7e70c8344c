"""Canonical events of the death registry (死亡登记)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from .provenance import Provenance
from .types import IdNumber


class DeathSource(StrEnum):
    MEDICAL = "MEDICAL"
    CREMATION = "CREMATION"
    POLICE = "POLICE"
    COURT = "COURT"


class SourceEvent(BaseModel):
    """What every canonical source event carries: identity, person, timing, provenance."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID
    id_number: IdNumber
    recorded_at: datetime
    provenance: Provenance


class DeathRegistered(SourceEvent):
    event_type: Literal["death_registered"] = "death_registered"
    certificate_no: str
    date_of_death: date
    death_source: DeathSource


class DeathRetracted(SourceEvent):
    """The registration was deleted upstream; what it raised is withdrawn."""

    event_type: Literal["death_retracted"] = "death_retracted"
    certificate_no: str
