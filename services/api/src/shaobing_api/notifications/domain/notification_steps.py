"""A notification's lifecycle: which step a person who contacts people may take, from which
status. Pure: the api loads the notification, asks here, and writes the status that comes back.
"""

from __future__ import annotations

from enum import StrEnum

from shaobing_contracts.notification import NotificationStatus
from shaobing_runtime.access import Principal

from ...common.domain.refusals import Refusal, Refused
from ...common.domain.roles import WORKERS, require_supervisor


class NotificationStep(StrEnum):
    CONTACT = "contact"
    APPLIED = "applied"
    DECLINED = "declined"
    NOT_ELIGIBLE = "not_eligible"
    REOPEN = "reopen"


_N = NotificationStatus
_NOTIFICATION_STEPS = {
    NotificationStep.CONTACT: ({_N.NEW}, _N.CONTACTED),
    NotificationStep.APPLIED: ({_N.CONTACTED}, _N.APPLIED),
    NotificationStep.DECLINED: ({_N.CONTACTED}, _N.DECLINED),
    NotificationStep.NOT_ELIGIBLE: ({_N.NEW, _N.CONTACTED}, _N.NOT_ELIGIBLE),
    NotificationStep.REOPEN: ({_N.APPLIED, _N.DECLINED, _N.NOT_ELIGIBLE, _N.WITHDRAWN}, _N.NEW),
}


def next_notification_status(
    status: NotificationStatus, step: NotificationStep, actor: Principal
) -> NotificationStatus:
    """NEW → CONTACTED → APPLIED / DECLINED, or NOT_ELIGIBLE; a supervisor reopens (a
    withdrawn one too)."""
    if actor.role not in WORKERS:
        raise Refused(f"role {actor.role.value} does not contact people", Refusal.FORBIDDEN)
    if step is NotificationStep.REOPEN:
        require_supervisor(actor, "reopen")
    allowed, to = _NOTIFICATION_STEPS[step]
    if status not in allowed:
        raise Refused(f"the notification is {status}: {step} needs {', '.join(sorted(allowed))}")
    return to
