"""GET /v1/notifications: whom to contact about which benefit (政策找人), in the caller's areas."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request

from shaobing_contracts.notification import NotificationStatus
from shaobing_runtime.access import Principal
from shaobing_runtime.database import scoped
from shaobing_runtime.http_auth import require
from shaobing_runtime.paging import CursorSeq, encode_cursor

from ..common.adapters.read_audit import record_list_read
from ..common.domain.refusals import Refusal, Refused
from ..common.domain.roles import READ_ALERT_ROLES
from .adapters.notification_queries import (
    NotificationFilter,
    list_notifications,
    locked_notification,
    write_notification_step,
)
from .domain.notification_steps import next_notification_status
from .models import NotificationPage, NotificationPublic, NotificationStepBody, notification_public

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])
Reader = Annotated[Principal, require(*READ_ALERT_ROLES)]


@router.get("", response_model=NotificationPage)
async def list_(
    request: Request,
    principal: Reader,
    status: NotificationStatus | None = None,
    benefit: Annotated[str | None, Query(pattern=r"^[A-Z][A-Z0-9_]{1,39}$")] = None,
    policy_id: str | None = None,
    area: Annotated[str | None, Query(pattern=r"^\d{2,12}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: CursorSeq = None,
) -> NotificationPage:
    """The notifications in the caller's areas, newest first, filtered and paged (WITHDRAWN
    ones only with status=WITHDRAWN)."""
    where = NotificationFilter(status=status, benefit=benefit, policy_id=policy_id, area=area)
    async with scoped(request.app.state.pool, principal) as conn:
        rows = await list_notifications(
            conn, scopes=principal.areas, where=where, limit=limit + 1, before_seq=before
        )
        page = rows[:limit]
        await record_list_read(conn, principal, "notification", page, **vars(where))
    return NotificationPage(
        items=[notification_public(r, principal) for r in page],
        next_cursor=encode_cursor(page[-1]["seq"]) if len(rows) > limit else None,
    )


@router.post("/{notification_id}/steps", response_model=NotificationPublic)
async def take_step(
    request: Request, principal: Reader, notification_id: UUID, body: NotificationStepBody
) -> NotificationPublic:
    """contact, applied, declined, not_eligible (reopen: supervisors); a stale version is 409."""
    async with scoped(request.app.state.pool, principal) as conn:
        row = await locked_notification(
            conn, scopes=principal.areas, notification_id=notification_id
        )
        if row is None:
            raise Refused("notification not found", Refusal.NOT_FOUND)
        if row["version"] != body.version:
            raise Refused(f"version: the notification is at version {row['version']}")
        status = next_notification_status(NotificationStatus(row["status"]), body.step, principal)
        updated = await write_notification_step(conn, row, status, body.step, body.text, principal)
    return notification_public(updated, principal)
