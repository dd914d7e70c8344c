"""GET /v1/audit and /v1/audit/verification: the audit trail, for auditors, in their areas; and
the chain's anchoring outside the database, every AUDIT_ANCHOR_SECONDS."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

import prometheus_client
import structlog
from fastapi import APIRouter, Request
from pydantic import BaseModel

from shaobing_runtime import audit
from shaobing_runtime.access import Principal, Role
from shaobing_runtime.audit_anchor import store_of
from shaobing_runtime.audit_chain import Verdict
from shaobing_runtime.database import scoped
from shaobing_runtime.http_auth import require
from shaobing_runtime.paging import CursorSeq, encode_cursor

from ..adapters.alert_queries import scope_patterns

router = APIRouter(prefix="/v1/audit", tags=["audit"])
Auditor = Annotated[Principal, require(Role.AUDITOR, Role.ADMIN)]

log = structlog.get_logger()
CHAIN_BROKEN = prometheus_client.Gauge(
    "shaobing_audit_chain_broken",
    "1 when the audit entries since the latest anchor did not hold as the api last checked them",
)
ANCHORED = prometheus_client.Gauge(
    "shaobing_audit_anchored_timestamp_seconds",
    "When the api last found the audit chain's head anchored outside the database (or empty)",
)


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
    broken_at: int | None  # the first entry that does not match, or the anchored one now gone
    reason: str | None
    anchored_seq: int | None  # the latest anchor outside the database (null: none)
    anchored_at: datetime | None

    @classmethod
    def of(cls, verdict: Verdict) -> Verification:
        broken, anchor = verdict.broken, verdict.anchor
        return cls(
            intact=verdict.intact,
            entries=verdict.entries,
            broken_at=broken.seq if broken else None,
            reason=broken.reason if broken else None,
            anchored_seq=anchor.seq if anchor else None,
            anchored_at=anchor.at if anchor else None,
        )


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
    """Recompute the whole chain now and hold it against the latest anchor (also: python -m
    shaobing_runtime.audit verify).

    The one unscoped read of the api: the chain spans every area, and only its soundness and
    length are answered, no entry.
    """
    settings = request.app.state.settings
    async with request.app.state.pool.acquire() as conn:
        verdict = await audit.verify(conn, settings.keyring(), store_of(settings))
    return Verification.of(verdict)


async def anchor_forever(state: Any) -> None:
    """Every AUDIT_ANCHOR_SECONDS: check the entries since the latest anchor and anchor the head
    they reach (nothing when none is configured: development without AUDIT_ANCHOR_DIR)."""
    store = store_of(state.settings)
    while store is not None:
        try:
            async with state.pool.acquire() as conn:
                verdict = await audit.anchor(conn, state.settings.keyring(), store)
            _watched(verdict)
        except Exception:  # the loop must outlive any one failure; it is logged and alerted on
            log.exception("audit_anchoring_failed")
        await asyncio.sleep(state.settings.audit_anchor_seconds)


def _watched(verdict: Verdict) -> None:
    CHAIN_BROKEN.set(not verdict.intact)
    if verdict.broken is None:
        ANCHORED.set_to_current_time()
    else:
        log.error("audit_chain_broken", seq=verdict.broken.seq, reason=verdict.broken.reason)
