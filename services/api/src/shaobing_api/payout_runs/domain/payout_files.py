"""The payout run's files: the payout file (who is paid what, where) and the held/stopped list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shaobing_runtime.access import Principal

from ...common.domain.id_numbers import id_number_as_seen
from ...enrolments.domain.enrolment_changes import mask_account
from .payout_run import FULL_ACCOUNT_ROLES, reason_text

PAYOUT_COLUMNS = (
    ("enrolment_id", "待遇编号", "Enrolment"),
    ("program", "项目", "Programme"),
    ("beneficiary_id", "身份证号", "ID number"),
    ("payout_account", "发放账户", "Account"),
    ("amount", "发放金额", "Amount"),
    ("area_code", "区划", "Area"),
    ("changed_since_check", "核查后变更", "Changed since the check (paid as checked)"),
)
EXCEPTION_COLUMNS = (
    ("enrolment_id", "待遇编号", "Enrolment"),
    ("program", "项目", "Programme"),
    ("beneficiary_id", "身份证号", "ID number"),
    ("area_code", "区划", "Area"),
    ("decision", "结论", "Decision"),
    ("amount", "暂停/停发金额", "Amount held or stopped"),
    ("overpaid_to_recover", "待追回金额", "To recover"),
    ("reasons", "原因", "Reasons"),
    ("override", "人工决定", "Override"),
)


def exception_row(row: Mapping[str, Any], viewer: Principal) -> dict[str, Any]:
    """A held or stopped enrolment with its reasons in words (zh-CN, then English)."""
    override = row["override"]
    return {
        **dict(row),
        "beneficiary_id": id_number_as_seen(row["beneficiary_id"], viewer),
        "reasons": "；".join(
            f"{reason_text(r, 'zh')} / {reason_text(r, 'en')}" for r in row["reasons"]
        ),
        "override": f"{override['decision']}: {override['reason']} ({override['by']})"
        if override
        else "",
    }


def payable_row(row: Mapping[str, Any], viewer: Principal) -> dict[str, Any]:
    """An enrolment to pay as checked; the account in full only for the roles that send the bank
    file; marked when the enrolment was written after the check (it is still paid as checked)."""
    account = row["payout_account"]
    shown = account if viewer.role in FULL_ACCOUNT_ROLES else mask_account(account)
    return {
        **dict(row),
        "beneficiary_id": id_number_as_seen(row["beneficiary_id"], viewer),
        "payout_account": shown,
        "changed_since_check": "是 yes" if row["changed_since_check"] else "",
    }
