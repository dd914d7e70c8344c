"""Alerts of the electronic sentinel (电子哨兵): what fired, on which facts, what to do."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from .enrolment import Program
from .provenance import Provenance
from .types import AreaCode, IdNumber, Money


class Severity(StrEnum):
    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


class Action(StrEnum):
    STOP = "STOP"
    REASSESS = "REASSESS"
    TRANSFER = "TRANSFER"
    DUPLICATE = "DUPLICATE"
    BLOCK = "BLOCK"
    REASSIGN = "REASSIGN"  # moved within the jurisdiction: the case moves to another community


class AlertStatus(StrEnum):
    OPEN = "OPEN"
    CLAIMED = "CLAIMED"
    CONFIRMED = "CONFIRMED"
    DISMISSED = "DISMISSED"
    WITHDRAWN = "WITHDRAWN"  # the facts behind it were retracted before anyone decided


class Explanation(BaseModel):
    model_config = ConfigDict(frozen=True)

    zh_cn: str
    en: str


class Evidence(BaseModel):
    """One source event behind an alert, with where it came from."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID
    event_type: str
    recorded_at: datetime
    provenance: Provenance
    facts: dict[str, Any]


class AlertRaised(BaseModel):
    """Published on alerts.v1; the id is deterministic in (rule, enrolment, fact)."""

    model_config = ConfigDict(frozen=True)

    event_type: Literal["alert_raised"] = "alert_raised"
    id: UUID
    rule_id: str
    rule_version: int
    fact_key: str
    enrolment_id: str
    program: Program
    id_number: IdNumber
    area_code: AreaCode
    severity: Severity
    action: Action
    due_date: date
    overpaid_months: int
    overpaid_amount: Money
    evidence: list[Evidence]
    explanation: Explanation
    raised_at: datetime


class AlertWithdrawn(BaseModel):
    """Published on alerts.v1 when the facts behind an alert no longer hold (a retraction).

    Keyed like the alert it withdraws; re-sent whenever the person's state is re-evaluated, so
    consumers treat it as idempotent.
    """

    model_config = ConfigDict(frozen=True)

    event_type: Literal["alert_withdrawn"] = "alert_withdrawn"
    id: UUID  # the alert's id
    rule_id: str
    enrolment_id: str
    fact_key: str
    id_number: IdNumber
    reason: Explanation
    withdrawn_at: datetime
