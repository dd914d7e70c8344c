"""Folding one event into a person's state: the latest facts of each source, and enrolments.

Events of one source arrive for a person in the order they happened upstream (one partition per
person); sources interleave in any order, which the rules do not depend on. A replay of a time
window publishes older events again after newer ones: each fact keeps its newest version
(`versions.py`), and a retraction leaves its version behind (`retracted`), so an older event
folded after a newer one of the same fact changes nothing.

A state keeps at most MOST_KEPT facts of each kind: one ID number on thousands of records (bad
data upstream) would otherwise grow a state past what a changelog record may hold and make every
evaluation of that person slower. A new fact over the cap is ignored, and the first one is
noted in `capped` (the batch dead-letters it, once).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
from msgspec.structs import replace

from shaobing_contracts.codec import AnyPersonEvent, encode
from shaobing_contracts.death import DeathRegistered, DeathRetracted, SpouseDeathNoted
from shaobing_contracts.enrolment import PersonEnrolment
from shaobing_contracts.hukou import (
    HouseholdChanged,
    PersonMoved,
    PersonMovedOut,
    PersonRegistered,
    RegistrationCancelled,
)
from shaobing_contracts.id_number import mask_id_number
from shaobing_contracts.marriage import MarriageRegistered, MarriageRetracted
from shaobing_contracts.social_security import (
    EmploymentEnded,
    EmploymentStarted,
    PensionAmountChanged,
    PensionEnded,
    PensionStarted,
    UnemploymentBenefitEnded,
    UnemploymentBenefitStarted,
)
from shaobing_contracts.source_event import SourceEvent

from .person import (
    DeathFact,
    EnrolmentLink,
    EvidenceJson,
    MarriageFact,
    PersonState,
    RegistrationFact,
    SocialFact,
)
from .versions import event_version, outdated, superseded, with_retraction, without_retraction

_BASE_FIELDS = {"event_id", "event_type", "id_number", "recorded_at"}
_JSON = msgspec.json.Encoder()
# Facts of one kind a state keeps: far more than any person has (a few marriage registrations,
# death certificates, enrolments), few enough that a state stays far below a changelog record's
# 1 MiB and an evaluation over them stays in milliseconds.
MOST_KEPT = 32
_KINDS = {
    "deaths": "death registrations",
    "marriages": "marriage registrations",
    "enrolments": "enrolments",
    "spouse_deaths": "spouses' deaths",
}


class FactsCapped(Exception):
    """A person's state holds MOST_KEPT facts of a kind: a new one is ignored (data quality)."""

    def __init__(self, kind: str) -> None:
        super().__init__(
            f"{MOST_KEPT} {_KINDS[kind]} are the most a person's state keeps: this one and any "
            "later new one are ignored (data quality: too many records on one ID number)"
        )


def evidence_of(event: SourceEvent) -> EvidenceJson:
    """The event as evidence: what it says (ID numbers masked) and where it came from, written
    as the contract's Evidence JSON without building the model (validated when cited)."""
    facts = event.model_dump(mode="json", exclude=_BASE_FIELDS)  # provenance included
    evidence = {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "recorded_at": event.recorded_at,
        "provenance": facts.pop("provenance"),
        "facts": {k: _masked(k, v) for k, v in facts.items()},
    }
    return EvidenceJson(_JSON.encode(evidence))


def _masked(name: str, value: Any) -> Any:
    return mask_id_number(value) if name.endswith("_id") and isinstance(value, str) else value


def fold(state: PersonState, event: AnyPersonEvent) -> PersonState:
    """The state after `event`."""
    if isinstance(event, PersonEnrolment):
        return _enrolment(state, event)
    if isinstance(event, DeathRegistered | DeathRetracted):
        return _death(state, event)
    if isinstance(event, SpouseDeathNoted):
        return _spouse_death(state, event)
    if isinstance(event, MarriageRegistered | MarriageRetracted):
        return _marriage(state, event)
    if isinstance(event, _HUKOU):
        return _hukou(state, event)
    return _with_social(state, event)


_HUKOU = (PersonRegistered, PersonMoved, PersonMovedOut, RegistrationCancelled, HouseholdChanged)


def _capped(state: PersonState, kind: str) -> PersonState:
    """The state unchanged but for noting, the first time, that `kind` reached MOST_KEPT."""
    return state if kind in state.capped else replace(state, capped=[*state.capped, kind])


def _enrolment(state: PersonState, event: PersonEnrolment) -> PersonState:
    enrolments = dict(state.enrolments)
    key = event.enrolment.enrolment_id
    if event.role is None:
        enrolments.pop(key, None)
    elif key not in enrolments and len(enrolments) >= MOST_KEPT:
        return _capped(state, "enrolments")
    else:
        known = enrolments.get(key)
        first = min(known.first_recorded_at, event.recorded_at) if known else event.recorded_at
        enrolments[key] = EnrolmentLink(
            role=event.role, enrolment=event.enrolment, first_recorded_at=first
        )
    return replace(state, enrolments=enrolments)


def _death(state: PersonState, event: DeathRegistered | DeathRetracted) -> PersonState:
    number = event.certificate_no
    if isinstance(event, DeathRetracted):
        return _numbered(state, "deaths", number, event, None)
    fact = DeathFact(
        certificate_no=number,
        date_of_death=event.date_of_death,
        death_source=event.death_source.value,
        recorded_at=event.recorded_at,
        evidence=evidence_of(event),
    )
    return _numbered(state, "deaths", number, event, fact)


def _numbered(
    state: PersonState,
    kind: str,
    number: str,
    event: SourceEvent,
    fact: DeathFact | MarriageFact | None,
) -> PersonState:
    """A registration of `kind` (deaths, marriages) by its number: `fact` registered, or None:
    retracted; nothing if the state knows a newer version of it; not kept over the cap."""
    registered: dict[str, Any] = getattr(state, kind)
    key, known = f"{_TOMBSTONES[kind]}:{number}", registered.get(number)
    version = event_version(event)
    if superseded(state.retracted, key, known.evidence if known else None, version):
        return state
    kept = {k: v for k, v in registered.items() if k != number}
    if fact is None:
        retracted = with_retraction(state.retracted, key, version, MOST_KEPT)
        return replace(state, **{kind: kept}, retracted=retracted)
    if known is None and len(kept) >= MOST_KEPT:
        return _capped(state, kind)
    kept[number] = fact
    return replace(state, **{kind: kept}, retracted=without_retraction(state.retracted, key))


_TOMBSTONES = {"deaths": "death", "marriages": "marriage"}


def _spouse_death(state: PersonState, event: SpouseDeathNoted) -> PersonState:
    spouse = event.spouse_id
    known = spouse in state.spouse_deaths
    if not known and event.date_of_death is not None and len(state.spouse_deaths) >= MOST_KEPT:
        return _capped(state, "spouse_deaths")
    deaths = {k: v for k, v in state.spouse_deaths.items() if k != spouse}
    evidence = {k: v for k, v in state.spouse_death_evidence.items() if k != spouse}
    if event.date_of_death is not None:
        deaths[spouse] = event.date_of_death
        if event.evidence:
            evidence[spouse] = [EvidenceJson(encode(e)) for e in event.evidence]
    return replace(state, spouse_deaths=deaths, spouse_death_evidence=evidence)


def _marriage(state: PersonState, event: MarriageRegistered | MarriageRetracted) -> PersonState:
    number = event.registration_no
    if isinstance(event, MarriageRetracted):
        return _numbered(state, "marriages", number, event, None)
    fact = MarriageFact(
        registration_no=number,
        kind=event.kind.value,
        spouse_id=event.spouse_id,
        registered_on=event.registered_on,
        recorded_at=event.recorded_at,
        evidence=evidence_of(event),
    )
    return _numbered(state, "marriages", number, event, fact)


def _hukou(state: PersonState, event: SourceEvent) -> PersonState:
    if state.registration is not None and outdated(event, state.registration.evidence):
        return state
    if isinstance(event, HouseholdChanged):
        return _household(state, event)
    return replace(state, registration=_registration(state, event))


def _registration(state: PersonState, event: SourceEvent) -> RegistrationFact:
    previous = state.registration
    if isinstance(event, PersonRegistered):
        status, area, household = event.status.value, event.area_code, event.household_no
    elif isinstance(event, PersonMoved):
        status, area = "ACTIVE", event.to_area
    elif isinstance(event, PersonMovedOut):
        status, area = "MOVED_OUT", event.from_area
    else:
        status, area = event.reason.value, event.area_code
    if not isinstance(event, PersonRegistered):
        household = previous.household_no if previous else ""
    return RegistrationFact(
        status=status,
        area_code=area,
        household_no=household,
        occurred_on=event.occurred_on,
        recorded_at=event.recorded_at,
        evidence=evidence_of(event),
    )


def _household(state: PersonState, event: HouseholdChanged) -> PersonState:
    if state.registration is None:
        return state
    registration = replace(state.registration, household_no=event.to_household_no)
    return replace(state, registration=registration)


def _with_social(state: PersonState, event: SourceEvent) -> PersonState:
    changes, aspect = _social_changes(event)
    if state.social is not None and outdated(event, state.social.evidence.get(aspect)):
        return state
    return replace(state, social=_social(state.social, event, changes, aspect))


def _social(
    previous: SocialFact | None, event: SourceEvent, changes: dict[str, Any], aspect: str
) -> SocialFact:
    base = previous or SocialFact(occurred_on=event.occurred_on, recorded_at=event.recorded_at)
    evidence = {**base.evidence, aspect: evidence_of(event)}
    return replace(
        base,
        **changes,
        occurred_on=event.occurred_on,
        recorded_at=event.recorded_at,
        evidence=evidence,
    )


def _social_changes(event: SourceEvent) -> tuple[dict[str, Any], str]:
    if isinstance(event, PensionStarted):
        return {"pension_status": "RECEIVING", "pension_monthly_amount": event.monthly_amount}, (
            "pension"
        )
    if isinstance(event, PensionAmountChanged):
        return {"pension_monthly_amount": event.to_amount}, "pension"
    if isinstance(event, PensionEnded):
        return {"pension_status": event.pension_status.value}, "pension"
    if isinstance(event, EmploymentStarted):
        return {
            "employment_status": event.employment_status.value,
            "employer_uscc": event.employer_uscc,
            "contribution_base": event.contribution_base,
        }, "employment"
    if isinstance(event, EmploymentEnded):
        return {
            "employment_status": event.employment_status.value,
            "employer_uscc": None,
            "contribution_base": Decimal(0),
        }, "employment"
    if isinstance(event, UnemploymentBenefitStarted):
        return {"unemployment_benefit": event.monthly_amount}, "unemployment"
    if isinstance(event, UnemploymentBenefitEnded):
        return {"unemployment_benefit": Decimal(0)}, "unemployment"
    raise TypeError(f"not a person event: {type(event).__name__}")
