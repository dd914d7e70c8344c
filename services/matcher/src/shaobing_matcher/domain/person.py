"""What the matcher knows of one person: the latest facts of every source and their enrolments.

Kept as JSON in the person-state table (keyed and co-partitioned by ID number). Every fact keeps
the evidence it came from, so an alert can show it with its provenance.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel

from shaobing_contracts.alert import Evidence
from shaobing_contracts.enrolment import EnrolmentFacts, MemberRole


class DeathFact(BaseModel):
    certificate_no: str
    date_of_death: date
    death_source: str = ""
    recorded_at: datetime
    evidence: Evidence


class RegistrationFact(BaseModel):
    """The household registration as it stands (户籍)."""

    status: str  # ACTIVE, MOVED_OUT, DECEASED, CANCELLED
    area_code: str
    household_no: str = ""
    occurred_on: date
    recorded_at: datetime
    evidence: Evidence


class MarriageFact(BaseModel):
    registration_no: str
    kind: str  # MARRIAGE, DIVORCE, REMARRIAGE, ANNULMENT
    spouse_id: str
    registered_on: date
    recorded_at: datetime
    evidence: Evidence


class SocialFact(BaseModel):
    """Pension, employment and unemployment benefit as social security last reported them."""

    pension_status: str = "NONE"
    pension_monthly_amount: Decimal = Decimal(0)
    employment_status: str = "UNEMPLOYED"
    employer_uscc: str | None = None
    contribution_base: Decimal = Decimal(0)
    unemployment_benefit: Decimal = Decimal(0)
    occurred_on: date
    recorded_at: datetime
    evidence: dict[str, Evidence] = {}  # pension, employment, unemployment: the latest event


class EnrolmentLink(BaseModel):
    role: MemberRole
    enrolment: EnrolmentFacts
    first_recorded_at: datetime  # when Shaobing first heard of the enrolment


class AlertRef(BaseModel):
    """An alert this person's facts raised (or withdrew): enough to withdraw or re-send it."""

    rule_id: str
    enrolment_id: str
    fact_key: str


class PersonState(BaseModel):
    id_number: str
    deaths: dict[str, DeathFact] = {}  # by certificate number
    registration: RegistrationFact | None = None
    marriages: dict[str, MarriageFact] = {}  # by registration number
    social: SocialFact | None = None
    enrolments: dict[str, EnrolmentLink] = {}
    raised: dict[str, AlertRef] = {}  # alert id → alert whose facts still hold
    withdrawn: dict[str, AlertRef] = {}  # alert id → alert withdrawn since (re-sent, idempotent)

    def death(self) -> DeathFact | None:
        """The earliest death still registered (a retracted certificate no longer counts)."""
        return min(self.deaths.values(), key=lambda d: d.date_of_death, default=None)

    def marital_status(self) -> str:
        """MARRIED or DIVORCED by the latest registration still standing, else UNKNOWN."""
        latest = self._latest_marriage()
        if latest is None:
            return "UNKNOWN"
        return "MARRIED" if latest.kind in ("MARRIAGE", "REMARRIAGE") else "DIVORCED"

    def spouse(self) -> str | None:
        """The spouse's ID number while MARRIED."""
        latest = self._latest_marriage()
        return latest.spouse_id if self.marital_status() == "MARRIED" and latest else None

    def _latest_marriage(self) -> MarriageFact | None:
        return max(self.marriages.values(), key=lambda m: m.registered_on, default=None)
