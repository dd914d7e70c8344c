"""The default verification rules (rules/verification.yaml) as a table: events → open alerts.

Each case folds a person's events in order through the real rule files and compares the alerts
the final state supports, by (rule, action), including the cases that must raise nothing.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from matcher_events import (
    BENEFICIARY,
    CHILD,
    HOME,
    SHANGHAI,
    SPOUSE,
    cancelled,
    death_retracted,
    died,
    employed,
    enrolment,
    expected_id,
    joined,
    marriage_retracted,
    married,
    moved,
    moved_out,
    open_alerts,
    pension_started,
    registered,
    run,
    unemployed,
)

from shaobing_contracts.alert import Action, Severity
from shaobing_contracts.enrolment import EnrolmentStatus, MemberRole, Program
from shaobing_contracts.hukou import CancellationReason
from shaobing_contracts.marriage import MarriageKind

TEKUN = enrolment("TEKUN-310110-0001", program=Program.TEKUN, members=[BENEFICIARY])
GAOLING = enrolment("GAOLING-310110-0001", program=Program.GAOLING, members=[BENEFICIARY])
SPOUSE_AS_MEMBER = joined(person=SPOUSE, role=MemberRole.MEMBER)
LATER = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)

CASES = {
    # death (死亡)
    "death of the beneficiary": ([joined(), died()], {("death-of-beneficiary", Action.STOP)}),
    "death known before the enrolment": (
        [died(), joined(at=LATER)],
        {("death-at-enrolment", Action.BLOCK)},
    ),
    "death of a TERMINATED enrolment's beneficiary": (
        [joined(enrolment(status=EnrolmentStatus.TERMINATED)), died()],
        set(),
    ),
    "death then its retraction": ([joined(), died(), death_retracted()], set()),
    "death of a household member": (
        [SPOUSE_AS_MEMBER, died(SPOUSE)],
        {("death-of-household-member", Action.REASSESS)},
    ),
    "death of someone not enrolled": ([died()], set()),
    # marriage (婚姻)
    "marriage of the beneficiary": ([joined(), married()], {("marriage-change", Action.REASSESS)}),
    "divorce of a household member": (
        [SPOUSE_AS_MEMBER, married(SPOUSE, spouse=CHILD, kind=MarriageKind.DIVORCE)],
        {("marriage-change", Action.REASSESS)},
    ),
    "divorce of someone not enrolled": ([married(kind=MarriageKind.DIVORCE)], set()),
    "a TEKUN recipient marries": (
        [joined(TEKUN), married()],
        {("tekun-marriage", Action.REASSESS)},
    ),
    "a TEKUN recipient divorces": (
        [joined(TEKUN), married(kind=MarriageKind.DIVORCE)],
        {("marriage-change", Action.REASSESS)},
    ),
    "marriage then its retraction": ([joined(), married(), marriage_retracted()], set()),
    # household registration (户籍)
    "registered where the enrolment pays": ([joined(), registered()], set()),
    "moved out": (
        [joined(), registered(), moved_out()],
        {("moved-out-of-jurisdiction", Action.STOP)},
    ),
    "moved to another district": (
        [joined(), registered(), moved(to_area="310115001001")],
        {("moved-out-of-jurisdiction", Action.STOP)},
    ),
    "moved within the district": (
        [joined(), registered(), moved(to_area="310110005001")],
        {("moved-within-jurisdiction", Action.REASSIGN)},
    ),
    "moved away and back": (
        [joined(), moved(to_area="310115001001"), moved(to_area=HOME)],
        set(),
    ),
    "registration cancelled": (
        [joined(), cancelled()],
        {("registration-cancelled", Action.STOP)},
    ),
    "cancelled for death, no death registration yet": (
        [joined(), cancelled(reason=CancellationReason.DECEASED)],
        {("registration-cancelled", Action.STOP)},
    ),
    "cancelled for death and the death registered": (
        [joined(), cancelled(reason=CancellationReason.DECEASED), died()],
        {("death-of-beneficiary", Action.STOP)},
    ),
    # social security (社保)
    "pension above the Shanghai standard": (
        [joined(), pension_started(amount="2100.00")],
        {("income-above-threshold", Action.REASSESS)},
    ),
    "pension below the Shanghai standard": ([joined(), pension_started(amount="1400.00")], set()),
    "the same pension above the default elsewhere": (
        [joined(enrolment(area="440305001001")), pension_started(amount="1400.00")],
        {("income-above-threshold", Action.REASSESS)},
    ),
    "pension of a programme not means-tested": (
        [joined(GAOLING), pension_started(amount="9000.00")],
        set(),
    ),
    "employed with a high contribution base, then not": (
        [joined(), employed(base="5200.00"), unemployed()],
        set(),
    ),
    "a household member employed above the threshold": (
        [SPOUSE_AS_MEMBER, employed(SPOUSE, base="5200.00")],
        {("income-above-threshold", Action.REASSESS)},
    ),
    # duplicates (重复享受)
    "DIBAO and TEKUN at once": (
        [joined(), joined(TEKUN, at=LATER)],
        {("duplicate-exclusive-programs", Action.DUPLICATE)},
    ),
    "DIBAO in two districts": (
        [joined(), joined(enrolment("DIBAO-310115-0009", area="310115001001"), at=LATER)],
        {("duplicate-same-program", Action.DUPLICATE)},
    ),
    "DIBAO and GAOLING": ([joined(), joined(GAOLING, at=LATER)], set()),
}


@pytest.mark.parametrize(("events", "expected"), CASES.values(), ids=CASES.keys())
def test_events_leave_the_expected_alerts_open(events, expected) -> None:
    person = events[-1].id_number

    alerts = open_alerts(events, person=person)

    assert {(rule, alert.action) for (rule, _), alert in alerts.items()} == expected


def test_a_death_alert_carries_severity_due_date_evidence_and_the_overpayment() -> None:
    [alert] = open_alerts([joined(), died()]).values()

    assert alert.id == expected_id("death-of-beneficiary", f"death:{BENEFICIARY}")
    assert (alert.rule_version, alert.severity) == (1, Severity.CRITICAL)
    assert alert.due_date == date(2026, 12, 20)  # today is 25 Nov, cut-off the 20th
    assert (alert.overpaid_months, str(alert.overpaid_amount)) == (2, "3020.00")  # Oct, Nov
    assert [e.provenance.table for e in alert.evidence] == ["death.registrations"]
    assert "310110********" in alert.explanation.zh_cn and BENEFICIARY not in alert.explanation.en
    assert "3020.00" in alert.explanation.zh_cn and "to recover" in alert.explanation.en


def test_the_duplicate_is_raised_on_the_later_enrolment_only() -> None:
    alerts = open_alerts([joined(TEKUN, at=LATER), joined()])

    assert list(alerts) == [("duplicate-exclusive-programs", "TEKUN-310110-0001")]


def test_a_retraction_withdraws_what_its_event_raised() -> None:
    state, raised, withdrawn = run([joined(), died(), death_retracted()])

    assert raised == []
    assert [w.id for w in withdrawn] == [
        expected_id("death-of-beneficiary", f"death:{BENEFICIARY}")
    ]
    assert "撤回" in withdrawn[0].reason.zh_cn and state.raised == {}


def test_a_withdrawal_is_sent_again_until_the_fact_holds_again() -> None:
    _, raised, withdrawn = run([joined(), died(), death_retracted(), married()])
    assert [w.rule_id for w in withdrawn] == ["death-of-beneficiary"]
    assert [a.rule_id for a in raised] == ["marriage-change"]

    state, raised, withdrawn = run([joined(), died(), death_retracted(), died()])
    assert withdrawn == [] and [a.rule_id for a in raised] == ["death-of-beneficiary"]
    assert state.withdrawn == {}


def test_an_alert_of_an_enrolment_stopped_since_is_kept_not_withdrawn_nor_sent() -> None:
    stopped = joined(enrolment(status=EnrolmentStatus.SUSPENDED))

    state, raised, withdrawn = run([joined(), died(), stopped])

    assert raised == [] and withdrawn == []
    assert [r.rule_id for r in state.raised.values()] == ["death-of-beneficiary"]


def test_leaving_the_household_withdraws_the_members_alert() -> None:
    left = joined(person=SPOUSE, role=None)

    _, raised, withdrawn = run([SPOUSE_AS_MEMBER, died(SPOUSE), left], person=SPOUSE)

    assert raised == [] and [w.rule_id for w in withdrawn] == ["death-of-household-member"]
