"""Rules over a person's state: the alerts whose facts hold, and those whose facts no longer do.

Level-based, so the arrival order of facts and enrolments does not matter: after every event the
full set of alerts the state supports is computed, and an alert that no longer holds is
withdrawn; the state keeps both sets, from which `matching.news` tells what to send. An alert
whose enrolment is no longer ACTIVE is kept, not sent: its fate is the case worker's, and a
payment stopped because of it does not withdraw it.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from msgspec.structs import replace

from shaobing_contracts.alert import AlertRaised, AlertWithdrawn, Explanation
from shaobing_contracts.death import SpouseDeathNoted
from shaobing_contracts.enrolment import EnrolmentStatus, MemberRole, Program
from shaobing_contracts.name_ids import name_id
from shaobing_contracts.notification import NotificationRaised, NotificationWithdrawn
from shaobing_rules.definitions import (
    FactKind,
    MemberFilter,
    PolicyDefinition,
    PolicyScope,
    RuleDefinition,
)
from shaobing_rules.rule_set import Rule, RuleFailed, RuleSet, fields_read_by
from shaobing_rules.scope import Scope

from . import explanations
from .clock import Clock
from .payout_calendar import months_paid_after, next_cutoff, overpaid_amount
from .person import AlertRef, EnrolmentLink, NoticeRef, PersonState
from .variables import Fact, enrolment_variables, facts_of, person_variables

_ALERT_NAMESPACE = uuid.UUID("4f6a1c52-0d1e-4b7e-9a43-5e1f4c8a2b10")


def alert_id(rule_id: str, enrolment_id: str, fact_key: str) -> uuid.UUID:
    """The same rule, enrolment and fact always give the same alert id (whatever the version)."""
    return name_id(_ALERT_NAMESPACE, f"{rule_id}|{enrolment_id}|{fact_key}")


@dataclass(frozen=True)
class RuleBook:
    """The rules and policies in force on one day, with what they read."""

    rule_set: RuleSet
    rules: tuple[Rule, ...]
    policies: tuple[Rule, ...] = ()

    constants: dict[str, Any] = field(default_factory=dict)
    _thresholds: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)
    _scopes: dict[str, Scope] = field(default_factory=dict, repr=False)
    _by_link: dict[tuple[Program, MemberRole], dict[FactKind, list[Rule]]] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def on(cls, rule_set: RuleSet, clock: Clock) -> RuleBook:
        rules, policies = rule_set.in_force(clock.today), rule_set.policies_in_force(clock.today)
        return cls(rule_set, tuple(rules), tuple(policies), dict(rule_set.constants))

    @cached_property
    def policies_in_order(self) -> tuple[Rule, ...]:
        """The person-scope policies first: they read the person's threshold, set before them."""
        return tuple(
            sorted(self.policies, key=lambda p: p.definition.scope is PolicyScope.ENROLMENT)
        )

    def rules_for(self, link: EnrolmentLink) -> dict[FactKind, list[Rule]]:
        """The rules concerning the enrolment and the person's role in it, by the kind of fact
        they check, in the book's order; remembered for the batch by program and role."""
        key = (link.enrolment.program, link.role)
        if key not in self._by_link:
            by_kind: dict[FactKind, list[Rule]] = {}
            for rule in self.rules:
                if applies(rule.definition, link):
                    by_kind.setdefault(rule.definition.fact, []).append(rule)
            self._by_link[key] = by_kind
        return self._by_link[key]

    def thresholds_for(self, area_code: str) -> dict[str, float]:
        """The rule set's thresholds at an area, remembered for the batch."""
        if area_code not in self._thresholds:
            self._thresholds[area_code] = self.rule_set.thresholds_for(area_code)
        return self._thresholds[area_code]

    def scope_on(self, today: date) -> Scope:
        """The book's one CEL context for a day: constants and today converted once, renewed
        for each person (base_scope); only the fields its rules and policies read reach CEL."""
        day = today.isoformat()
        if day not in self._scopes:
            fields = fields_read_by([*self.rules, *self.policies])
            self._scopes[day] = Scope({"constants": self.constants, "today": day}, fields)
        return self._scopes[day]

    def title(self, rule_id: str) -> Explanation:
        """The title of the rule (or policy) of that id, in its latest version."""
        every = [*self.rule_set.rules, *self.rule_set.policies]
        titles = [r.definition.title for r in every if r.definition.id == rule_id]
        if not titles:
            return Explanation(zh_cn=rule_id, en=rule_id)
        return Explanation(zh_cn=titles[-1].zh_cn, en=titles[-1].en)


@dataclass(frozen=True)
class Outcome:
    state: PersonState
    raised: list[AlertRaised]
    withdrawn: list[AlertWithdrawn]
    failures: list[RuleFailed] = field(default_factory=list)  # rules that failed on this person
    notifications: list[NotificationRaised] = field(default_factory=list)
    evaluated: Counter[str] = field(default_factory=Counter)  # conditions checked, by rule id
    spouse_notices: list[SpouseDeathNoted] = field(default_factory=list)  # domain/spouse.py
    # every notification the state calls for today (sent before or not), by id
    due: dict[str, NoticeRef] = field(default_factory=dict)
    notifications_withdrawn: Sequence[NotificationWithdrawn] = ()


def evaluate(
    state: PersonState,
    book: RuleBook,
    clock: Clock,
    scope: Scope | None = None,
    sent: Container[str] = (),
) -> Outcome:
    """Every rule in force over every enrolment the person belongs to (`scope`: the person's
    base_scope, when the caller has it already; `sent`: ids of alerts sent before, not built
    again while the state still holds them raised)."""
    if not (state.enrolments or state.raised or state.withdrawn):
        return Outcome(state, [], [])  # no rule concerns the person, nothing to withdraw
    holding: dict[str, tuple[AlertRef, AlertRaised | None]] = {}
    failures: list[RuleFailed] = []
    evaluated: Counter[str] = Counter()
    scope = scope or base_scope(state, book, clock)
    for link in state.enrolments.values():
        by_kind = book.rules_for(link)
        if not by_kind:
            continue
        area = link.enrolment.area_code
        scope.set(enrolment=enrolment_variables(link), threshold=book.thresholds_for(area))
        for kind, rules in by_kind.items():
            for fact in facts_of(state, kind, link):
                scope.set(fact=fact.variables)
                for rule in rules:
                    evaluated[rule.definition.id] += 1
                    try:
                        if rule.holds(scope):
                            holding |= _held(state, rule, link, fact, scope, clock, sent)
                    except RuleFailed as failure:  # one broken rule must not stop the others
                        failures.append(failure)
    return _settled(state, holding, book, clock, failures, evaluated)


def base_scope(state: PersonState, book: RuleBook, clock: Clock) -> Scope:
    """What every rule and policy sees of the person, converted for CEL once (on the book's
    scope: valid until the next person's)."""
    return book.scope_on(clock.today).renew(person=person_variables(state, clock.today))


def applies(rule: RuleDefinition | PolicyDefinition, link: EnrolmentLink) -> bool:
    """Whether the rule (or policy) concerns this enrolment and the person's role in it."""
    if rule.programs is not None and link.enrolment.program not in rule.programs:
        return False
    if rule.members is MemberFilter.BENEFICIARY:
        return link.role is MemberRole.BENEFICIARY
    if rule.members is MemberFilter.MEMBER:
        return link.role is MemberRole.MEMBER
    return True


def _held(
    state: PersonState,
    rule: Rule,
    link: EnrolmentLink,
    fact: Fact,
    scope: Scope,
    clock: Clock,
    sent: Container[str],
) -> dict[str, tuple[AlertRef, AlertRaised | None]]:
    """The alert the rule holds for, by id; None for one not to send: its enrolment is not
    ACTIVE, or it was sent and is still raised (rendering it again is most of a rule's cost)."""
    ref = AlertRef(
        rule_id=rule.definition.id, enrolment_id=link.enrolment.enrolment_id, fact_key=fact.key
    )
    aid = alert_id(ref.rule_id, ref.enrolment_id, ref.fact_key)
    key = str(aid)
    active = link.enrolment.status is EnrolmentStatus.ACTIVE
    known = key in sent and key in state.raised
    alert = _alert(aid, state, rule, link, fact, scope, clock) if active and not known else None
    return {key: (ref, alert)}


def _alert(
    aid: uuid.UUID,
    state: PersonState,
    rule: Rule,
    link: EnrolmentLink,
    fact: Fact,
    variables: Scope,
    clock: Clock,
) -> AlertRaised:
    definition, enrolment = rule.definition, link.enrolment
    months = 0
    if definition.recover_overpayment:
        months = months_paid_after(
            fact.occurred_on,
            known_on=fact.known_on,
            start_month=enrolment.start_month,
            cutoff_day=clock.cutoff_day,
        )
    amount = overpaid_amount(months, enrolment.monthly_amount)
    zh, en = rule.explain(variables)
    return AlertRaised(
        id=aid,
        rule_id=definition.id,
        rule_version=definition.version,
        fact_key=fact.key,
        enrolment_id=enrolment.enrolment_id,
        program=enrolment.program,
        id_number=state.id_number,
        area_code=enrolment.area_code,
        severity=definition.severity,
        action=definition.action,
        due_date=next_cutoff(clock.today, clock.cutoff_day),
        overpaid_months=months,
        overpaid_amount=amount,
        evidence=fact.cited(),
        explanation=explanations.with_overpayment(zh, en, months, amount),
        raised_at=clock.now,
    )


def _settled(
    state: PersonState,
    holding: dict[str, tuple[AlertRef, AlertRaised | None]],
    book: RuleBook,
    clock: Clock,
    failures: list[RuleFailed],
    evaluated: Counter[str],
) -> Outcome:
    failed = {f.rule_id for f in failures}  # what a failing rule raised before stays as it was
    kept = {aid: ref for aid, ref in state.raised.items() if ref.rule_id in failed}
    raised = kept | {
        aid: ref for aid, (ref, alert) in holding.items() if alert or aid in state.raised
    }
    gone = {aid: ref for aid, ref in state.raised.items() if aid not in holding | kept}
    withdrawn = {aid: ref for aid, ref in (state.withdrawn | gone).items() if aid not in holding}
    if raised != state.raised or withdrawn != state.withdrawn:
        state = replace(state, raised=raised, withdrawn=withdrawn)
    return Outcome(
        state,
        [alert for _, alert in holding.values() if alert],
        [_withdrawal(state, aid, ref, book, clock) for aid, ref in withdrawn.items()],
        failures,
        evaluated=evaluated,
    )


def _withdrawal(
    state: PersonState, aid: str, ref: AlertRef, book: RuleBook, clock: Clock
) -> AlertWithdrawn:
    return AlertWithdrawn(
        id=uuid.UUID(aid),
        rule_id=ref.rule_id,
        enrolment_id=ref.enrolment_id,
        fact_key=ref.fact_key,
        id_number=state.id_number,
        reason=explanations.withdrawn(book.title(ref.rule_id)),
        withdrawn_at=clock.now,
    )
