"""The case worker's workflow (api domain): every step from every status, for every role."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shaobing_api.alerts.domain.workflow import (
    ActionTaken,
    AlertCase,
    DismissReason,
    Step,
    StepRequest,
    decide,
)
from shaobing_api.common.domain.refusals import Refusal, Refused
from shaobing_api.notifications.domain.notification_steps import (
    NotificationStep,
    next_notification_status,
)
from shaobing_contracts.alert import AlertStatus as S
from shaobing_contracts.notification import NotificationStatus
from shaobing_runtime.access import Principal, Role

WANG = Principal("wang", Role.CASEWORKER, ("310110001",))
LI = Principal("li", Role.CASEWORKER, ("310110001",))
ZHAO = Principal("zhao", Role.SUPERVISOR, ("310110",))
AUDITOR = Principal("qian", Role.AUDITOR, ("310110",))

OPEN = AlertCase(S.OPEN, None, None)
CLAIMED_BY_WANG = AlertCase(S.CLAIMED, "wang", None)
CONFIRMED = AlertCase(S.CONFIRMED, "wang", None)
WITHDRAWN = AlertCase(S.WITHDRAWN, None, None)
STOPPED = StepRequest(Step.CONFIRM, action_taken=ActionTaken.PAYMENT_STOPPED)
WRONG_PERSON = StepRequest(Step.DISMISS, reason=DismissReason.WRONG_PERSON)

ALLOWED = {
    "claim an open alert": (OPEN, StepRequest(Step.CLAIM), WANG, S.CLAIMED),
    "release my claim": (CLAIMED_BY_WANG, StepRequest(Step.RELEASE), WANG, S.OPEN),
    "confirm my claim": (CLAIMED_BY_WANG, STOPPED, WANG, S.CONFIRMED),
    "dismiss my claim": (CLAIMED_BY_WANG, WRONG_PERSON, WANG, S.DISMISSED),
    "a supervisor confirms another's claim": (CLAIMED_BY_WANG, STOPPED, ZHAO, S.CONFIRMED),
    "a supervisor reopens a decision": (CONFIRMED, StepRequest(Step.REOPEN), ZHAO, S.OPEN),
    "a supervisor reopens a withdrawn alert": (WITHDRAWN, StepRequest(Step.REOPEN), ZHAO, S.OPEN),
    "a supervisor assigns": (OPEN, StepRequest(Step.ASSIGN, assignee="team-2"), ZHAO, S.OPEN),
    "anyone working it comments": (
        CONFIRMED,
        StepRequest(Step.COMMENT, text="家属已告知"),
        LI,
        None,
    ),
}

REFUSED = {
    "confirm without claiming": (OPEN, STOPPED, WANG, Refusal.CONFLICT),
    "claim what another claimed": (CLAIMED_BY_WANG, StepRequest(Step.CLAIM), LI, Refusal.CONFLICT),
    "claim twice": (CLAIMED_BY_WANG, StepRequest(Step.CLAIM), WANG, Refusal.CONFLICT),
    "confirm another's claim": (CLAIMED_BY_WANG, STOPPED, LI, Refusal.CONFLICT),
    "dismiss another's claim": (CLAIMED_BY_WANG, WRONG_PERSON, LI, Refusal.CONFLICT),
    "confirm twice": (CONFIRMED, STOPPED, WANG, Refusal.CONFLICT),
    "claim a withdrawn alert": (WITHDRAWN, StepRequest(Step.CLAIM), WANG, Refusal.CONFLICT),
    "a case worker reopens": (CONFIRMED, StepRequest(Step.REOPEN), WANG, Refusal.FORBIDDEN),
    "reopen an open alert": (OPEN, StepRequest(Step.REOPEN), ZHAO, Refusal.CONFLICT),
    "a case worker assigns": (
        OPEN,
        StepRequest(Step.ASSIGN, assignee="li"),
        WANG,
        Refusal.FORBIDDEN,
    ),
    "assign a decided alert": (
        CONFIRMED,
        StepRequest(Step.ASSIGN, assignee="li"),
        ZHAO,
        Refusal.CONFLICT,
    ),
    "an auditor claims": (OPEN, StepRequest(Step.CLAIM), AUDITOR, Refusal.FORBIDDEN),
    "confirm saying nothing done": (
        CLAIMED_BY_WANG,
        StepRequest(Step.CONFIRM),
        WANG,
        Refusal.INVALID,
    ),
    "recover without an amount": (
        CLAIMED_BY_WANG,
        StepRequest(Step.CONFIRM, action_taken=ActionTaken.OVERPAYMENT_TO_RECOVER),
        WANG,
        Refusal.INVALID,
    ),
    "dismiss without a reason": (CLAIMED_BY_WANG, StepRequest(Step.DISMISS), WANG, Refusal.INVALID),
    "dismiss as OTHER without saying why": (
        CLAIMED_BY_WANG,
        StepRequest(Step.DISMISS, reason=DismissReason.OTHER),
        WANG,
        Refusal.INVALID,
    ),
    "an empty comment": (OPEN, StepRequest(Step.COMMENT, text="  "), WANG, Refusal.INVALID),
}


@pytest.mark.parametrize(("case", "request_", "actor", "status"), ALLOWED.values(), ids=ALLOWED)
def test_allowed_steps_give_the_new_status(case, request_, actor, status) -> None:
    change = decide(case, request_, actor)

    assert change.status == (status or case.status)


@pytest.mark.parametrize(("case", "request_", "actor", "kind"), REFUSED.values(), ids=REFUSED)
def test_refused_steps_say_why_and_whether_it_is_the_state_the_role_or_the_request(
    case, request_, actor, kind
) -> None:
    with pytest.raises(Refused) as refused:
        decide(case, request_, actor)

    assert refused.value.kind is kind and refused.value.reason


def test_a_claim_names_the_claimant_and_a_release_forgets_it() -> None:
    claimed = decide(OPEN, StepRequest(Step.CLAIM), WANG)
    released = decide(
        AlertCase(claimed.status, claimed.claimed_by, None), StepRequest(Step.RELEASE), WANG
    )

    assert (claimed.claimed_by, released.claimed_by) == ("wang", None)


def test_a_confirmation_records_what_was_done_and_the_amount_to_recover() -> None:
    recover = StepRequest(
        Step.CONFIRM,
        action_taken=ActionTaken.OVERPAYMENT_TO_RECOVER,
        overpayment_to_recover=Decimal("3020"),
        text="已通知家属退回",
    )

    change = decide(CLAIMED_BY_WANG, recover, WANG)

    assert change.decision == {
        "action_taken": "OVERPAYMENT_TO_RECOVER",
        "overpayment_to_recover": "3020.00",
        "text": "已通知家属退回",
    }


N = NotificationStatus
NOTIFICATION_STEPS = {
    "contact a new one": (N.NEW, NotificationStep.CONTACT, WANG, N.CONTACTED),
    "they applied": (N.CONTACTED, NotificationStep.APPLIED, WANG, N.APPLIED),
    "they declined": (N.CONTACTED, NotificationStep.DECLINED, WANG, N.DECLINED),
    "not eligible before contact": (N.NEW, NotificationStep.NOT_ELIGIBLE, WANG, N.NOT_ELIGIBLE),
    "a supervisor reopens": (N.DECLINED, NotificationStep.REOPEN, ZHAO, N.NEW),
    "a supervisor reopens a withdrawn one": (N.WITHDRAWN, NotificationStep.REOPEN, ZHAO, N.NEW),
}


@pytest.mark.parametrize(
    ("status", "step", "actor", "to"), NOTIFICATION_STEPS.values(), ids=NOTIFICATION_STEPS
)
def test_a_notification_moves_through_its_lifecycle(status, step, actor, to) -> None:
    assert next_notification_status(status, step, actor) is to


@pytest.mark.parametrize(
    ("status", "step", "actor", "kind"),
    [
        (N.NEW, NotificationStep.APPLIED, WANG, Refusal.CONFLICT),
        (N.APPLIED, NotificationStep.CONTACT, WANG, Refusal.CONFLICT),
        (N.DECLINED, NotificationStep.REOPEN, WANG, Refusal.FORBIDDEN),
        (N.NEW, NotificationStep.CONTACT, AUDITOR, Refusal.FORBIDDEN),
        (N.WITHDRAWN, NotificationStep.CONTACT, WANG, Refusal.CONFLICT),  # nobody to contact
    ],
)
def test_a_notification_refuses_steps_out_of_order_or_role(status, step, actor, kind) -> None:
    with pytest.raises(Refused) as refused:
        next_notification_status(status, step, actor)

    assert refused.value.kind is kind
