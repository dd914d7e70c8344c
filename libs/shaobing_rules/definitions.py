"""What a rule file may say, validated field by field (pydantic) before anything is compiled."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shaobing_contracts.alert import Action, Severity
from shaobing_contracts.enrolment import Program
from shaobing_contracts.notification import Stage


class FactKind(StrEnum):
    """What a rule looks at: each fact of this kind is checked against each enrolment."""

    DEATH = "death"  # a registered death (all certificates of one person are one fact)
    MARRIAGE = "marriage"  # a marriage-registry entry of the person
    REGISTRATION = "registration"  # the person's household registration as it stands
    SOCIAL = "social"  # pension and employment as social security reports them
    ENROLMENT = "enrolment"  # another enrolment the person belongs to (duplicates)
    SPOUSE_DEATH = "spouse_death"  # the death of the person's spouse, as the matcher told it


class MemberFilter(StrEnum):
    BENEFICIARY = "beneficiary"
    MEMBER = "member"  # household members other than the beneficiary
    ANY = "any"


class Texts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    zh_cn: str = Field(min_length=1)
    en: str = Field(min_length=1)


class RuleDefinition(BaseModel):
    """One version of one verification rule (电子哨兵)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9-]{2,63}$")
    version: int = Field(ge=1)
    effective_from: date
    fact: FactKind
    members: MemberFilter = MemberFilter.ANY
    programs: tuple[Program, ...] | None = None  # None: every program
    when: str = Field(default="true", min_length=1)  # a CEL expression giving a bool
    severity: Severity
    action: Action
    recover_overpayment: bool = False  # months paid after the fact happened are to be recovered
    title: Texts
    explanation: Texts  # jinja2 templates over the same variables as `when`


class PolicyScope(StrEnum):
    PERSON = "person"  # once per person (per fact of `fact`, when given)
    ENROLMENT = "enrolment"  # per enrolment the person belongs to (per fact, when given)


class Recipient(StrEnum):
    PERSON = "person"
    SPOUSE = "spouse"  # the person's spouse by the latest marriage registration


class PolicyDefinition(BaseModel):
    """One version of one policy (政策找人): who to contact about which benefit, and when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9-]{2,63}$")
    version: int = Field(ge=1)
    effective_from: date
    scope: PolicyScope = PolicyScope.PERSON
    fact: FactKind | None = None
    members: MemberFilter = MemberFilter.ANY  # scope enrolment only
    programs: tuple[Program, ...] | None = None  # scope enrolment only
    notify: Recipient = Recipient.PERSON
    when: str = Field(min_length=1)  # CEL giving a bool
    period: str = Field(min_length=1)  # CEL giving a string: one notification per period
    benefit: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,39}$")
    stage: Stage = Stage.ELIGIBLE
    title: Texts
    explanation: Texts


_AREA_PREFIX = re.compile(r"^(default|[0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$")


class RuleFile(BaseModel):
    """One YAML file: thresholds by area, constants, rules and policies."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    thresholds: dict[str, dict[str, Decimal]] = {}
    constants: dict[str, Any] = {}
    rules: list[RuleDefinition] = []
    policies: list[PolicyDefinition] = []

    @field_validator("thresholds")
    @classmethod
    def _area_prefixes(cls, value: dict[str, dict[str, Decimal]]) -> dict:
        for name, by_area in value.items():
            wrong = [a for a in by_area if not _AREA_PREFIX.match(a)]
            if wrong:
                raise ValueError(
                    f"{name}: {wrong[0]!r} is neither 'default' nor an area-code prefix "
                    "(2, 4, 6, 9 or 12 digits)"
                )
            if "default" not in by_area:
                raise ValueError(f"{name}: needs a 'default' value")
        return value
