"""GET /v1/alerts/queue: the undecided alerts to work, most severe and soonest due first, with the
days left before the payout cut-off, what is overdue, and counts for the same filter."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from shaobing_runtime import audit
from shaobing_runtime.access import Principal
from shaobing_runtime.database import scoped
from shaobing_runtime.http_auth import require
from shaobing_runtime.paging import CursorSeq, encode_cursor

from ..common.adapters.read_audit import record_list_read
from ..common.domain.roles import READ_ALERT_ROLES
from ..common.downloads import FORMAT, check_size, download, scoped_chunks
from .adapters.alert_queries import queue, queue_counts, whole_queue
from .models import ALERT_COLUMNS, QueueCount, QueuePage, queue_item
from .queue_view import View

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
Reader = Annotated[Principal, require(*READ_ALERT_ROLES)]


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
        columns=ALERT_COLUMNS,
        principal=principal,
        at=at,
        shown=view.shown,
        format=format,
        name="alerts",
        title="预警 Alerts",
    )
