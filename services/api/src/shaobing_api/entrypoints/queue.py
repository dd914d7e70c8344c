"""GET /v1/alerts/queue: the undecided alerts to work, most severe and soonest due first, with the
days left before the payout cut-off, what is overdue, and counts for the same filter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from shaobing_contracts.alert import Severity
from shaobing_contracts.enrolment import Program
from shaobing_runtime import audit
from shaobing_runtime.access import Principal
from shaobing_runtime.database import scoped
from shaobing_runtime.http_auth import require
from shaobing_runtime.paging import CursorSeq, encode_cursor

from ..adapters.alert_queries import QueueFilter, queue, queue_counts, whole_queue
from ..common.adapters.read_audit import record_list_read
from ..common.domain import exports
from ..common.domain.roles import READ_ALERT_ROLES
from ..common.downloads import FORMAT, check_size, download, scoped_chunks
from ..common.pages import Blank
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
    escalated: int


class QueuePage(BaseModel):
    today: date
    items: list[QueueItem]
    counts: list[QueueCount]
    next_cursor: str | None


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


@router.get("/queue", response_model=QueuePage)
async def work_queue(
    request: Request,
    principal: Reader,
    view: View,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: CursorSeq = None,
) -> QueuePage:
    """Overdue alerts (`overdue=true`) are what a supervisor escalates before the cut-off."""
    async with scoped(request.app.state.pool, principal) as conn:
        rows = await queue(
            conn, scopes=principal.areas, where=view.where, limit=limit + 1, after_seq=after
        )
        counts = await queue_counts(
            conn, scopes=principal.areas, where=view.where, today=view.today
        )
        page = rows[:limit]
        await record_list_read(conn, principal, "alert", page, **view.shown)
    return QueuePage(
        today=view.today,
        items=[queue_item(r, principal, view.today) for r in page],
        counts=[QueueCount.model_validate(dict(c)) for c in counts],
        next_cursor=encode_cursor(page[-1]["seq"]) if len(rows) > limit else None,
    )


def queue_item(row, principal: Principal, today: date) -> QueueItem:
    days_left = (row["due_date"] - today).days
    alert = alert_public(row, principal)
    return QueueItem(**alert.model_dump(), days_left=days_left, overdue=days_left < 0)


@router.get("/queue/export", response_class=Response)
async def export_queue(
    request: Request,
    principal: Reader,
    view: View,
    format: Annotated[str, Query(pattern=FORMAT)] = "xlsx",
) -> Response:
    """The filtered queue as a file, watermarked and recorded in the audit trail; ID numbers as
    the caller's role may see them. Streamed (XLSX: at most API_MAX_XLSX_ROWS rows, 422
    beyond)."""
    at = request.app.state.settings.local_now()
    async with scoped(request.app.state.pool, principal) as conn:
        counts = await queue_counts(
            conn, scopes=principal.areas, where=view.where, today=view.today
        )
        rows = sum(c["alerts"] for c in counts)
        check_size(format, rows, request.app.state.settings.max_xlsx_rows)
        details = {"format": format, "rows": rows, "filter": view.shown}
        area = view.where.area or (principal.areas[0] if len(principal.areas) == 1 else None)
        entry = audit.entry_of(principal, "alert.export", "queue", "alerts", area, **details)
        await audit.append(conn, [entry])
    chunks = scoped_chunks(
        request.app.state.pool,
        principal,
        lambda conn: whole_queue(conn, scopes=principal.areas, where=view.where),
        lambda row: queue_item(row, principal, view.today).model_dump(),
    )
    return download(
        chunks,
        columns=exports.ALERT_COLUMNS,
        principal=principal,
        at=at,
        shown=view.shown,
        format=format,
        name="alerts",
        title="预警 Alerts",
    )
