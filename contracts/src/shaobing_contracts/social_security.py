"""Canonical events of social security (社保, social_security.person_status)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from .source_event import SourceEvent
from .types import Money


class PensionStatus(StrEnum):
    NONE = "NONE"
    RECEIVING = "RECEIVING"
    SUSPENDED = "SUSPENDED"
    TERMINATED = "TERMINATED"


class EmploymentStatus(StrEnum):
    UNEMPLOYED = "UNEMPLOYED"
    EMPLOYED = "EMPLOYED"
    SELF_EMPLOYED = "SELF_EMPLOYED"


class PensionStarted(SourceEvent):
    """pension_status became RECEIVING."""

    event_type: Literal["pension_started"] = "pension_started"
    occurred_on: date
    monthly_amount: Money


class PensionAmountChanged(SourceEvent):
    """The monthly pension changed while RECEIVING."""

    event_type: Literal["pension_amount_changed"] = "pension_amount_changed"
    occurred_on: date
    from_amount: Money
    to_amount: Money


class PensionEnded(SourceEvent):
    """pension_status left RECEIVING (to SUSPENDED, TERMINATED or NONE)."""

    event_type: Literal["pension_ended"] = "pension_ended"
    occurred_on: date
    pension_status: PensionStatus
    last_monthly_amount: Money


class EmploymentStarted(SourceEvent):
    """employment_status became EMPLOYED or SELF_EMPLOYED, or the employer changed."""

    event_type: Literal["employment_started"] = "employment_started"
    occurred_on: date
    employment_status: EmploymentStatus
    employer_uscc: str | None = None
    contribution_base: Money


class EmploymentEnded(SourceEvent):
    """An employment ended; the status and employer are those of the employment that ended."""

    event_type: Literal["employment_ended"] = "employment_ended"
    occurred_on: date
    employment_status: EmploymentStatus
    employer_uscc: str | None = None


class UnemploymentBenefitStarted(SourceEvent):
    """unemployment_benefit went from 0 to a positive monthly amount."""

    event_type: Literal["unemployment_benefit_started"] = "unemployment_benefit_started"
    occurred_on: date
    monthly_amount: Money


class UnemploymentBenefitEnded(SourceEvent):
    """unemployment_benefit went back to 0."""

    event_type: Literal["unemployment_benefit_ended"] = "unemployment_benefit_ended"
    occurred_on: date
    last_monthly_amount: Money
