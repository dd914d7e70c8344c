"""GET /v1/audit and /v1/audit/verification: the audit trail, for auditors, in their areas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from shaobing_runtime import audit
from shaobing_runtime.access import Principal, Role
from shaobing_runtime.database import scoped
from shaobing_runtime.http_auth import require
from shaobing_runtime.paging import CursorSeq, encode_cursor

from ..adapters.alert_queries import scope_patterns

router = APIRouter(prefix="/v1/audit", tags=["audit"])
Auditor = Annotated[Principal, require(Role.AUDITOR, Role.ADMIN)]


class AuditEntryPublic(BaseModel):
    seq: int
    at: datetime
    actor: str
    role: str
    action: str
    object_type: str
    object_id: str
    area_code: str | None
    details: dict[str, Any]
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntryPublic]
    next_cursor: str | None


class Verification(BaseModel):
    intact: bool
    entries: int
    broken_at: int | None  # the seq of the first entry that does not match its chain


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
    async with scoped(request.app.state.pool, principal) as conn:
        rows = await conn.fetch(
            """select seq, at, actor, role, action, object_type, object_id, area_code, details,
                      hash
               from audit_log
               where (area_code like any($1::text[]) or (area_code is null and $2))
                 and ($3::text is null or object_type = $3)
                 and ($4::text is null or object_id = $4)
                 and ($5::text is null or actor = $5)
                 and ($6::bigint is null or seq < $6)
               order by seq desc limit $7""",
            scope_patterns(principal.areas),
            principal.role is Role.ADMIN,
            object_type,
            object_id,
            actor,
            before,
            min(max(limit, 1), 500) + 1,
        )
    page = rows[: min(max(limit, 1), 500)]
    more = len(rows) > len(page)
    return AuditPage(
        items=[AuditEntryPublic.model_validate(dict(r)) for r in page],
        next_cursor=encode_cursor(page[-1]["seq"]) if more else None,
    )


@router.get("/verification", response_model=Verification)
async def verification(request: Request, principal: Auditor) -> Verification:
    """Recompute the whole chain now (also: python -m shaobing_runtime.audit verify).

    The one unscoped read of the api: the chain spans every area, and only its soundness and
    length are answered, no entry.
    """
    async with request.app.state.pool.acquire() as conn:
        broken = await audit.verify(conn)
        count = await conn.fetchval("select count(*) from audit_log")
    return Verification(intact=broken is None, entries=count, broken_at=broken)
