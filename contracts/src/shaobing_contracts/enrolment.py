"""Enrolments: who receives which program, for which household, paid where."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from .types import AreaCode, IdNumber, Money, YearMonth


class Program(StrEnum):
    DIBAO = "DIBAO"
    TEKUN = "TEKUN"
    GAOLING = "GAOLING"
    CANJI_SHENGHUO = "CANJI_SHENGHUO"
    CANJI_HULI = "CANJI_HULI"
    LINSHI = "LINSHI"
    SANGZANG = "SANGZANG"


class EnrolmentStatus(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    TERMINATED = "TERMINATED"


class EnrolmentFacts(BaseModel):
    """An enrolment as the matcher sees it: everything but the payout account."""

    model_config = ConfigDict(frozen=True)

    enrolment_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    program: Program
    beneficiary_id: IdNumber
    household_members: list[IdNumber] = Field(min_length=1, max_length=50)
    monthly_amount: Money
    area_code: AreaCode
    status: EnrolmentStatus = EnrolmentStatus.ACTIVE
    start_month: YearMonth

    @field_validator("household_members")
    @classmethod
    def _beneficiary_is_member(cls, members: list[str], info: ValidationInfo) -> list[str]:
        beneficiary = info.data.get("beneficiary_id")
        if beneficiary and beneficiary not in members:
            raise ValueError("household_members must include beneficiary_id")
        if len(set(members)) != len(members):
            raise ValueError("household_members lists a person twice")
        return members


class Enrolment(EnrolmentFacts):
    """An enrolment as submitted and stored; the payout account never leaves the api."""

    payout_account: str = Field(min_length=4, max_length=64, pattern=r"^[0-9A-Za-z -]+$")


class EnrolmentRecorded(BaseModel):
    """Published on enrolments.v1 whenever an enrolment is created or changed."""

    model_config = ConfigDict(frozen=True)

    event_type: Literal["enrolment_recorded"] = "enrolment_recorded"
    event_id: UUID
    recorded_at: datetime
    enrolment: EnrolmentFacts


class MemberRole(StrEnum):
    BENEFICIARY = "BENEFICIARY"
    MEMBER = "MEMBER"


class PersonEnrolment(BaseModel):
    """Matcher-internal: one person's part in an enrolment, keyed by that person's ID number."""

    model_config = ConfigDict(frozen=True)

    event_type: Literal["person_enrolment"] = "person_enrolment"
    id_number: IdNumber
    role: MemberRole | None  # None: the person left the household
    source_event_id: UUID
    recorded_at: datetime
    enrolment: EnrolmentFacts
