"""GET /v1/alerts/queue: the undecided alerts to work, most severe and soonest due first, with the
days left before the payout cut-off, what is overdue, and counts for the same filter."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel

from shaobing_contracts.alert import Severity
from shaobing_contracts.enrolment import Program
from shaobing_runtime.access import Principal
from shaobing_runtime.http_auth import require
from shaobing_runtime.paging import decode_cursor, encode_cursor

from ..adapters.alert_queries import QueueFilter, queue, queue_counts
from ..domain.roles import READ_ALERT_ROLES
from .views import AlertPublic, alert_public

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
Reader = Annotated[Principal, require(*READ_ALERT_ROLES)]


class QueueItem(AlertPublic):
    days_left: int  # until the due date (the payout cut-off); negative when overdue
    overdue: bool


class QueueCount(BaseModel):
    status: str
    severity: str
    alerts: int
    overdue: int


class QueuePage(BaseModel):
    today: date
    items: list[QueueItem]
    counts: list[QueueCount]
    next_cursor: str | None


@router.get("/queue", response_model=QueuePage)
async def work_queue(
    request: Request,
    principal: Reader,
    status: Annotated[str | None, Query(pattern="^(OPEN|CLAIMED)$")] = None,
    severity: Severity | None = None,
    program: Program | None = None,
    rule_id: str | None = None,
    area: Annotated[str | None, Query(pattern=r"^\d{2,12}$")] = None,
    assignee: str | None = None,
    due_by: date | None = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> QueuePage:
    """Overdue alerts (`overdue=true`) are what a supervisor escalates before the cut-off."""
    try:
        after = decode_cursor(cursor) if cursor else None
    except ValueError as exc:
        raise HTTPException(422, "cursor: not a cursor this api issued") from exc
    today = datetime.now(ZoneInfo(request.app.state.settings.timezone)).date()
    where = QueueFilter(
        status=status,
        severity=severity,
        program=program,
        rule_id=rule_id,
        area=area,
        assignee=assignee,
        due_by=due_by,
        overdue_on=today if overdue else None,
    )
    async with request.app.state.pool.acquire() as conn:
        rows = await queue(
            conn, scopes=principal.areas, where=where, limit=limit + 1, after_seq=after
        )
        counts = await queue_counts(conn, scopes=principal.areas, where=where, today=today)
    page = rows[:limit]
    return QueuePage(
        today=today,
        items=[_item(r, principal, today) for r in page],
        counts=[QueueCount.model_validate(dict(c)) for c in counts],
        next_cursor=encode_cursor(page[-1]["seq"]) if len(rows) > limit else None,
    )


def _item(row, principal: Principal, today: date) -> QueueItem:
    days_left = (row["due_date"] - today).days
    alert = alert_public(row, principal)
    return QueueItem(**alert.model_dump(), days_left=days_left, overdue=days_left < 0)
