"""Policy finds the person (政策找人): someone has become, or is about to become, eligible."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from .alert import Evidence, Explanation
from .types import AreaCode, IdNumber


class Stage(StrEnum):
    UPCOMING = "UPCOMING"  # eligible soon (e.g. turning 80 within 30 days)
    ELIGIBLE = "ELIGIBLE"


class NotificationStatus(StrEnum):
    NEW = "NEW"
    CONTACTED = "CONTACTED"
    APPLIED = "APPLIED"
    DECLINED = "DECLINED"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"


class NotificationRaised(BaseModel):
    """Published on notifications.v1, keyed by the person to contact.

    The id is deterministic in (policy, person, period): the same person is never notified twice
    for the same policy and period, however often the matcher re-evaluates.
    """

    model_config = ConfigDict(frozen=True)

    event_type: Literal["notification_raised"] = "notification_raised"
    id: UUID
    policy_id: str
    policy_version: int
    benefit: str  # what to offer: a programme (GAOLING, SANGZANG) or a service (CARE_VISIT)
    stage: Stage
    period: str  # what makes this occasion distinct: an age tier, a death, a month
    id_number: IdNumber  # the person to contact
    area_code: AreaCode  # where they are registered or paid: who contacts them
    evidence: list[Evidence]
    explanation: Explanation
    raised_at: datetime
