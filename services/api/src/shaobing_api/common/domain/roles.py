"""Which roles may do what in the api."""

from __future__ import annotations

from shaobing_runtime.access import Principal, Role

from .refusals import Refusal, Refused

WRITE_ENROLMENT_ROLES = frozenset({Role.CASEWORKER, Role.SUPERVISOR, Role.ADMIN})
READ_ALERT_ROLES = frozenset(
    {Role.CASEWORKER, Role.SUPERVISOR, Role.PAYMENT_OFFICER, Role.AUDITOR, Role.ADMIN}
)
# The rules are policy, not personal data: everyone who works with alerts, and ops, may read them.
READ_RULE_ROLES = READ_ALERT_ROLES | {Role.OPS}
# Who works the alert queue and contacts people; who of them supervises (reopens, assigns).
WORKERS = frozenset({Role.CASEWORKER, Role.SUPERVISOR, Role.ADMIN})
SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})


def require_supervisor(actor: Principal, step: str) -> None:
    """Refused (forbidden) unless the actor supervises."""
    if actor.role not in SUPERVISORS:
        raise Refused(f"only a supervisor may {step}", Refusal.FORBIDDEN)
