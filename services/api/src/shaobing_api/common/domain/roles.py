"""Which roles may do what in the api."""

from __future__ import annotations

from shaobing_runtime.access import Role

WRITE_ENROLMENT_ROLES = frozenset({Role.CASEWORKER, Role.SUPERVISOR, Role.ADMIN})
READ_ALERT_ROLES = frozenset(
    {Role.CASEWORKER, Role.SUPERVISOR, Role.PAYMENT_OFFICER, Role.AUDITOR, Role.ADMIN}
)
# The rules are policy, not personal data: everyone who works with alerts, and ops, may read them.
READ_RULE_ROLES = READ_ALERT_ROLES | {Role.OPS}
