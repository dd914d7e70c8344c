"""What the payout-run endpoints answer: runs, their items with readable reasons, changes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field, field_serializer

from shaobing_contracts.types import YearMonth
from shaobing_runtime.access import Principal

from ..common.domain.id_numbers import id_number_as_seen
from ..enrolments.domain.enrolment_changes import mask_account
from .domain.payout_run import Decision, RunStatus, reason_text


class StartBody(BaseModel):
    month: YearMonth
    area: str = Field(pattern=r"^[0-9]{2,12}$", description="area-code prefix the run covers")


class OverrideBody(BaseModel):
    decision: Decision
    reason: str = Field(min_length=2, max_length=500, pattern=r"^[^\x00]*$")


class ApprovalBody(BaseModel):
    version: int = Field(ge=1, description="the run's version the approver looked at")


class CancellationBody(BaseModel):
    version: int = Field(ge=1, description="the run's version the canceller looked at")
    reason: str = Field(min_length=2, max_length=500, pattern=r"^[^\x00]*$")


class PayoutRun(BaseModel):
    id: UUID
    month: str
    area: str
    status: RunStatus
    previous_run_id: UUID | None
    started_by: str
    started_at: datetime
    finished_at: datetime | None
    heartbeat_at: datetime  # its worker's last sign of life while RUNNING
    rows_total: int
    rows_checked: int
    totals: dict[str, Any] | None  # by decision, program and street: enrolments and amount
    changes: dict[str, Any] | None  # against the previous run of the month
    failure: str | None
    approved_by: str | None
    approved_at: datetime | None
    exported_by: str | None
    exported_at: datetime | None
    cancellation: dict[str, Any] | None  # by, at, reason: set aside while READY
    changed_since_check: int  # items whose enrolment was written after the check read it
    version: int


class RunPage(BaseModel):
    items: list[PayoutRun]
    next_cursor: str | None


class Reason(BaseModel):
    code: str
    zh_cn: str
    en: str
    details: dict[str, Any]


class PayoutItem(BaseModel):
    enrolment_id: str
    program: str
    area_code: str
    beneficiary_id: str
    decision: Decision  # the effective one: an override wins
    checked: Decision  # what the check decided
    reasons: list[Reason]
    amount: Decimal
    overpaid_to_recover: Decimal
    critical: bool
    override: dict[str, Any] | None
    payout_account: str | None  # as checked (what is paid), masked to its last four
    changed_since_check: bool  # the enrolment was written after the check read it

    @field_serializer("amount", "overpaid_to_recover")
    def _money(self, value: Decimal) -> str:
        return f"{value:.2f}"


class ItemPage(BaseModel):
    items: list[PayoutItem]
    next_cursor: str | None


class Change(BaseModel):
    enrolment_id: str
    change: str  # ADDED, REMOVED or CHANGED
    decision_before: Decision | None
    decision_now: Decision | None
    amount_before: Decimal | None
    amount_now: Decimal | None


class ChangePage(BaseModel):
    items: list[Change]
    next_cursor: str | None


def reasons_of(raw: list[dict]) -> list[Reason]:
    return [
        Reason(
            code=str(r.get("code")),
            zh_cn=reason_text(r, "zh"),
            en=reason_text(r, "en"),
            details={k: v for k, v in r.items() if k != "code"},
        )
        for r in raw
    ]


def item_public(row, viewer: Principal) -> PayoutItem:
    return PayoutItem(
        **{k: row[k] for k in ("enrolment_id", "program", "area_code", "amount", "critical")},
        beneficiary_id=id_number_as_seen(row["beneficiary_id"], viewer),
        decision=row["decision"],
        checked=row["checked"],
        reasons=reasons_of(row["reasons"]),
        overpaid_to_recover=row["overpaid_to_recover"],
        override=row["override"],
        payout_account=row["payout_account"] and mask_account(row["payout_account"]),
        changed_since_check=row["changed_since_check"],
    )
