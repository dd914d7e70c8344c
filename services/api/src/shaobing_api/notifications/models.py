"""What the notification routes and page show and take."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from shaobing_runtime.access import Principal

from ..common.domain.id_numbers import id_number_as_seen
from .domain.notification_steps import NotificationStep


class NotificationStepBody(BaseModel):
    step: NotificationStep
    version: int = Field(ge=1)
    text: str = Field("", max_length=2000)  # what was said, by whom, when


class NotificationPublic(BaseModel):
    id: UUID
    policy_id: str
    policy_version: int
    benefit: str
    stage: str
    period: str
    id_number: str  # masked unless the role needs the full number
    area_code: str
    status: str
    evidence: list[dict[str, Any]]
    explanation: dict[str, str]
    raised_at: datetime
    stored_at: datetime
    version: int = 1
    withdrawn_at: datetime | None = None  # when a change of the person's facts ended it
    withdrawal: dict[str, str] | None = None  # why, zh-CN and English


class NotificationPage(BaseModel):
    items: list[NotificationPublic]
    next_cursor: str | None


def notification_public(row, viewer: Principal) -> NotificationPublic:
    values = dict(row)
    values["id_number"] = id_number_as_seen(values["id_number"], viewer)
    return NotificationPublic.model_validate(values)
