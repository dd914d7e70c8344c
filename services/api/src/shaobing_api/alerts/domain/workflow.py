"""The case worker's workflow on an alert: which step is allowed, for whom, from which status.

OPEN → CLAIMED → CONFIRMED (with what was done) or DISMISSED (with a reason); a supervisor may
reopen a decided or withdrawn alert; anyone who works the queue may comment; a supervisor
assigns. Pure: the api loads the alert, asks here, and writes what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from shaobing_contracts.alert import AlertStatus
from shaobing_runtime.access import Principal

from ...common.domain.refusals import Refusal, Refused
from ...common.domain.roles import SUPERVISORS, WORKERS, require_supervisor


class Step(StrEnum):
    CLAIM = "claim"
    RELEASE = "release"  # give a claimed alert back to the queue
    CONFIRM = "confirm"
    DISMISS = "dismiss"
    REOPEN = "reopen"
    ASSIGN = "assign"
    COMMENT = "comment"


class ActionTaken(StrEnum):
    PAYMENT_STOPPED = "PAYMENT_STOPPED"
    REASSESSMENT_OPENED = "REASSESSMENT_OPENED"
    TRANSFERRED = "TRANSFERRED"
    OVERPAYMENT_TO_RECOVER = "OVERPAYMENT_TO_RECOVER"
    ASSIGNMENT_UPDATED = "ASSIGNMENT_UPDATED"


class DismissReason(StrEnum):
    WRONG_PERSON = "WRONG_PERSON"  # the facts are of someone else
    SOURCE_DATA_WRONG = "SOURCE_DATA_WRONG"  # the registry is wrong (a correction is asked)
    ALREADY_HANDLED = "ALREADY_HANDLED"
    RULE_DOES_NOT_APPLY = "RULE_DOES_NOT_APPLY"
    OTHER = "OTHER"  # the text says why


@dataclass(frozen=True)
class AlertCase:
    status: AlertStatus
    claimed_by: str | None
    assignee: str | None


@dataclass(frozen=True)
class StepRequest:
    step: Step
    action_taken: ActionTaken | None = None
    overpayment_to_recover: Decimal | None = None
    reason: DismissReason | None = None
    text: str = ""
    assignee: str | None = None


@dataclass(frozen=True)
class Change:
    """What to write: the new status and who holds it (None: unchanged), and the decision."""

    status: AlertStatus
    claimed_by: str | None
    assignee: str | None
    decision: dict | None = None


_DECIDED = (AlertStatus.CONFIRMED, AlertStatus.DISMISSED, AlertStatus.WITHDRAWN)


def decide(case: AlertCase, request: StepRequest, actor: Principal) -> Change:
    """The change `request` makes to `case`, or Refused saying why not."""
    if actor.role not in WORKERS:
        raise Refused(f"role {actor.role.value} does not work the alert queue", Refusal.FORBIDDEN)
    return _STEPS[request.step](case, request, actor)


def _claim(case: AlertCase, request: StepRequest, actor: Principal) -> Change:
    if case.status is AlertStatus.CLAIMED and case.claimed_by == actor.subject:
        raise Refused("already claimed by you")
    _require(case, AlertStatus.OPEN)
    return Change(AlertStatus.CLAIMED, actor.subject, case.assignee)


def _release(case: AlertCase, request: StepRequest, actor: Principal) -> Change:
    _require(case, AlertStatus.CLAIMED)
    _require_holder(case, actor)
    return Change(AlertStatus.OPEN, None, case.assignee)


def _confirm(case: AlertCase, request: StepRequest, actor: Principal) -> Change:
    _require(case, AlertStatus.CLAIMED)
    _require_holder(case, actor)
    if request.action_taken is None:
        raise Refused("action_taken: say what was done", Refusal.INVALID)
    recover = request.overpayment_to_recover
    if request.action_taken is ActionTaken.OVERPAYMENT_TO_RECOVER and recover is None:
        raise Refused("overpayment_to_recover: the amount is required", Refusal.INVALID)
    decision = {"action_taken": request.action_taken.value, "text": request.text}
    if recover is not None:
        decision["overpayment_to_recover"] = f"{recover:.2f}"
    return Change(AlertStatus.CONFIRMED, case.claimed_by, case.assignee, decision)


def _dismiss(case: AlertCase, request: StepRequest, actor: Principal) -> Change:
    _require(case, AlertStatus.CLAIMED)
    _require_holder(case, actor)
    if request.reason is None:
        raise Refused("reason: one of " + ", ".join(DismissReason), Refusal.INVALID)
    if request.reason is DismissReason.OTHER and not request.text.strip():
        raise Refused("text: say why when the reason is OTHER", Refusal.INVALID)
    decision = {"reason": request.reason.value, "text": request.text}
    return Change(AlertStatus.DISMISSED, case.claimed_by, case.assignee, decision)


def _reopen(case: AlertCase, request: StepRequest, actor: Principal) -> Change:
    require_supervisor(actor, "reopen")
    if case.status not in _DECIDED:
        raise Refused(f"only a decided or withdrawn alert can be reopened, not {case.status}")
    return Change(AlertStatus.OPEN, None, case.assignee, {"reopened": True, "text": request.text})


def _assign(case: AlertCase, request: StepRequest, actor: Principal) -> Change:
    require_supervisor(actor, "assign")
    if not request.assignee:
        raise Refused("assignee: who (or which team) takes it", Refusal.INVALID)
    if case.status in _DECIDED:
        raise Refused(f"a {case.status} alert is not assigned")
    return Change(case.status, case.claimed_by, request.assignee)


def _comment(case: AlertCase, request: StepRequest, actor: Principal) -> Change:
    if not request.text.strip():
        raise Refused("text: the comment is empty", Refusal.INVALID)
    return Change(case.status, case.claimed_by, case.assignee)


def _require(case: AlertCase, status: AlertStatus) -> None:
    if case.status is not status:
        raise Refused(f"the alert is {case.status}, not {status}")


def _require_holder(case: AlertCase, actor: Principal) -> None:
    if case.claimed_by != actor.subject and actor.role not in SUPERVISORS:
        raise Refused(f"claimed by {case.claimed_by}: only they or a supervisor may do this")


_STEPS = {
    Step.CLAIM: _claim,
    Step.RELEASE: _release,
    Step.CONFIRM: _confirm,
    Step.DISMISS: _dismiss,
    Step.REOPEN: _reopen,
    Step.ASSIGN: _assign,
    Step.COMMENT: _comment,
}
