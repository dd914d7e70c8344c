"""GET /v1/audit and /v1/audit/verification: the audit trail, for auditors, in their areas."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request

from shaobing_runtime import audit
from shaobing_runtime.access import Principal, Role
from shaobing_runtime.audit_anchor import store_of
from shaobing_runtime.database import scoped
from shaobing_runtime.http_auth import require
from shaobing_runtime.paging import CursorSeq, encode_cursor

from .adapters.audit_queries import list_entries
from .models import AuditEntryPublic, AuditPage, Verification

router = APIRouter(prefix="/v1/audit", tags=["audit"])
Auditor = Annotated[Principal, require(Role.AUDITOR, Role.ADMIN)]


@router.get("", response_model=AuditPage)
async def entries(
    request: Request,
    principal: Auditor,
    object_type: str | None = None,
    object_id: str | None = None,
    actor: str | None = None,
    limit: int = 100,
    before: CursorSeq = None,
) -> AuditPage:
    """Newest first, inside the caller's areas (entries without an area: admins only)."""
    shown = min(max(limit, 1), 500)
    async with scoped(request.app.state.pool, principal) as conn:
        rows = await list_entries(
            conn,
            scopes=principal.areas,
            unscoped_too=principal.role is Role.ADMIN,
            object_type=object_type,
            object_id=object_id,
            actor=actor,
            before=before,
            limit=shown + 1,
        )
    page = rows[:shown]
    more = len(rows) > len(page)
    return AuditPage(
        items=[AuditEntryPublic.model_validate(dict(r)) for r in page],
        next_cursor=encode_cursor(page[-1]["seq"]) if more else None,
    )


@router.get("/verification", response_model=Verification)
async def verification(request: Request, principal: Auditor) -> Verification:
    """Recompute the whole chain now and hold it against the latest anchor (also: python -m
    shaobing_runtime.audit verify).

    The one unscoped read of the api: the chain spans every area, and only its soundness and
    length are answered, no entry.
    """
    settings = request.app.state.settings
    async with request.app.state.pool.acquire() as conn:
        verdict = await audit.verify(conn, settings.keyring(), store_of(settings))
    return Verification.of(verdict)
