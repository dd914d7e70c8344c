"""The variables a rule sees, defined once with an example of each.

The matcher builds exactly these (a test holds it to that); loading a rule evaluates its condition
and renders its templates against the examples, so a misspelt field fails at load, not at 3 a.m.
Dates are ISO text (they compare as text), instants UTC ISO text, amounts floats (CEL has no
decimal; amounts are only compared with thresholds).
"""

from __future__ import annotations

from typing import Any

from .definitions import FactKind

VARIABLE_NAMES = ("person", "enrolment", "fact", "threshold", "constants", "today")

PERSON_EXAMPLE: dict[str, Any] = {
    "masked_id": "310110********0021",
    "birth_date": "1945-12-10",
    "age": 80,
    "age_at_next_birthday": 81,
    "days_to_birthday": 15,  # 0 on the birthday itself
    "gender": "FEMALE",
    "alive": True,
    "registration_status": "ACTIVE",  # UNKNOWN until the household registry has spoken
    "area_code": "310110001001",
    "marital_status": "MARRIED",  # MARRIED, DIVORCED or UNKNOWN
    "spouse_masked_id": "310110********0032",  # "" unless MARRIED
    "spouse_age": 83,  # -1 unless MARRIED
    "spouse_alive": True,  # false unless MARRIED, or once the spouse's death is known
    "programs": ["DIBAO"],  # of the ACTIVE enrolments the person belongs to, in any role
}

ENROLMENT_EXAMPLE: dict[str, Any] = {
    "enrolment_id": "DB-2026-000001",
    "program": "DIBAO",
    "program_zh": "最低生活保障",
    "role": "BENEFICIARY",
    "area_code": "310110001001",
    "status": "ACTIVE",
    "monthly_amount": 1510.0,
    "start_month": "2024-03",
    "first_recorded_at": "2024-02-20T08:00:00.000000Z",
}

FACT_EXAMPLES: dict[FactKind, dict[str, Any]] = {
    FactKind.DEATH: {
        "certificate_no": "SH-2026-000123",
        "date_of_death": "2026-10-03",
        "death_source": "MEDICAL",
        "occurred_on": "2026-10-03",
        "recorded_at": "2026-10-05T02:00:00.000000Z",  # by the source
        "known_at": "2026-10-05T02:00:01.000000Z",  # ingested by Shaobing
    },
    FactKind.MARRIAGE: {
        "registration_no": "M-2026-000042",
        "kind": "MARRIAGE",
        "spouse_masked_id": "310110********0032",
        "registered_on": "2026-09-01",
        "occurred_on": "2026-09-01",
        "recorded_at": "2026-09-01T03:00:00.000000Z",
        "known_at": "2026-09-01T03:00:00.000000Z",
    },
    FactKind.REGISTRATION: {
        "status": "ACTIVE",  # ACTIVE, MOVED_OUT, DECEASED, CANCELLED
        "area_code": "310110002001",
        "same_district": True,  # the first 6 digits match the enrolment's area
        "same_community": False,  # all 12 match
        "household_no": "H-310110-0001",
        "occurred_on": "2026-09-10",
        "recorded_at": "2026-09-10T01:00:00.000000Z",
        "known_at": "2026-09-10T01:00:00.000000Z",
    },
    FactKind.SOCIAL: {
        "pension_status": "RECEIVING",  # NONE, RECEIVING, SUSPENDED, TERMINATED
        "pension_monthly_amount": 2100.0,
        "employment_status": "UNEMPLOYED",  # UNEMPLOYED, EMPLOYED, SELF_EMPLOYED
        "contribution_base": 0.0,
        "unemployment_benefit": 0.0,
        "occurred_on": "2026-08-01",
        "recorded_at": "2026-08-02T01:00:00.000000Z",
        "known_at": "2026-08-02T01:00:00.000000Z",
    },
    FactKind.ENROLMENT: {
        "enrolment_id": "TK-2026-000007",
        "program": "TEKUN",
        "program_zh": "特困人员救助供养",
        "role": "BENEFICIARY",
        "area_code": "310110001001",
        "status": "ACTIVE",
        "same_district": True,
        "first_recorded_at": "2026-06-01T08:00:00.000000Z",
        "occurred_on": "2026-06-01",
        "recorded_at": "2026-06-01T08:00:00.000000Z",
        "known_at": "2026-06-01T08:00:00.000000Z",
    },
    FactKind.SPOUSE_DEATH: {  # of the spouse by the latest marriage registration, while MARRIED
        "spouse_masked_id": "310110********0032",
        "date_of_death": "2026-11-20",
        "certificate_no": "SH-2026-000456",
        "occurred_on": "2026-11-20",
        "recorded_at": "2026-11-21T02:00:00.000000Z",  # the death's, by the source
        "known_at": "2026-11-21T02:00:01.000000Z",
    },
}


def example_variables(
    kind: FactKind | None,
    thresholds: dict[str, float],
    constants: dict[str, Any],
    *,
    per_enrolment: bool = True,
) -> dict[str, Any]:
    """What a rule or policy sees, filled with the examples; `fact` and `enrolment` only where
    it looks at a kind of fact and at each enrolment."""
    variables: dict[str, Any] = {
        "person": PERSON_EXAMPLE,
        "threshold": thresholds,
        "constants": constants,
        "today": "2026-11-25",
    }
    if per_enrolment:
        variables["enrolment"] = ENROLMENT_EXAMPLE
    if kind is not None:
        variables["fact"] = FACT_EXAMPLES[kind]
    return variables
