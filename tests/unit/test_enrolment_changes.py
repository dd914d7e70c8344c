"""An enrolment write as the audit trail keeps it, and who may confirm a new payout account."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shaobing_api.common.domain.refusals import Refusal, Refused
from shaobing_api.enrolments.domain.enrolment_changes import (
    AccountChange,
    audit_details,
    check_account_confirmation,
)
from shaobing_runtime.access import Principal, Role

BEFORE = {
    "program": "DIBAO",
    "beneficiary_id": "310110194105170011",
    "household_members": ["310110194105170011"],
    "monthly_amount": Decimal("1510.00"),
    "area_code": "310110001001",
    "status": "ACTIVE",
    "start_month": "2024-01",
    "payout_account": "6222020200112233445",
}


def test_a_new_enrolment_is_audited_whole_with_its_account_masked() -> None:
    details = audit_details(None, BEFORE | {"version": 1})

    assert details["before"] is None and details["version"] == 1
    assert details["after"]["payout_account"] == "***************3445"
    assert details["after"]["monthly_amount"] == "1510.00"
    assert details["changed"] == list(BEFORE)


def test_a_change_is_audited_as_the_fields_it_changed_before_and_after() -> None:
    after = BEFORE | {"version": 2, "payout_account": "6222029999", "status": "SUSPENDED"}

    details = audit_details(BEFORE, after)

    assert details["changed"] == ["status", "payout_account"]
    assert details["before"] == {"status": "ACTIVE", "payout_account": "***************3445"}
    assert details["after"] == {"status": "SUSPENDED", "payout_account": "******9999"}


LI = Principal("li", Role.SUPERVISOR, ("310110",))
QIAN = Principal("qian", Role.PAYMENT_OFFICER, ("310110",))


@pytest.mark.parametrize(
    ("change", "version", "who", "kind"),
    [
        (
            AccountChange(3, "zhou"),
            3,
            Principal("qian", Role.PAYMENT_OFFICER, ("310110",)),
            Refusal.FORBIDDEN,
        ),
        (AccountChange(3, None), 3, LI, Refusal.CONFLICT),  # nothing awaits
        (AccountChange(4, "zhou"), 3, LI, Refusal.CONFLICT),  # changed again since seen
        (AccountChange(3, "li"), 3, LI, Refusal.FORBIDDEN),  # who changed it
    ],
    ids=["officer", "nothing-pending", "stale-version", "own-change"],
)
def test_a_confirmation_is_refused_with_the_kind_that_says_why(change, version, who, kind):
    with pytest.raises(Refused) as refused:
        check_account_confirmation(change, version, who)
    assert refused.value.kind is kind


def test_another_supervisor_confirms_the_account_change_they_saw() -> None:
    check_account_confirmation(AccountChange(3, "zhou"), 3, LI)
