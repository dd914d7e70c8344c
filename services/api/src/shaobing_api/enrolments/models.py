"""What the enrolment routes return and take (the enrolment itself is the contract's)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class EnrolmentResult(BaseModel):
    index: int
    enrolment_id: str | None
    status: str  # created, updated, unchanged, rejected
    version: int | None = None
    errors: list[dict[str, str]] = []


class EnrolmentBatchResult(BaseModel):
    created: int
    updated: int
    unchanged: int
    rejected: int
    items: list[EnrolmentResult]


class AccountConfirmation(BaseModel):
    version: int = Field(ge=1, description="the enrolment's version whose new account is confirmed")


class AccountConfirmed(BaseModel):
    enrolment_id: str
    version: int
    payout_account: str  # masked to its last four characters
    confirmed_by: str
    confirmed_at: datetime
