"""The symmetric join: each event folded into the person's state, then the rules over all of it.

A fact meets the person's enrolments, an enrolment meets the facts already known: both are the
same evaluation of the whole state after the event. The policies (政策找人) run on the same state.

The evaluation is level-based (everything the state supports, whatever the arrival order); what
is sent is what changed since the state was stored (`news`): an alert not raised before, a
withdrawal not sent before, a notification not sent before, and the withdrawal of one that the
change ended. The hot path and the sweep store the state only once what it sent is
acknowledged, so a crash in between sends it again (absorbed downstream: deterministic ids); a
resend sweep sends everything that holds, and every withdrawal, for a downstream that lost what
it had (docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from msgspec.structs import replace

from shaobing_contracts.codec import AnyPersonEvent
from shaobing_contracts.death import SpouseDeathNoted
from shaobing_contracts.notification import NotificationRaised

from .clock import Clock
from .evaluation import Outcome, RuleBook, base_scope, evaluate
from .facts import fold
from .person import NoticeRef, PersonState
from .policies import NOTHING_ENDED, Ended, ended, notifications, withdrawal
from .spouse import spouse_notices


def apply(state: PersonState, event: AnyPersonEvent, book: RuleBook, clock: Clock) -> Outcome:
    """The person's state after `event`, the alerts it supports, those withdrawn, and whom to
    contact."""
    return reevaluate(fold(state, event), book, clock)


def settle(
    before: PersonState | None, after: PersonState, book: RuleBook, clock: Clock
) -> Outcome | None:
    """The rules and policies over the state a batch of the person's events left, or None when
    the batch changed nothing: the alerts and notifications of an unchanged state were sent when
    it was stored (the hot path stores a state only once they are acknowledged), and those that
    a passing day brings are the daily sweep's."""
    if after == before:
        return None
    return news(before, after, book, clock, spouse_notices(before, after, clock.now))


def swept(state: PersonState, book: RuleBook, clock: Clock, *, resend: bool = False) -> Outcome:
    """The daily sweep over a stored state: what a passing day or a new rule version brings
    (everything that holds, with `resend`)."""
    return news(None if resend else state, state, book, clock)


def news(
    before: PersonState | None,
    state: PersonState,
    book: RuleBook,
    clock: Clock,
    notices: list[SpouseDeathNoted] | None = None,
) -> Outcome:
    """What `state` calls for that was not sent for the `before` state (None: everything): the
    notifications sent are not even built again; those that the change from `before` ended are
    withdrawn (a sweep, `before` being `state`, changes no fact: it withdraws none), those no
    longer due otherwise lapse; the outcome's state remembers what it sent."""
    outcome = reevaluate(state, book, clock, notices, before)
    raised, withdrawn = outcome.raised, outcome.withdrawn
    if before is not None:
        raised = [a for a in raised if str(a.id) not in before.raised]
        withdrawn = [w for w in withdrawn if str(w.id) not in before.withdrawn]
    found, gone = outcome.notifications, _ended(before, state, outcome, book, clock)
    return Outcome(
        _remembered(outcome.state, found, gone),
        raised,
        withdrawn,
        outcome.failures,
        found,
        outcome.evaluated,
        outcome.spouse_notices,
        outcome.due,
        gone.withdrawn,
    )


def _ended(
    before: PersonState | None, state: PersonState, outcome: Outcome, book: RuleBook, clock: Clock
) -> Ended:
    """The notifications sent that the state no longer calls for: withdrawn if the change from
    `before` ended them, else lapsed; resending (`before` None), every withdrawal again."""
    if not (state.notified or state.notices_withdrawn):  # most people: nothing sent
        return NOTHING_ENDED
    failed = {f.rule_id for f in outcome.failures}
    changed = before is not None and before is not state
    gone = ended(before or state, outcome.due, failed, book, clock, changed=changed)
    if before is not None:
        return gone
    withdrawn = state.notices_withdrawn.items()
    again = [withdrawal(n, ref, book, clock) for n, ref in withdrawn if n not in outcome.due]
    return Ended(again, gone.lapsed)


def _remembered(
    state: PersonState, found: Sequence[NotificationRaised], gone: Ended
) -> PersonState:
    """The state remembering the notifications it sent and those it withdrew, and forgetting
    those that lapsed."""
    if not (found or gone.withdrawn or gone.lapsed):
        return state
    sent = {str(n.id) for n in found}
    withdrawn = {n: ref for n, ref in state.notices_withdrawn.items() if n not in sent}
    for w in gone.withdrawn:
        withdrawn[str(w.id)] = NoticeRef(policy_id=w.policy_id, id_number=w.id_number)
    ended_ids = {*gone.lapsed, *(str(w.id) for w in gone.withdrawn)}
    notified = sorted({*state.notified, *sent} - ended_ids)
    if notified == state.notified and withdrawn == state.notices_withdrawn:
        return state
    return replace(state, notified=notified, notices_withdrawn=withdrawn)


def reevaluate(
    state: PersonState,
    book: RuleBook,
    clock: Clock,
    notices: list[SpouseDeathNoted] | None = None,
    before: PersonState | None = None,
) -> Outcome:
    """The rules and policies in force over the state as it is: after an event, and for every
    person when a day passes or the rules change (`notices`: what to tell the spouse; `before`:
    the state stored last, whose alerts and notifications are not built again)."""
    scope = base_scope(state, book, clock)  # converted for CEL once for rules and policies
    alerts_sent, notified = (before.raised, before.notified) if before else ((), ())
    outcome = evaluate(state, book, clock, scope, alerts_sent)
    called = notifications(outcome.state, book, clock, scope, notified)
    return Outcome(  # not dataclasses.replace: twice as slow, once per person
        outcome.state,
        outcome.raised,
        outcome.withdrawn,
        [*outcome.failures, *called.failures],
        called.new,
        outcome.evaluated,
        notices or [],
        called.due,
    )
