"""What the api returns: public shapes, distinct from contracts and tables."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import BaseModel, field_serializer

from shaobing_contracts.id_number import mask_id_number
from shaobing_runtime.access import Principal


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
    if not viewer.sees_full_ids:
        values["id_number"] = mask_id_number(values["id_number"])
    return AlertPublic.model_validate(values)
