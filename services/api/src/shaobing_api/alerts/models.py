"""What the alert routes and pages show and take: public shapes, distinct from contracts and
tables."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import BaseModel, Field, field_serializer

from shaobing_runtime.access import Principal

from ..common.domain.id_numbers import id_number_as_seen
from .domain.workflow import ActionTaken, DismissReason, Step, StepRequest


class AlertPublic(BaseModel):
    id: UUID
    rule_id: str
    rule_version: int
    enrolment_id: str
    program: str
    id_number: str
    severity: str
    action: str
    status: str
    area_code: str
    due_date: date
    overpaid_months: int
    overpaid_amount: Decimal
    evidence: list[dict[str, Any]]
    explanation: dict[str, str]
    raised_at: datetime
    stored_at: datetime
    withdrawn_at: datetime | None = None  # its facts were retracted (status WITHDRAWN if undecided)
    withdrawal: dict[str, str] | None = None  # why, zh_cn and en
    claimed_by: str | None = None
    assignee: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision: dict[str, Any] | None = None  # what was done (confirmed) or why not (dismissed)
    escalated_at: datetime | None = None  # past its due date undecided: sent to the supervisors
    version: int = 1  # send it back with a step: a stale version is refused (409)

    @field_serializer("overpaid_amount")
    def _money(self, value: Decimal) -> str:
        return f"{value:.2f}"


class AlertPage(BaseModel):
    items: list[AlertPublic]
    next_cursor: str | None


def alert_public(row: asyncpg.Record, viewer: Principal) -> AlertPublic:
    """The row as the viewer may see it: ID numbers masked unless the role needs them."""
    values = dict(row)
    values["id_number"] = id_number_as_seen(values["id_number"], viewer)
    return AlertPublic.model_validate(values)


class QueueItem(AlertPublic):
    days_left: int  # until the due date (the payout cut-off); negative when overdue
    overdue: bool


# The queue as a file: a QueueItem's fields, headed in Chinese and English.
ALERT_COLUMNS = (
    ("id", "预警编号", "Alert"),
    ("severity", "严重程度", "Severity"),
    ("status", "状态", "Status"),
    ("rule_id", "规则", "Rule"),
    ("action", "建议措施", "Action"),
    ("enrolment_id", "待遇编号", "Enrolment"),
    ("program", "项目", "Programme"),
    ("id_number", "身份证号", "ID number"),
    ("area_code", "区划", "Area"),
    ("due_date", "截止日期", "Due"),
    ("days_left", "剩余天数", "Days left"),
    ("overpaid_amount", "待追回金额", "To recover"),
    ("claimed_by", "认领人", "Claimed by"),
    ("assignee", "分派给", "Assigned to"),
    ("explanation", "说明", "Explanation"),
)


class QueueCount(BaseModel):
    status: str
    severity: str
    alerts: int
    overdue: int
    escalated: int


class QueuePage(BaseModel):
    today: date
    items: list[QueueItem]
    counts: list[QueueCount]
    next_cursor: str | None


def queue_item(row, principal: Principal, today: date) -> QueueItem:
    days_left = (row["due_date"] - today).days
    alert = alert_public(row, principal)
    return QueueItem(**alert.model_dump(), days_left=days_left, overdue=days_left < 0)


class StepFields(BaseModel):
    step: Step
    action_taken: ActionTaken | None = None  # confirm
    overpayment_to_recover: Decimal | None = Field(None, ge=0, lt=10**10, decimal_places=2)
    reason: DismissReason | None = None  # dismiss
    text: str = Field("", max_length=2000)  # comment; why (dismiss OTHER, reopen)
    assignee: str | None = Field(None, min_length=1, max_length=64)  # assign

    def request(self) -> StepRequest:
        return StepRequest(**self.model_dump(include=set(StepFields.model_fields)))


class StepBody(StepFields):
    version: int = Field(ge=1)


class Target(BaseModel):
    id: UUID
    version: int = Field(ge=1)


class BulkBody(StepFields):
    items: list[Target] = Field(min_length=1, max_length=500)


class BulkItem(BaseModel):
    id: UUID
    status: int  # 200, 403, 404, 409 or 422, as the single step would answer
    detail: str | None = None
    alert: AlertPublic | None = None


class BulkResult(BaseModel):
    done: int
    refused: int
    items: list[BulkItem]
