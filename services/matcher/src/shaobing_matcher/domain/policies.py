"""Policy finds the person (政策找人): who to contact about which benefit.

Evaluated after every event and by the daily tick over every person (birthdays pass without
events). A notification's id is deterministic in (policy, person, period), and the state
remembers the ids sent (`matching.news`): nobody is notified twice for the same policy and period,
and a repeat after a crash is absorbed downstream.
"""

from __future__ import annotations

import uuid
from collections.abc import Container, Iterator

from shaobing_contracts.alert import Evidence
from shaobing_contracts.name_ids import name_id
from shaobing_contracts.notification import NotificationRaised
from shaobing_rules.definitions import PolicyScope, Recipient
from shaobing_rules.rule_set import Rule, RuleFailed
from shaobing_rules.scope import Scope

from . import explanations
from .clock import Clock
from .evaluation import RuleBook, applies, base_scope
from .person import EnrolmentLink, PersonState, cited
from .variables import Fact, enrolment_variables, facts_of

_NOTIFICATION_NAMESPACE = uuid.UUID("0d7b4b8e-51c4-4f35-9f1a-7c2e9d6a3b58")


def notification_id(policy_id: str, id_number: str, period: str) -> uuid.UUID:
    return name_id(_NOTIFICATION_NAMESPACE, f"{policy_id}|{id_number}|{period}")


def notifications(
    state: PersonState,
    book: RuleBook,
    clock: Clock,
    scope: Scope | None = None,
    sent: Container[str] = (),
) -> tuple[list[NotificationRaised], list[RuleFailed]]:
    """Every notification the person's state calls for today but those of the ids `sent`
    (not built again: a sweep over people notified before builds nothing), and the policies
    that failed (`scope`: the person's base_scope, when the caller has it already)."""
    scope = scope or base_scope(state, book, clock)
    scope.set(threshold=book.thresholds_for(scope["person"]["area_code"]))
    found: dict[uuid.UUID, NotificationRaised] = {}
    failures: list[RuleFailed] = []
    for policy in book.policies_in_order:
        try:
            for notification in _of_policy(state, policy, scope, book, clock, sent):
                found[notification.id] = notification
        except RuleFailed as failure:
            failures.append(failure)
    return list(found.values()), failures


def _of_policy(
    state: PersonState,
    policy: Rule,
    scope: Scope,
    book: RuleBook,
    clock: Clock,
    sent: Container[str],
) -> Iterator[NotificationRaised]:
    definition = policy.definition
    links: list[EnrolmentLink | None] = [None]
    if definition.scope is PolicyScope.ENROLMENT:
        links = [link for link in state.enrolments.values() if applies(definition, link)]
    for link in links:
        if link is not None:
            area = link.enrolment.area_code
            scope.set(enrolment=enrolment_variables(link), threshold=book.thresholds_for(area))
        facts = [None] if definition.fact is None else facts_of(state, definition.fact, link)
        for fact in facts:
            if fact is not None:
                scope.set(fact=fact.variables)
            if policy.holds(scope):
                notification = _notification(state, policy, link, fact, scope, clock, sent)
                if notification is not None:
                    yield notification


def _notification(
    state: PersonState,
    policy: Rule,
    link: EnrolmentLink | None,
    fact: Fact | None,
    variables: Scope,
    clock: Clock,
    sent: Container[str],
) -> NotificationRaised | None:
    definition = policy.definition
    recipient = state.spouse() if definition.notify is Recipient.SPOUSE else state.id_number
    area = state.registration.area_code if state.registration else None
    area = link.enrolment.area_code if link else area
    if recipient is None or area is None:  # nobody to contact, or nobody to contact them
        return None
    period = policy.period(variables)
    notification = notification_id(definition.id, recipient, period)
    if str(notification) in sent:
        return None
    evidence = fact.cited() if fact else _registered(state)
    zh, en = policy.explain(variables)
    return NotificationRaised(
        id=notification,
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


def _registered(state: PersonState) -> list[Evidence]:
    return [cited(state.registration.evidence)] if state.registration else []
