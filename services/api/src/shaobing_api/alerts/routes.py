"""GET /v1/alerts and /v1/alerts/{id}: the queue, scoped to the caller's areas."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request

from shaobing_contracts.alert import AlertStatus, Severity
from shaobing_runtime.access import Principal
from shaobing_runtime.database import scoped
from shaobing_runtime.http_auth import require
from shaobing_runtime.paging import CursorSeq, encode_cursor

from ..common.adapters.read_audit import record_list_read
from ..common.domain.roles import READ_ALERT_ROLES
from .adapters.alert_queries import AlertFilter, list_alerts
from .models import AlertPage, AlertPublic, alert_public
from .service import readable_alert

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
Reader = Annotated[Principal, require(*READ_ALERT_ROLES)]


@router.get("", response_model=AlertPage)
async def list_(
    request: Request,
    principal: Reader,
    status: AlertStatus | None = None,
    severity: Severity | None = None,
    area: Annotated[str | None, Query(pattern=r"^\d{2,12}$")] = None,
    enrolment_id: str | None = None,
    id_number: Annotated[str | None, Query(pattern=r"^\d{17}[\dXx]$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: CursorSeq = None,
) -> AlertPage:
    """The alerts in the caller's areas, newest first, filtered and paged."""
    where = AlertFilter(
        status=status,
        severity=severity,
        area=area,
        enrolment_id=enrolment_id,
        id_number=id_number.upper() if id_number else None,
    )
    async with scoped(request.app.state.pool, principal) as conn:
        rows = await list_alerts(
            conn, scopes=principal.areas, where=where, limit=limit + 1, before_seq=before
        )
        page = rows[:limit]
        await record_list_read(conn, principal, "alert", page, **vars(where))
    more = len(rows) > limit
    return AlertPage(
        items=[alert_public(r, principal) for r in page],
        next_cursor=encode_cursor(page[-1]["seq"]) if more else None,
    )


@router.get("/{alert_id}", response_model=AlertPublic)
async def get(request: Request, principal: Reader, alert_id: UUID) -> AlertPublic:
    """One alert with its evidence; outside the caller's areas it does not exist (404)."""
    async with scoped(request.app.state.pool, principal) as conn:
        row = await readable_alert(conn, principal, alert_id)
    return alert_public(row, principal)
