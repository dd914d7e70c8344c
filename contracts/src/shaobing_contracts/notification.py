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
    WITHDRAWN = "WITHDRAWN"  # its conditions stopped holding before anyone contacted the person


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


class NotificationWithdrawn(BaseModel):
    """Published on notifications.v1 when a change of the facts ends what a notification was
    raised for (the person enrolled, died, moved away; a death was retracted).

    Keyed like the notification it withdraws (the person to contact), so it follows it in order;
    sent once, and again only by a resend sweep: consumers treat it as idempotent. A notification
    due again later is raised again with the same id.
    """

    model_config = ConfigDict(frozen=True)

    event_type: Literal["notification_withdrawn"] = "notification_withdrawn"
    id: UUID  # the notification's id
    policy_id: str
    id_number: IdNumber  # the person it was to contact
    reason: Explanation
    withdrawn_at: datetime
