"""The pre-payment check's rules that are not SQL: who may start, override and approve a run, in
which status, and how a decision's reasons read. Pure: the api loads a run, asks here, writes.

A run goes RUNNING → READY → APPROVED → EXPORTED; a re-run of the month supersedes a READY run
(SUPERSEDED) and a READY run can be set aside (CANCELLED); a run that stops part-way is FAILED.
An enrolment is paid at most once a month: runs of a month whose areas overlap exclude each
other. The decisions themselves are made set-based in PostgreSQL (`adapters/payout_store.py`),
over every active enrolment of the area at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from shaobing_runtime.access import Principal, Role

from ...common.domain.refusals import Refusal, Refused


class Decision(StrEnum):
    PAY = "PAY"
    HOLD = "HOLD"  # an open alert, a pending reassessment: not paid until someone decides
    STOP = "STOP"  # a confirmed death, cancellation, move out or duplicate


class RunStatus(StrEnum):
    RUNNING = "RUNNING"
    READY = "READY"
    APPROVED = "APPROVED"
    EXPORTED = "EXPORTED"
    SUPERSEDED = "SUPERSEDED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


START_ROLES = frozenset({Role.PAYMENT_OFFICER, Role.SUPERVISOR, Role.ADMIN})
APPROVE_ROLES = frozenset({Role.PAYMENT_OFFICER, Role.SUPERVISOR})
READ_ROLES = START_ROLES | {Role.AUDITOR}
FULL_ACCOUNT_ROLES = frozenset({Role.PAYMENT_OFFICER, Role.ADMIN})  # the bank file needs it
FINAL = (RunStatus.APPROVED, RunStatus.EXPORTED)


@dataclass(frozen=True)
class RunState:
    status: RunStatus
    started_by: str
    unresolved_critical: int  # items with an undecided CRITICAL alert and no override
    changed_to_pay: Sequence[str] = ()  # enrolments to pay that changed since the check


@dataclass(frozen=True)
class OtherRun:
    """A run of the same month whose area overlaps (one area a prefix of the other)."""

    id: str
    area: str
    status: RunStatus


_OVERLAP_ADVICE = {
    RunStatus.RUNNING: "wait until it is READY, then start again to supersede it",
    RunStatus.READY: "cancel it first (POST /v1/payout-runs/{id}/cancellation)",
    RunStatus.APPROVED: "that area's month is final",
    RunStatus.EXPORTED: "that area's month is final",
}


def check_start(month: str, area: str, others: Iterable[OtherRun]) -> None:
    """An enrolment is paid at most once a month: a run overlapping another of the month that
    still counts is refused, naming it; only a READY run of the very same area is superseded."""
    for other in others:
        if other.area == area and other.status is RunStatus.READY:
            continue
        advice = _OVERLAP_ADVICE[other.status].format(id=other.id)
        raise Refused(
            f"area: {area} overlaps payout run {other.id} of {month} over {other.area}, which is "
            f"{other.status.value}; an enrolment is paid at most once a month: {advice}",
        )


# Reasons an override may not turn into a payment: they need another person's step first.
NOT_PAYABLE_BY_OVERRIDE = frozenset({"ACCOUNT_CHANGE_UNCONFIRMED"})


def check_override(
    run: RunState, principal: Principal, decision: Decision, reasons: Iterable[Mapping]
) -> None:
    """An approver other than the starter, on a READY run; no unconfirmed account paid."""
    if principal.role not in APPROVE_ROLES:
        raise Refused(f"role {principal.role.value} may not override a decision", Refusal.FORBIDDEN)
    if run.status is not RunStatus.READY:
        raise Refused(f"the run is {run.status.value}; only a READY run can be changed")
    if principal.subject == run.started_by:
        raise Refused("who started the run may not override its decisions", Refusal.FORBIDDEN)
    blocking = sorted({str(r.get("code")) for r in reasons} & NOT_PAYABLE_BY_OVERRIDE)
    if decision is Decision.PAY and blocking:
        raise Refused(
            f"decision: {', '.join(blocking)} cannot be overridden to PAY; a supervisor other "
            "than who changed it confirms the new payout account (POST /v1/enrolments/<id>/"
            "account-confirmation), then the month is started again",
        )


def check_cancel(run: RunState, principal: Principal) -> None:
    """A READY run is set aside by someone who may start runs (it was never paid)."""
    if principal.role not in START_ROLES:
        raise Refused(f"role {principal.role.value} may not cancel a payout run", Refusal.FORBIDDEN)
    if run.status is not RunStatus.READY:
        raise Refused(f"the run is {run.status.value}; only a READY run can be cancelled")


def check_approval(run: RunState, principal: Principal) -> None:
    """A supervisor or payment officer other than the starter; no critical item left unanswered."""
    if principal.role not in APPROVE_ROLES:
        raise Refused(
            f"role {principal.role.value} may not approve a payout run", Refusal.FORBIDDEN
        )
    if run.status is not RunStatus.READY:
        raise Refused(f"the run is {run.status.value}; only a READY run can be approved")
    if principal.subject == run.started_by:
        raise Refused(
            "the run must be approved by someone other than who started it", Refusal.FORBIDDEN
        )
    if run.unresolved_critical:
        raise Refused(
            f"{run.unresolved_critical} enrolment(s) have an undecided CRITICAL alert: decide "
            "the alert or override each enrolment's decision first",
        )
    if run.changed_to_pay:
        shown = ", ".join(run.changed_to_pay[:20]) + (" …" if len(run.changed_to_pay) > 20 else "")
        raise Refused(
            f"{len(run.changed_to_pay)} enrolment(s) to pay changed since the check ({shown}): "
            "start the month again to check them as they are now",
        )


def check_export(status: RunStatus) -> None:
    if status not in FINAL:
        raise Refused(f"the run is {status.value}; the payout file needs an approved run")


_REASONS = {
    "DEATH_RECORDED": (
        "受益人死亡已登记（{died_on}）",
        "The beneficiary's death is recorded ({died_on})",
    ),
    "REGISTRATION_CANCELLED": ("受益人户籍已注销（{status}）", "Registration cancelled ({status})"),
    "MOVED_OUT": (
        "受益人户籍已迁出本区（{area_code}）",
        "Registration moved out of the district ({area_code})",
    ),
    "MEMBER_DEATH_RECORDED": (
        "家庭成员死亡已登记（{died_on}），待重新核定",
        "A household member's death is recorded ({died_on}); reassessment due",
    ),
    "ALERT_OPEN": (
        "预警待处理：{rule_id}（{severity}）",
        "Alert not yet decided: {rule_id} ({severity})",
    ),
    "ALERT_CONFIRMED": (
        "预警已确认停发：{rule_id}（{action_taken}）",
        "Alert confirmed: {rule_id} ({action_taken})",
    ),
    "REASSESSMENT_PENDING": (
        "重新核定中：{rule_id}",
        "Reassessment opened and not concluded: {rule_id}",
    ),
    "ACCOUNT_CHANGE_UNCONFIRMED": (
        "发放账户变更待复核（{changed_by} 修改）",
        "New payout account awaiting a second person's confirmation (changed by {changed_by})",
    ),
}


def reason_text(reason: Mapping[str, object], lang: str = "zh") -> str:
    """One reason as a person reads it; an unknown code is shown as it is."""
    templates = _REASONS.get(str(reason.get("code")))
    if templates is None:
        return str(reason.get("code"))
    values = {k: "" if v is None else v for k, v in reason.items()}
    return templates[0 if lang == "zh" else 1].format_map(_Blank(values))


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""
