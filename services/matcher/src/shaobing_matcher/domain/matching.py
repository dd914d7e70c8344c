"""The symmetric join: a fact meets the person's enrolments, an enrolment meets known facts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from shaobing_contracts.alert import Action, AlertRaised, Evidence, Severity
from shaobing_contracts.death import DeathRegistered, DeathRetracted
from shaobing_contracts.enrolment import EnrolmentStatus, MemberRole, PersonEnrolment

from . import explanations
from .payout_calendar import months_paid_after, next_cutoff, overpaid_amount
from .person import DeathFact, EnrolmentLink, PersonState

_ALERT_NAMESPACE = uuid.UUID("4f6a1c52-0d1e-4b7e-9a43-5e1f4c8a2b10")
PersonEvent = DeathRegistered | DeathRetracted | PersonEnrolment


@dataclass(frozen=True)
class Rule:
    rule_id: str
    version: int
    severity: Severity
    action: Action


DEATH_OF_BENEFICIARY = Rule("death-of-beneficiary", 1, Severity.CRITICAL, Action.STOP)


@dataclass(frozen=True)
class Clock:
    """When the matcher evaluates, and the payout calendar it evaluates against."""

    now: datetime
    today: date
    cutoff_day: int


def alert_id(rule: Rule, enrolment_id: str, fact_key: str) -> uuid.UUID:
    """The same rule, enrolment and fact always give the same alert id."""
    return uuid.uuid5(_ALERT_NAMESPACE, f"{rule.rule_id}|{enrolment_id}|{fact_key}")


def apply(
    state: PersonState, event: PersonEvent, clock: Clock
) -> tuple[PersonState, list[AlertRaised]]:
    """Fold one event into the person's state and return the alerts it raises."""
    if isinstance(event, DeathRegistered):
        state = _with_death(state, event)
        return state, _death_alerts(state, state.enrolments.values(), clock)
    if isinstance(event, DeathRetracted):
        deaths = {k: v for k, v in state.deaths.items() if k != event.certificate_no}
        return state.model_copy(update={"deaths": deaths}), []
    state = _with_enrolment(state, event)
    link = state.enrolments.get(event.enrolment.enrolment_id)
    return state, _death_alerts(state, [link] if link else [], clock)


def _with_death(state: PersonState, event: DeathRegistered) -> PersonState:
    evidence = Evidence(
        event_id=event.event_id,
        event_type=event.event_type,
        recorded_at=event.recorded_at,
        provenance=event.provenance,
        facts={
            "certificate_no": event.certificate_no,
            "date_of_death": event.date_of_death.isoformat(),
            "death_source": event.death_source.value,
        },
    )
    fact = DeathFact(
        certificate_no=event.certificate_no,
        date_of_death=event.date_of_death,
        recorded_at=event.recorded_at,
        evidence=evidence,
    )
    return state.model_copy(update={"deaths": {**state.deaths, event.certificate_no: fact}})


def _with_enrolment(state: PersonState, event: PersonEnrolment) -> PersonState:
    enrolments = dict(state.enrolments)
    if event.role is None:
        enrolments.pop(event.enrolment.enrolment_id, None)
    else:
        enrolments[event.enrolment.enrolment_id] = EnrolmentLink(
            role=event.role, enrolment=event.enrolment
        )
    return state.model_copy(update={"enrolments": enrolments})


def _death_alerts(state: PersonState, links, clock: Clock) -> list[AlertRaised]:
    death = state.death()
    if death is None:
        return []
    evidence = [d.evidence for d in sorted(state.deaths.values(), key=lambda d: d.date_of_death)]
    return [
        _death_of_beneficiary(state.id_number, link, death, evidence, clock)
        for link in links
        if link.role is MemberRole.BENEFICIARY and link.enrolment.status is EnrolmentStatus.ACTIVE
    ]


def _death_of_beneficiary(
    id_number: str, link: EnrolmentLink, death: DeathFact, evidence: list, clock: Clock
) -> AlertRaised:
    enrolment, rule = link.enrolment, DEATH_OF_BENEFICIARY
    # The fact is the person's death, however many certificates record it.
    fact_key = f"death:{id_number}"
    months = months_paid_after(
        death.date_of_death,
        known_on=death.recorded_at.date(),
        start_month=enrolment.start_month,
        cutoff_day=clock.cutoff_day,
    )
    return AlertRaised(
        id=alert_id(rule, enrolment.enrolment_id, fact_key),
        rule_id=rule.rule_id,
        rule_version=rule.version,
        fact_key=fact_key,
        enrolment_id=enrolment.enrolment_id,
        program=enrolment.program,
        id_number=id_number,
        area_code=enrolment.area_code,
        severity=rule.severity,
        action=rule.action,
        due_date=next_cutoff(clock.today, clock.cutoff_day),
        overpaid_months=months,
        overpaid_amount=overpaid_amount(months, enrolment.monthly_amount),
        evidence=evidence,
        explanation=explanations.death_of_beneficiary(enrolment, death, months),
        raised_at=clock.now,
    )
