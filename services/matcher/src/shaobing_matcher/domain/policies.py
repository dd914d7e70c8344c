"""Policy finds the person (政策找人): who to contact about which benefit.

Evaluated after every event and by the daily tick over every person (birthdays pass without
events). A notification's id is deterministic in (policy, person, period), and the state
remembers the ids sent (`matching.news`): nobody is notified twice for the same policy and period,
and a repeat after a crash is absorbed downstream. A notification that a change of the person's
facts ends (it was due before the change and is not after it) is withdrawn (`ended`); one whose
time merely passed (a birthday reached, the next age tier, a policy's window closed) lapses: the
state forgets it and nothing is sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Container, Iterator, Mapping, Sequence
from typing import NamedTuple

from shaobing_contracts.alert import Evidence
from shaobing_contracts.name_ids import name_id
from shaobing_contracts.notification import NotificationRaised, NotificationWithdrawn
from shaobing_rules.definitions import PolicyScope, Recipient
from shaobing_rules.rule_set import Rule, RuleFailed
from shaobing_rules.scope import Scope

from . import explanations
from .clock import Clock
from .evaluation import RuleBook, applies, base_scope
from .person import EnrolmentLink, NoticeRef, PersonState, cited
from .variables import Fact, enrolment_variables, facts_of

_NOTIFICATION_NAMESPACE = uuid.UUID("0d7b4b8e-51c4-4f35-9f1a-7c2e9d6a3b58")


def notification_id(policy_id: str, id_number: str, period: str) -> uuid.UUID:
    return name_id(_NOTIFICATION_NAMESPACE, f"{policy_id}|{id_number}|{period}")


class Called(NamedTuple):
    """What the policies call for over a state today."""

    due: dict[str, NoticeRef]  # every notification due, by id, whether sent before or not
    new: list[NotificationRaised]  # those due but the ones `sent`, built
    failures: list[RuleFailed]  # the policies that failed on the person


def notifications(
    state: PersonState,
    book: RuleBook,
    clock: Clock,
    scope: Scope | None = None,
    sent: Container[str] = (),
) -> Called:
    """Every notification the person's state calls for today; those of the ids `sent` are not
    built again (a sweep over people notified before builds nothing); `scope`: the person's
    base_scope, when the caller has it already."""
    scope = scope or base_scope(state, book, clock)
    scope.set(threshold=book.thresholds_for(scope["person"]["area_code"]))
    due: dict[str, NoticeRef] = {}
    new: dict[str, NotificationRaised] = {}
    failures: list[RuleFailed] = []
    for policy in book.policies_in_order:
        try:
            for notification, ref, built in _of_policy(state, policy, scope, book, clock, sent):
                due[notification] = ref
                if built is not None:
                    new[notification] = built
        except RuleFailed as failure:
            failures.append(failure)
    return Called(due, list(new.values()), failures)


class Ended(NamedTuple):
    """What becomes of the notifications sent that a state no longer calls for."""

    withdrawn: Sequence[NotificationWithdrawn]  # a change of the person's facts ended them
    lapsed: Sequence[str]  # their time passed (or their policy changed): forgotten, not withdrawn


NOTHING_ENDED = Ended((), ())


def ended(
    before: PersonState,
    due: Mapping[str, NoticeRef],
    failed: Container[str],
    book: RuleBook,
    clock: Clock,
    *,
    changed: bool,
) -> Ended:
    """The notifications sent for `before` that are not `due` for the state after it: those
    due for `before` today were ended by the change of facts (withdrawn; but those of a policy
    that `failed` now stay); the others lapsed (not `changed`: the sweep, all of them)."""
    gone = [n for n in before.notified if n not in due]
    if not gone:  # most changes: the policies over `before` again are not needed
        return NOTHING_ENDED
    if not changed:
        return Ended((), gone)
    held = notifications(before, book, clock, sent=_EVERY).due
    kept = [n for n in gone if n in held and held[n].policy_id in failed]
    return Ended(
        [withdrawal(n, held[n], book, clock) for n in gone if n in held and n not in kept],
        [n for n in gone if n not in held],
    )


def withdrawal(id_: str, ref: NoticeRef, book: RuleBook, clock: Clock) -> NotificationWithdrawn:
    return NotificationWithdrawn(
        id=uuid.UUID(id_),
        policy_id=ref.policy_id,
        id_number=ref.id_number,
        reason=explanations.no_longer_due(book.title(ref.policy_id)),
        withdrawn_at=clock.now,
    )


class _Every:
    """Every id: nothing to build."""

    def __contains__(self, _: object) -> bool:
        return True


_EVERY = _Every()
Due = tuple[str, NoticeRef, NotificationRaised | None]  # id, whom, built unless sent


def _of_policy(
    state: PersonState,
    policy: Rule,
    scope: Scope,
    book: RuleBook,
    clock: Clock,
    sent: Container[str],
) -> Iterator[Due]:
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
                due = _notification(state, policy, link, fact, scope, clock, sent)
                if due is not None:
                    yield due


def _notification(
    state: PersonState,
    policy: Rule,
    link: EnrolmentLink | None,
    fact: Fact | None,
    variables: Scope,
    clock: Clock,
    sent: Container[str],
) -> Due | None:
    definition = policy.definition
    recipient = state.spouse() if definition.notify is Recipient.SPOUSE else state.id_number
    area = state.registration.area_code if state.registration else None
    area = link.enrolment.area_code if link else area
    if recipient is None or area is None:  # nobody to contact, or nobody to contact them
        return None
    period = policy.period(variables)
    notification = notification_id(definition.id, recipient, period)
    key, ref = str(notification), NoticeRef(policy_id=definition.id, id_number=recipient)
    if key in sent:
        return key, ref, None
    evidence = fact.cited() if fact else _registered(state)
    zh, en = policy.explain(variables)
    return (
        key,
        ref,
        NotificationRaised(
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
        ),
    )


def _registered(state: PersonState) -> list[Evidence]:
    return [cited(state.registration.evidence)] if state.registration else []
