"""The payout run's rules outside SQL: who may override and approve, accounts, reasons in words."""

from __future__ import annotations

import pytest

from shaobing_api.common.domain.refusals import Refusal, Refused
from shaobing_api.enrolments.domain.enrolment_changes import mask_account
from shaobing_api.payout_runs.domain.payout_files import exception_row, payable_row
from shaobing_api.payout_runs.domain.payout_run import (
    Decision,
    OtherRun,
    RunState,
    RunStatus,
    check_approval,
    check_cancel,
    check_export,
    check_override,
    check_start,
    reason_text,
)
from shaobing_runtime.access import Principal, Role

READY = RunState(RunStatus.READY, started_by="qian", unresolved_critical=0)
SUN = Principal("sun", Role.SUPERVISOR, ("310110",))
QIAN = Principal("qian", Role.PAYMENT_OFFICER, ("310110",))  # starts the READY run


@pytest.mark.parametrize(
    ("run", "who", "kind"),
    [
        (
            READY,
            Principal("qian", Role.PAYMENT_OFFICER, ("310110",)),
            Refusal.FORBIDDEN,
        ),  # who started it
        (READY, Principal("zhou", Role.CASEWORKER, ("310110",)), Refusal.FORBIDDEN),
        (READY, Principal("root", Role.ADMIN, ("31",)), Refusal.FORBIDDEN),
        (RunState(RunStatus.RUNNING, "qian", 0), SUN, Refusal.CONFLICT),
        (RunState(RunStatus.APPROVED, "qian", 0), SUN, Refusal.CONFLICT),
        (RunState(RunStatus.READY, "qian", 2), SUN, Refusal.CONFLICT),  # critical holds unanswered
    ],
    ids=["self-approval", "caseworker", "admin", "running", "approved", "critical"],
)
def test_an_approval_is_refused_with_the_kind_that_says_why(run, who, kind) -> None:
    with pytest.raises(Refused) as refused:
        check_approval(run, who)
    assert refused.value.kind is kind


def test_another_supervisor_or_officer_approves_a_ready_run_without_open_critical_items() -> None:
    check_approval(READY, SUN)
    check_approval(READY, Principal("wu", Role.PAYMENT_OFFICER, ("310110",)))


def test_overrides_only_on_a_ready_run_and_the_file_only_once_approved() -> None:
    check_override(READY, SUN, Decision.STOP, [])
    with pytest.raises(Refused):
        check_override(RunState(RunStatus.APPROVED, "qian", 0), SUN, Decision.STOP, [])
    with pytest.raises(Refused):
        check_override(READY, Principal("a", Role.AUDITOR, ("31",)), Decision.STOP, [])
    check_export(RunStatus.APPROVED)
    check_export(RunStatus.EXPORTED)
    with pytest.raises(Refused):
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
    "changed_since_check": False,
}


def test_the_files_show_ids_and_accounts_as_the_role_may_see_them() -> None:
    officer = Principal("qian", Role.PAYMENT_OFFICER, ("310110",))
    auditor = Principal("wu", Role.AUDITOR, ("310110",))
    worker = Principal("zhou", Role.CASEWORKER, ("310110",))

    assert payable_row(ROW, officer)["payout_account"] == ROW["payout_account"]
    assert payable_row(ROW, officer)["changed_since_check"] == ""
    assert payable_row(ROW | {"changed_since_check": True}, officer)["changed_since_check"]
    assert payable_row(ROW, auditor)["payout_account"].endswith("*3445")
    assert payable_row(ROW, worker)["beneficiary_id"] == "310110********0011"
    held = exception_row(ROW, auditor)
    assert held["reasons"] == (
        "受益人死亡已登记（2026-09-05） / The beneficiary's death is recorded (2026-09-05)"
    )
    assert held["override"] == "STOP: 已核实 (sun)"


def _others(*runs: tuple[str, RunStatus]) -> list[OtherRun]:
    return [OtherRun(f"run-{n}", area, status) for n, (area, status) in enumerate(runs)]


@pytest.mark.parametrize(
    ("area", "others", "named"),
    [
        ("310110", _others(("310110001", RunStatus.READY)), "run-0"),  # district over street
        ("310110001", _others(("310110", RunStatus.READY)), "run-0"),  # street in district
        ("310110001001", _others(("310110001", RunStatus.APPROVED)), "run-0"),
        ("310110001", _others(("310110", RunStatus.EXPORTED)), "run-0"),
        ("310110001", _others(("310110001", RunStatus.RUNNING)), "run-0"),
        ("310110001", _others(("310110001", RunStatus.APPROVED)), "run-0"),
        ("310110", _others(("310110", RunStatus.READY), ("310110002", RunStatus.READY)), "run-1"),
    ],
    ids=[
        "district-over-street",
        "street-in-district",
        "community-in-approved-street",
        "street-in-exported-district",
        "same-area-running",
        "same-area-approved",
        "same-area-ready-but-a-street-too",
    ],
)
def test_a_run_overlapping_another_of_the_month_that_counts_is_refused_naming_it(
    area, others, named
) -> None:
    with pytest.raises(Refused) as refused:
        check_start("2026-12", area, others)
    assert refused.value.kind is Refusal.CONFLICT
    assert named in refused.value.reason and refused.value.reason.startswith("area:")


def test_a_rerun_of_the_same_area_supersedes_its_ready_run_and_a_first_run_starts() -> None:
    check_start("2026-12", "310110001", _others(("310110001", RunStatus.READY)))
    check_start("2026-12", "310110001", [])


def test_who_started_a_run_neither_overrides_its_items_nor_approves_it() -> None:
    qian = Principal("qian", Role.PAYMENT_OFFICER, ("310110",))
    for check in (
        lambda: check_override(READY, qian, Decision.HOLD, []),
        lambda: check_approval(READY, qian),
    ):
        with pytest.raises(Refused) as refused:
            check()
        assert refused.value.kind is Refusal.FORBIDDEN


def test_an_unconfirmed_new_account_cannot_be_overridden_into_a_payment() -> None:
    unconfirmed = [{"code": "ACCOUNT_CHANGE_UNCONFIRMED", "changed_by": "zhou"}]
    with pytest.raises(Refused) as refused:
        check_override(READY, SUN, Decision.PAY, unconfirmed)
    assert refused.value.kind is Refusal.CONFLICT
    check_override(READY, SUN, Decision.STOP, unconfirmed)


def test_an_approval_is_refused_while_an_enrolment_to_pay_changed_since_the_check() -> None:
    changed = RunState(RunStatus.READY, "qian", 0, changed_to_pay=("E-1", "E-2"))
    with pytest.raises(Refused) as refused:
        check_approval(changed, SUN)
    assert refused.value.kind is Refusal.CONFLICT and "E-1, E-2" in refused.value.reason


def test_only_a_ready_run_is_cancelled_and_only_by_who_may_start_runs() -> None:
    check_cancel(READY, SUN)
    with pytest.raises(Refused):
        check_cancel(RunState(RunStatus.APPROVED, "qian", 0), SUN)
    with pytest.raises(Refused):
        check_cancel(READY, Principal("wu", Role.AUDITOR, ("310110",)))


def test_an_unconfirmed_account_change_reads_with_who_made_it() -> None:
    reason = {"code": "ACCOUNT_CHANGE_UNCONFIRMED", "changed_by": "zhou", "version": 3}
    assert reason_text(reason, "zh") == "发放账户变更待复核（zhou 修改）"
    assert "changed by zhou" in reason_text(reason, "en")
