"""What the matcher knows of one person: the latest facts of every source and their enrolments.

Kept as JSON in the person-state table (keyed and co-partitioned by ID number). Every fact keeps
the evidence it came from, so an alert can show it with its provenance.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

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
    # pension, employment, unemployment: the latest event of each
    evidence: dict[str, Evidence] = Field(default_factory=dict)


class EnrolmentLink(BaseModel):
    role: MemberRole
    enrolment: EnrolmentFacts
    first_recorded_at: datetime  # when Shaobing first heard of the enrolment


class AlertRef(BaseModel):
    """An alert this person's facts raised (or withdrew): enough to withdraw or re-send it."""

    rule_id: str
    enrolment_id: str
    fact_key: str


_MARRYING = ("MARRIAGE", "REMARRIAGE")  # kinds after which the person is married


class PersonState(BaseModel):
    # default_factory, not `= {}`: pydantic deep-copies a mutable default at every construction
    id_number: str
    deaths: dict[str, DeathFact] = Field(default_factory=dict)  # by certificate number
    registration: RegistrationFact | None = None
    marriages: dict[str, MarriageFact] = Field(default_factory=dict)  # by registration number
    social: SocialFact | None = None
    enrolments: dict[str, EnrolmentLink] = Field(default_factory=dict)
    # the spouse's ID number → their date of death, as the matcher told it (domain/spouse.py)
    spouse_deaths: dict[str, date] = Field(default_factory=dict)
    # alert id → alert whose facts still hold; alert id → alert withdrawn since (re-sent)
    raised: dict[str, AlertRef] = Field(default_factory=dict)
    withdrawn: dict[str, AlertRef] = Field(default_factory=dict)

    def death(self) -> DeathFact | None:
        """The earliest death still registered (a retracted certificate no longer counts)."""
        return min(self.deaths.values(), key=lambda d: d.date_of_death, default=None)

    def marital_status(self) -> str:
        """MARRIED or DIVORCED by the latest registration still standing, else UNKNOWN."""
        latest = self._latest_marriage()
        if latest is None:
            return "UNKNOWN"
        return "MARRIED" if latest.kind in _MARRYING else "DIVORCED"

    def spouse(self) -> str | None:
        """The spouse's ID number while MARRIED."""
        latest = self._latest_marriage()
        return latest.spouse_id if latest is not None and latest.kind in _MARRYING else None

    def spouse_alive(self) -> bool:
        """Whether there is a spouse (MARRIED) and no death of theirs has been told."""
        spouse = self.spouse()
        return spouse is not None and spouse not in self.spouse_deaths

    def _latest_marriage(self) -> MarriageFact | None:
        if not self.marriages:  # most people: no registration to compare
            return None
        return max(self.marriages.values(), key=lambda m: m.registered_on, default=None)
