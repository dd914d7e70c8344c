"""Canonical events of the death registry (死亡登记)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from .source_event import SourceEvent

__all__ = ["DeathRegistered", "DeathRetracted", "DeathSource", "SourceEvent"]


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
