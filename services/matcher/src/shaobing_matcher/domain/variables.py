"""A person's state as the variables a rule sees (declared in shaobing_rules.variable_catalogue)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any

import msgspec

from shaobing_contracts.alert import Evidence
from shaobing_contracts.enrolment import EnrolmentStatus
from shaobing_contracts.id_number import birth_date_of, is_male, mask_id_number
from shaobing_rules.definitions import FactKind

from .explanations import PROGRAM_ZH
from .person import EnrolmentLink, EvidenceJson, PersonState, cited, ingested_at


@lru_cache(maxsize=4096)  # the same few instants, once per enrolment, fact and policy
def instant(moment: datetime) -> str:
    """UTC ISO text: instants compare correctly as text in CEL."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def next_birthday(born: date, today: date) -> date:
    """The next birthday on or after today (29 February counts on 28 February)."""
    for year in (today.year, today.year + 1):
        day = born.replace(year=year) if (born.month, born.day) != (2, 29) else date(year, 2, 28)
        if day >= today:
            return day
    raise AssertionError("unreachable")


def person_variables(state: PersonState, today: date) -> dict[str, Any]:
    registration, born, spouse = state.registration, birth_date_of(state.id_number), state.spouse()
    birthday = next_birthday(born, today)
    return {
        "masked_id": mask_id_number(state.id_number),
        "birth_date": born.isoformat(),
        "age": age_on(born, today),
        "age_at_next_birthday": age_on(born, birthday),
        "days_to_birthday": (birthday - today).days,
        "gender": "MALE" if is_male(state.id_number) else "FEMALE",
        "alive": not state.deaths,
        "registration_status": registration.status if registration else "UNKNOWN",
        "area_code": registration.area_code if registration else "",
        "marital_status": state.marital_status(),
        "spouse_masked_id": mask_id_number(spouse) if spouse else "",
        "spouse_age": age_on(birth_date_of(spouse), today) if spouse else -1,
        "spouse_alive": state.spouse_alive(),
        "programs": sorted(
            {
                link.enrolment.program.value
                for link in state.enrolments.values()
                if link.enrolment.status is EnrolmentStatus.ACTIVE
            }
        ),
    }


def enrolment_variables(link: EnrolmentLink) -> dict[str, Any]:
    enrolment = link.enrolment
    return {
        "enrolment_id": enrolment.enrolment_id,
        "program": enrolment.program.value,
        "program_zh": PROGRAM_ZH[enrolment.program.value],
        "role": link.role.value,
        "area_code": enrolment.area_code,
        "status": enrolment.status.value,
        "monthly_amount": float(enrolment.monthly_amount),
        "start_month": enrolment.start_month,
        "first_recorded_at": instant(link.first_recorded_at),
    }


@dataclass(frozen=True)
class Fact:
    key: str  # what makes it this fact: one alert per rule, enrolment and key
    details: dict[str, Any]  # what a rule sees of it besides when
    evidence: list[EvidenceJson]
    occurred_on: date
    recorded_at: datetime

    @property
    def variables(self) -> dict[str, Any]:
        return {
            **self.details,
            "occurred_on": self.occurred_on.isoformat(),
            "recorded_at": instant(self.recorded_at),
            "known_at": instant(self.known_at),
        }

    @property
    def known_at(self) -> datetime:
        """When Shaobing first learned it (ingested), which may be long after it was recorded."""
        return min(map(ingested_at, self.evidence), default=self.recorded_at)

    def cited(self) -> list[Evidence]:
        """The evidence as an alert or notification carries it."""
        return [cited(e) for e in self.evidence]

    @property
    def known_on(self) -> date:
        """The local day it was recorded: payments after it were made knowingly."""
        return self.recorded_at.date()


def facts_of(state: PersonState, kind: FactKind, link: EnrolmentLink | None) -> Iterator[Fact]:
    """Each fact of `kind`, as seen from the enrolment `link` (None: from the person)."""
    yield from _FACTS[kind](state, link)


def _deaths(state: PersonState, link: EnrolmentLink | None) -> Iterator[Fact]:
    death = state.death()
    if death is None:  # every certificate of one death is one fact: the person died
        return
    details = {
        "certificate_no": death.certificate_no,
        "date_of_death": death.date_of_death.isoformat(),
        "death_source": death.death_source,
    }
    evidence = [d.evidence for d in sorted(state.deaths.values(), key=lambda d: d.date_of_death)]
    key = f"death:{state.id_number}"
    yield Fact(key, details, evidence, death.date_of_death, death.recorded_at)


def _marriages(state: PersonState, link: EnrolmentLink | None) -> Iterator[Fact]:
    for m in state.marriages.values():
        details = {
            "registration_no": m.registration_no,
            "kind": m.kind,
            "spouse_masked_id": mask_id_number(m.spouse_id),
            "registered_on": m.registered_on.isoformat(),
        }
        key = f"marriage:{m.registration_no}"
        yield Fact(key, details, [m.evidence], m.registered_on, m.recorded_at)


def _registration(state: PersonState, link: EnrolmentLink | None) -> Iterator[Fact]:
    r = state.registration
    if r is None:
        return
    paying = link.enrolment.area_code if link else r.area_code
    details = {
        "status": r.status,
        "area_code": r.area_code,
        "same_district": r.area_code[:6] == paying[:6],
        "same_community": r.area_code == paying,
        "household_no": r.household_no,
    }
    key = f"registration:{r.status}:{r.area_code}"
    yield Fact(key, details, [r.evidence], r.occurred_on, r.recorded_at)


def _social(state: PersonState, link: EnrolmentLink | None) -> Iterator[Fact]:
    s = state.social
    if s is None:
        return
    details = {
        "pension_status": s.pension_status,
        "pension_monthly_amount": float(s.pension_monthly_amount),
        "employment_status": s.employment_status,
        "contribution_base": float(s.contribution_base),
        "unemployment_benefit": float(s.unemployment_benefit),
    }
    key = f"social:{s.pension_status}:{s.employment_status}:{s.employer_uscc or '-'}"
    yield Fact(key, details, list(s.evidence.values()), s.occurred_on, s.recorded_at)


def _other_enrolments(state: PersonState, link: EnrolmentLink | None) -> Iterator[Fact]:
    own = link.enrolment if link else None
    for other in state.enrolments.values():
        if own and other.enrolment.enrolment_id == own.enrolment_id:
            continue
        details = enrolment_variables(other)
        del details["monthly_amount"], details["start_month"]
        area = own.area_code if own else other.enrolment.area_code
        details["same_district"] = other.enrolment.area_code[:6] == area[:6]
        first = other.first_recorded_at
        yield Fact(f"enrolment:{other.enrolment.enrolment_id}", details, [], first.date(), first)


def _spouse_death(state: PersonState, link: EnrolmentLink | None) -> Iterator[Fact]:
    spouse = state.spouse()
    if spouse is None or spouse not in state.spouse_deaths:
        return
    died_on, evidence = state.spouse_deaths[spouse], state.spouse_death_evidence.get(spouse, [])
    told = [_told(e) for e in evidence]
    details = {
        "spouse_masked_id": mask_id_number(spouse),
        "date_of_death": died_on.isoformat(),
        "certificate_no": next((t.facts.get("certificate_no", "") for t in told), ""),
    }
    # told by an older matcher, without evidence: recorded when it happened, as far as we know
    recorded = min((t.recorded_at for t in told), default=datetime.combine(died_on, time(), UTC))
    yield Fact(f"spouse-death:{spouse}", details, evidence, died_on, recorded)


class _Told(msgspec.Struct):
    recorded_at: datetime
    facts: dict[str, Any]


_told = msgspec.json.Decoder(_Told).decode

_FACTS = {
    FactKind.DEATH: _deaths,
    FactKind.MARRIAGE: _marriages,
    FactKind.REGISTRATION: _registration,
    FactKind.SOCIAL: _social,
    FactKind.ENROLMENT: _other_enrolments,
    FactKind.SPOUSE_DEATH: _spouse_death,
}
