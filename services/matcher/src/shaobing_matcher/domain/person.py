"""What the matcher knows of one person: the latest facts of every source and their enrolments.

Kept as JSON in the person-state store and its changelog (keyed and co-partitioned by ID
number). Every fact keeps the evidence it came from, so an alert can show it with its
provenance. The state is internal to the matcher, so it is plain msgspec structs rather than
pydantic models: built, compared, encoded and decoded several times faster on the hot path,
in the same JSON as the pydantic models wrote before (a stored state stays readable both
ways). Evidence is kept as the contract's JSON text (`msgspec.Raw`): copied, not parsed, when
a state is read or written, and decoded only for what an alert or notification sends.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec

from shaobing_contracts.alert import Evidence
from shaobing_contracts.enrolment import EnrolmentFacts, MemberRole

from .versions import Version

EvidenceJson = msgspec.Raw  # a contract Evidence as JSON (shaobing_contracts.codec.encode)


def cited(evidence: EvidenceJson) -> Evidence:
    """The evidence as the contracts carry it."""
    return Evidence.model_validate_json(bytes(evidence))


class _Ingested(msgspec.Struct):
    ingested_at: datetime


class _Sourced(msgspec.Struct):
    provenance: _Ingested


_SOURCED = msgspec.json.Decoder(_Sourced)


def ingested_at(evidence: EvidenceJson) -> datetime:
    """When Shaobing ingested the evidence's event (read without decoding the rest)."""
    return _SOURCED.decode(evidence).provenance.ingested_at


class DeathFact(msgspec.Struct, kw_only=True):
    certificate_no: str
    date_of_death: date
    death_source: str = ""
    recorded_at: datetime
    evidence: EvidenceJson


class RegistrationFact(msgspec.Struct, kw_only=True):
    """The household registration as it stands (户籍)."""

    status: str  # ACTIVE, MOVED_OUT, DECEASED, CANCELLED
    area_code: str
    household_no: str = ""
    occurred_on: date
    recorded_at: datetime
    evidence: EvidenceJson


class MarriageFact(msgspec.Struct, kw_only=True):
    registration_no: str
    kind: str  # MARRIAGE, DIVORCE, REMARRIAGE, ANNULMENT
    spouse_id: str
    registered_on: date
    recorded_at: datetime
    evidence: EvidenceJson


class SocialFact(msgspec.Struct, kw_only=True):
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
    evidence: dict[str, EvidenceJson] = {}


class EnrolmentLink(msgspec.Struct, kw_only=True):
    role: MemberRole
    enrolment: EnrolmentFacts  # the contract's model (see _encoded, _decoded)
    first_recorded_at: datetime  # when Shaobing first heard of the enrolment


class AlertRef(msgspec.Struct, kw_only=True):
    """An alert this person's facts raised (or withdrew): enough to withdraw or re-send it."""

    rule_id: str
    enrolment_id: str
    fact_key: str


class NoticeRef(msgspec.Struct, kw_only=True):
    """A notification sent for this person's state: enough to withdraw it (or withdraw it again)."""

    policy_id: str
    id_number: str  # the person it was to contact


_MARRYING = ("MARRIAGE", "REMARRIAGE")  # kinds after which the person is married


class PersonState(msgspec.Struct, kw_only=True):
    id_number: str
    deaths: dict[str, DeathFact] = {}  # by certificate number (msgspec copies empty defaults)
    registration: RegistrationFact | None = None
    marriages: dict[str, MarriageFact] = {}  # by registration number
    social: SocialFact | None = None
    enrolments: dict[str, EnrolmentLink] = {}
    # the spouse's ID number → their date of death, as the matcher told it (domain/spouse.py)
    spouse_deaths: dict[str, date] = {}
    # alert id → alert sent whose facts still hold; alert id → alert withdrawn since
    raised: dict[str, AlertRef] = {}
    withdrawn: dict[str, AlertRef] = {}
    # the ids of the notifications sent for this state and not withdrawn since, in order (never
    # sent again while here)
    notified: list[str] = []
    # the spouse's ID number → the evidence of their death, as told with it
    spouse_death_evidence: dict[str, list[EvidenceJson]] = {}
    # notification id → a notification sent, then withdrawn when a change of facts ended it
    notices_withdrawn: dict[str, NoticeRef] = {}
    # fact key (death:<certificate>, marriage:<registration>) → the version of its retraction:
    # an older registration replayed after it does not bring the fact back
    retracted: dict[str, Version] = {}
    # the kinds of fact (deaths, marriages, enrolments, spouse_deaths) that reached MOST_KEPT
    capped: list[str] = []

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


def _encoded(value: Any) -> Any:
    if isinstance(value, EnrolmentFacts):
        return value.model_dump(mode="json")
    raise NotImplementedError(f"{type(value).__name__} in a person state")


def _decoded(kind: type, value: Any) -> Any:
    if kind is EnrolmentFacts:
        return EnrolmentFacts.model_validate(value)
    raise NotImplementedError(f"{kind.__name__} in a person state")


_ENCODER = msgspec.json.Encoder(enc_hook=_encoded)
_DECODER = msgspec.json.Decoder(PersonState, dec_hook=_decoded)


def decode_state(raw: bytes) -> PersonState:
    """A stored state (the JSON written by this code or by the pydantic models before it)."""
    return _DECODER.decode(raw)


def encode_state(state: PersonState) -> bytes:
    return _ENCODER.encode(state)
