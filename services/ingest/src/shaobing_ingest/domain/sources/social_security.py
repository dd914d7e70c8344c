"""Social security (社保, social_security.person_status) row changes → pension, employment and
unemployment-benefit events.

Upstream keeps REPLICA IDENTITY DEFAULT: an update's `before` is null, so the caller passes
`previous_row`, the last row it ingested for the ID number, and the events come from comparing
the two. Without a previous row (create, snapshot read, or an update of a row never ingested)
the row is compared with the default state (pension NONE, UNEMPLOYED, no benefit), so whatever
it shows beyond that is reported: RECEIVING → PensionStarted, EMPLOYED or SELF_EMPLOYED →
EmploymentStarted, a benefit above 0 → UnemploymentBenefitStarted.

- pension_status → RECEIVING: PensionStarted; the amount changed while RECEIVING:
  PensionAmountChanged; RECEIVING → SUSPENDED, TERMINATED or NONE: PensionEnded;
- UNEMPLOYED → employed: EmploymentStarted; employed → UNEMPLOYED: EmploymentEnded; another
  employment status or employer: EmploymentEnded then EmploymentStarted;
- unemployment_benefit 0 → above 0: UnemploymentBenefitStarted; back to 0: ...Ended;
- anything else (contribution_base alone, a changed benefit amount, updated_at): nothing.

A delete derives nothing: the person's status is not known to have changed, the record is
gone; the intake reports it as ignored and forgets the stored row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from shaobing_contracts.provenance import Channel
from shaobing_contracts.social_security import (
    EmploymentEnded,
    EmploymentStarted,
    EmploymentStatus,
    PensionAmountChanged,
    PensionEnded,
    PensionStarted,
    PensionStatus,
    UnemploymentBenefitEnded,
    UnemploymentBenefitStarted,
)
from shaobing_contracts.validated import validated

from ..cdc.changes import ChangeRejected, RowChange
from ..cdc.event_ids import event_id
from .derivation import (
    Row,
    changed,
    id_number,
    merged,
    money,
    one_of,
    provenance_of,
    valid_id_number,
    wall_clock,
)
from .tables import SOCIAL_SECURITY_PERSON_STATUS

_RELEVANT = (
    "pension_status",
    "pension_monthly_amount",
    "employment_status",
    "employer_uscc",
    "unemployment_benefit",
)
# Unified social credit code (GB 32100-2015): 18 characters without I, O, S, V, Z.
_USCC = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")
_ZERO = Decimal("0.00")

SocialSecurityEvent = (
    PensionStarted
    | PensionAmountChanged
    | PensionEnded
    | EmploymentStarted
    | EmploymentEnded
    | UnemploymentBenefitStarted
    | UnemploymentBenefitEnded
)


@dataclass(frozen=True)
class _Status:
    pension_status: PensionStatus = PensionStatus.NONE
    pension_monthly_amount: Decimal = _ZERO
    employment_status: EmploymentStatus = EmploymentStatus.UNEMPLOYED
    employer_uscc: str | None = None
    contribution_base: Decimal = _ZERO
    unemployment_benefit: Decimal = _ZERO

    @property
    def receiving(self) -> bool:
        return self.pension_status is PensionStatus.RECEIVING

    @property
    def employed(self) -> bool:
        return self.employment_status is not EmploymentStatus.UNEMPLOYED

    @property
    def employment(self) -> tuple[EmploymentStatus, str | None]:
        return self.employment_status, self.employer_uscc


_DEFAULT = _Status()


def derive_social_security_events(
    change: RowChange,
    *,
    previous_row: Row | None,
    channel: Channel,
    ingested_at: datetime,
) -> list[SocialSecurityEvent]:
    """The events one person-status change means; raises ChangeRejected if it is invalid.

    recorded_at is the row's updated_at (Shanghai wall-clock time), occurred_on its day.
    ingested_at must be timezone-aware.
    """
    provenance = provenance_of(
        change, SOCIAL_SECURITY_PERSON_STATUS, channel=channel, ingested_at=ingested_at
    )
    if change.op == "d":
        return []
    row = merged(previous_row, change.after)
    if previous_row is not None and not changed(row, previous_row, _RELEVANT):
        return []
    person = id_number(row)
    updated_at = wall_clock(row, "updated_at", ingested_at)
    current = _status(row)
    previous = _previous(previous_row, person)

    def common(event_type: str) -> dict[str, Any]:
        return {
            "event_id": event_id(
                provenance, event_type=event_type, id_number=person, image=change.after
            ),
            "id_number": person,
            "recorded_at": updated_at,
            "occurred_on": updated_at.date(),
            "provenance": provenance,
        }

    return [
        *_pension(current, previous, common),
        *_employment(current, previous, common),
        *_benefit(current, previous, common),
    ]


Common = Callable[[str], dict[str, Any]]


def _pension(current: _Status, previous: _Status, common: Common) -> list[SocialSecurityEvent]:
    if current.receiving and not previous.receiving:
        return [
            validated(
                PensionStarted,
                **common("pension_started"),
                monthly_amount=current.pension_monthly_amount,
            )
        ]
    if previous.receiving and not current.receiving:
        return [
            validated(
                PensionEnded,
                **common("pension_ended"),
                pension_status=current.pension_status,
                last_monthly_amount=previous.pension_monthly_amount,
            )
        ]
    if current.receiving and current.pension_monthly_amount != previous.pension_monthly_amount:
        return [
            validated(
                PensionAmountChanged,
                **common("pension_amount_changed"),
                from_amount=previous.pension_monthly_amount,
                to_amount=current.pension_monthly_amount,
            )
        ]
    return []


def _employment(current: _Status, previous: _Status, common: Common) -> list[SocialSecurityEvent]:
    if current.employment == previous.employment:
        return []
    events: list[SocialSecurityEvent] = []
    if previous.employed:
        events.append(
            validated(
                EmploymentEnded,
                **common("employment_ended"),
                employment_status=previous.employment_status,
                employer_uscc=previous.employer_uscc,
            )
        )
    if current.employed:
        events.append(
            validated(
                EmploymentStarted,
                **common("employment_started"),
                employment_status=current.employment_status,
                employer_uscc=current.employer_uscc,
                contribution_base=current.contribution_base,
            )
        )
    return events


def _benefit(current: _Status, previous: _Status, common: Common) -> list[SocialSecurityEvent]:
    if current.unemployment_benefit > 0 and previous.unemployment_benefit == 0:
        return [
            validated(
                UnemploymentBenefitStarted,
                **common("unemployment_benefit_started"),
                monthly_amount=current.unemployment_benefit,
            )
        ]
    if current.unemployment_benefit == 0 and previous.unemployment_benefit > 0:
        return [
            validated(
                UnemploymentBenefitEnded,
                **common("unemployment_benefit_ended"),
                last_monthly_amount=previous.unemployment_benefit,
            )
        ]
    return []


def _status(row: Row) -> _Status:
    pension_status = one_of(row, "pension_status", PensionStatus)
    pension = money(row, "pension_monthly_amount")
    if pension_status is PensionStatus.RECEIVING and pension <= 0:
        raise ChangeRejected("pension_monthly_amount", "must be above 0 while RECEIVING")
    employment_status = one_of(row, "employment_status", EmploymentStatus)
    return _Status(
        pension_status=pension_status,
        pension_monthly_amount=pension,
        employment_status=employment_status,
        employer_uscc=_employer(row.get("employer_uscc"), employment_status),
        contribution_base=money(row, "contribution_base"),
        unemployment_benefit=money(row, "unemployment_benefit"),
    )


def _previous(previous_row: Row | None, person: str) -> _Status:
    """The stored row's status; the default state if there is none or it is not valid."""
    if previous_row is None or valid_id_number(previous_row.get("id_number")) != person:
        return _DEFAULT
    try:
        return _status(previous_row)
    except ChangeRejected:
        return _DEFAULT


def _employer(value: object, employment_status: EmploymentStatus) -> str | None:
    """Optional, but required when EMPLOYED; an 18-character unified social credit code."""
    code = value.strip().upper() if isinstance(value, str) else None
    if not code:
        if employment_status is EmploymentStatus.EMPLOYED:
            raise ChangeRejected("employer_uscc", "required when EMPLOYED")
        return None
    if not _USCC.fullmatch(code):
        raise ChangeRejected("employer_uscc", "must be an 18-character unified social credit code")
    return code
