"""The queue's filter as the queue, its export and its page ask for it (a shared dependency)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request

from shaobing_contracts.alert import Severity
from shaobing_contracts.enrolment import Program

from ..common.pages import Blank
from .adapters.alert_queries import QueueFilter


@dataclass(frozen=True)
class QueueView:
    where: QueueFilter
    today: date
    shown: dict  # the filter as asked, for watermarks and the audit trail


def queue_view(
    request: Request,
    status: Annotated[str | None, Query(pattern="^(OPEN|CLAIMED)$"), Blank] = None,
    severity: Annotated[Severity | None, Blank] = None,
    program: Annotated[Program | None, Blank] = None,
    rule_id: Annotated[str | None, Query(max_length=100), Blank] = None,
    area: Annotated[str | None, Query(pattern=r"^\d{2,12}$"), Blank] = None,
    assignee: Annotated[str | None, Query(max_length=64), Blank] = None,
    due_by: Annotated[date | None, Blank] = None,
    overdue: bool = False,
    escalated: Annotated[bool | None, Blank] = None,
) -> QueueView:
    """The queue's filter (a dependency shared by the queue and its exports)."""
    today = request.app.state.settings.local_now().date()
    shown = {
        "status": status,
        "severity": severity,
        "program": program,
        "rule_id": rule_id,
        "area": area,
        "assignee": assignee,
        "due_by": due_by,
        "overdue": overdue,
        "escalated": escalated,
    }
    filters = {k: v for k, v in shown.items() if k != "overdue"}
    where = QueueFilter(**filters, overdue_on=today if overdue else None)
    return QueueView(where, today, {k: v for k, v in shown.items() if v not in (None, False)})


View = Annotated[QueueView, Depends(queue_view)]
