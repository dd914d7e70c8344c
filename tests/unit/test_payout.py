"""The payout run's rules outside SQL: who may override and approve, accounts, reasons in words."""

from __future__ import annotations

import pytest

from shaobing_api.domain.payout import (
    RunRefused,
    RunState,
    RunStatus,
    check_approval,
    check_export,
    check_override,
    mask_account,
    reason_text,
)
from shaobing_api.domain.payout_files import exception_row, payable_row
from shaobing_runtime.access import Principal, Role

READY = RunState(RunStatus.READY, started_by="qian", unresolved_critical=0)
SUN = Principal("sun", Role.SUPERVISOR, ("310110",))


@pytest.mark.parametrize(
    ("run", "who", "status"),
    [
        (READY, Principal("qian", Role.PAYMENT_OFFICER, ("310110",)), 403),  # who started it
        (READY, Principal("zhou", Role.CASEWORKER, ("310110",)), 403),
        (READY, Principal("root", Role.ADMIN, ("31",)), 403),
        (RunState(RunStatus.RUNNING, "qian", 0), SUN, 409),
        (RunState(RunStatus.APPROVED, "qian", 0), SUN, 409),
        (RunState(RunStatus.READY, "qian", 2), SUN, 409),  # critical holds unanswered
    ],
    ids=["self-approval", "caseworker", "admin", "running", "approved", "critical"],
)
def test_an_approval_is_refused_with_the_status_that_says_why(run, who, status) -> None:
    with pytest.raises(RunRefused) as refused:
        check_approval(run, who)
    assert refused.value.status == status


def test_another_supervisor_or_officer_approves_a_ready_run_without_open_critical_items() -> None:
    check_approval(READY, SUN)
    check_approval(READY, Principal("wu", Role.PAYMENT_OFFICER, ("310110",)))


def test_overrides_only_on_a_ready_run_and_the_file_only_once_approved() -> None:
    check_override(READY, SUN)
    with pytest.raises(RunRefused):
        check_override(RunState(RunStatus.APPROVED, "qian", 0), SUN)
    with pytest.raises(RunRefused):
        check_override(READY, Principal("a", Role.AUDITOR, ("31",)))
    check_export(RunStatus.APPROVED)
    check_export(RunStatus.EXPORTED)
    with pytest.raises(RunRefused):
        check_export(RunStatus.READY)


def test_an_account_keeps_its_last_four_characters() -> None:
    assert mask_account("6222 0202 0011 2233 445") == "***************3445"
    assert mask_account("123") == "123"


def test_reasons_read_in_chinese_and_english_and_an_unknown_code_as_it_is() -> None:
    reason = {"code": "ALERT_OPEN", "rule_id": "marriage-change", "severity": "MEDIUM"}
    assert reason_text(reason, "zh") == "预警待处理：marriage-change（MEDIUM）"
    assert reason_text(reason, "en") == "Alert not yet decided: marriage-change (MEDIUM)"
    assert reason_text({"code": "DEATH_RECORDED"}, "en") == "The beneficiary's death is recorded ()"
    assert reason_text({"code": "NEW_KIND"}) == "NEW_KIND"


ROW = {
    "enrolment_id": "E-1",
    "beneficiary_id": "310110194105170011",
    "payout_account": "6222020200112233445",
    "reasons": [{"code": "DEATH_RECORDED", "died_on": "2026-09-05"}],
    "override": {"decision": "STOP", "reason": "已核实", "by": "sun"},
}


def test_the_files_show_ids_and_accounts_as_the_role_may_see_them() -> None:
    officer = Principal("qian", Role.PAYMENT_OFFICER, ("310110",))
    auditor = Principal("wu", Role.AUDITOR, ("310110",))
    worker = Principal("zhou", Role.CASEWORKER, ("310110",))

    assert payable_row(ROW, officer)["payout_account"] == ROW["payout_account"]
    assert payable_row(ROW, auditor)["payout_account"].endswith("*3445")
    assert payable_row(ROW, worker)["beneficiary_id"] == "310110********0011"
    held = exception_row(ROW, auditor)
    assert held["reasons"] == (
        "受益人死亡已登记（2026-09-05） / The beneficiary's death is recorded (2026-09-05)"
    )
    assert held["override"] == "STOP: 已核实 (sun)"
