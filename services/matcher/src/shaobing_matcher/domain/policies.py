"""Policy finds the person (政策找人): who to contact about which benefit.

Evaluated after every event and by the daily tick over every person (birthdays pass without
events). A notification's id is deterministic in (policy, person, period), so re-sending is
harmless and nobody is notified twice for the same policy and period.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from shaobing_contracts.notification import NotificationRaised
from shaobing_rules.definitions import PolicyScope, Recipient
from shaobing_rules.rule_set import Rule, RuleFailed

from . import explanations
from .clock import Clock
from .evaluation import RuleBook, applies
from .person import EnrolmentLink, PersonState
from .variables import Fact, enrolment_variables, facts_of, person_variables

_NOTIFICATION_NAMESPACE = uuid.UUID("0d7b4b8e-51c4-4f35-9f1a-7c2e9d6a3b58")


def notification_id(policy_id: str, id_number: str, period: str) -> uuid.UUID:
    return uuid.uuid5(_NOTIFICATION_NAMESPACE, f"{policy_id}|{id_number}|{period}")


def notifications(
    state: PersonState, book: RuleBook, clock: Clock
) -> tuple[list[NotificationRaised], list[RuleFailed]]:
    """Every notification the person's state calls for today, and the policies that failed."""
    person = person_variables(state, clock.today)
    base = {
        "person": person,
        "threshold": book.rule_set.thresholds_for(person["area_code"]),
        "constants": dict(book.rule_set.constants),
        "today": clock.today.isoformat(),
    }
    found: dict[uuid.UUID, NotificationRaised] = {}
    failures: list[RuleFailed] = []
    for policy in book.policies:
        try:
            for notification in _of_policy(state, policy, base, clock):
                found[notification.id] = notification
        except RuleFailed as failure:
            failures.append(failure)
    return list(found.values()), failures


def _of_policy(
    state: PersonState, policy: Rule, base: dict[str, Any], clock: Clock
) -> Iterator[NotificationRaised]:
    definition = policy.definition
    links: list[EnrolmentLink | None] = [None]
    if definition.scope is PolicyScope.ENROLMENT:
        links = [link for link in state.enrolments.values() if applies(definition, link)]
    for link in links:
        context = base if link is None else {**base, "enrolment": enrolment_variables(link)}
        facts = [None] if definition.fact is None else facts_of(state, definition.fact, link)
        for fact in facts:
            variables = context if fact is None else {**context, "fact": fact.variables}
            if policy.holds(variables):
                notification = _notification(state, policy, link, fact, variables, clock)
                if notification is not None:
                    yield notification


def _notification(
    state: PersonState,
    policy: Rule,
    link: EnrolmentLink | None,
    fact: Fact | None,
    variables: dict[str, Any],
    clock: Clock,
) -> NotificationRaised | None:
    definition = policy.definition
    recipient = state.spouse() if definition.notify is Recipient.SPOUSE else state.id_number
    area = state.registration.area_code if state.registration else None
    area = link.enrolment.area_code if link else area
    if recipient is None or area is None:  # nobody to contact, or nobody to contact them
        return None
    period = policy.period(variables)
    registered = [state.registration.evidence] if state.registration else []
    evidence = fact.evidence if fact else registered
    zh, en = policy.explain(variables)
    return NotificationRaised(
        id=notification_id(definition.id, recipient, period),
        policy_id=definition.id,
        policy_version=definition.version,
        benefit=definition.benefit,
        stage=definition.stage,
        period=period,
        id_number=recipient,
        area_code=area,
        evidence=evidence,
        explanation=explanations.plain(zh, en),
        raised_at=clock.now,
    )
