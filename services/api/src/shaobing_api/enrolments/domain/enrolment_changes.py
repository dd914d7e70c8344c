"""What an enrolment write changed, as the audit trail keeps it, and who may confirm a new payout
account. Pure: the store reads the enrolment before and after, asks here, writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shaobing_runtime.access import Principal, Role

from ...common.domain.refusals import Refusal, Refused

# The fields of an enrolment a write can change, in the order the audit entry lists them.
AUDITED = (
    "program",
    "beneficiary_id",
    "household_members",
    "monthly_amount",
    "area_code",
    "status",
    "start_month",
    "payout_account",
)
CONFIRM_ACCOUNT_ROLES = frozenset({Role.SUPERVISOR})


def audit_details(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that changed (all of them for a new enrolment), before and after, the account
    masked to its last four characters."""
    changed = [f for f in AUDITED if before is None or before[f] != after[f]]
    return {
        "version": after["version"],
        "changed": changed,
        "before": None if before is None else _shown(before, changed),
        "after": _shown(after, changed),
    }


def _shown(row: Mapping[str, Any], fields: list[str]) -> dict[str, Any]:
    shown = {f: row[f] for f in fields}
    if "payout_account" in shown:
        shown["payout_account"] = mask_account(shown["payout_account"])
    if isinstance(shown.get("monthly_amount"), Decimal):
        shown["monthly_amount"] = f"{shown['monthly_amount']:.2f}"
    return shown


@dataclass(frozen=True)
class AccountChange:
    version: int  # the enrolment's version now
    changed_by: str | None  # who changed its payout account; None when nothing awaits


def check_account_confirmation(change: AccountChange, version: int, principal: Principal) -> None:
    """A supervisor other than who changed the account confirms it, on the version they saw."""
    if principal.role not in CONFIRM_ACCOUNT_ROLES:
        raise Refused(
            f"role {principal.role.value} may not confirm a payout account", Refusal.FORBIDDEN
        )
    if change.changed_by is None:
        raise Refused("no change of the payout account awaits confirmation")
    if version != change.version:
        raise Refused(f"version: the enrolment is at {change.version}, not {version}")
    if principal.subject == change.changed_by:
        raise Refused("who changed the payout account may not confirm it", Refusal.FORBIDDEN)


def mask_account(account: str) -> str:
    """6222 **** **** 3445: the last four characters stay visible."""
    digits = account.replace(" ", "")
    return f"{'*' * max(len(digits) - 4, 0)}{digits[-4:]}"
