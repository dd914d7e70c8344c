"""What the matcher knows of one person: recorded deaths and the enrolments they belong to."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from shaobing_contracts.alert import Evidence
from shaobing_contracts.enrolment import EnrolmentFacts, MemberRole


class DeathFact(BaseModel):
    certificate_no: str
    date_of_death: date
    recorded_at: datetime
    evidence: Evidence


class EnrolmentLink(BaseModel):
    role: MemberRole
    enrolment: EnrolmentFacts


class PersonState(BaseModel):
    id_number: str
    deaths: dict[str, DeathFact] = {}
    enrolments: dict[str, EnrolmentLink] = {}

    def death(self) -> DeathFact | None:
        """The earliest death still registered (a retracted certificate no longer counts)."""
        return min(self.deaths.values(), key=lambda d: d.date_of_death, default=None)
