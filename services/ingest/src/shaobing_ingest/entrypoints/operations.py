"""GET /v1/dead-letters and POST /v1/replay: what operators need to fix and refill the feeds."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, model_validator

from shaobing_contracts.id_number import mask_id_numbers_in
from shaobing_contracts.topics import Topic
from shaobing_runtime import audit
from shaobing_runtime.access import Principal, Role
from shaobing_runtime.http_auth import require
from shaobing_runtime.paging import CursorSeq, encode_cursor

from ..adapters.operations_store import list_dead_letters, replay

router = APIRouter(prefix="/v1", tags=["operations"])
Operator = Annotated[Principal, require(Role.OPS, Role.ADMIN)]


class DeadLetterPublic(BaseModel):
    id: str
    service: str  # which service could not take it: ingest, matcher, alerts
    source: str
    item: int | None
    field: str | None
    reason: str
    raw: str
    received_at: datetime
    correlation_id: str | None


class DeadLetterPage(BaseModel):
    items: list[DeadLetterPublic]
    next_cursor: str | None


class ReplayRequest(BaseModel):
    since: datetime | None = None
    until: datetime | None = None
    topics: list[Topic] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ReplayRequest:
        if self.since and self.until and self.since >= self.until:
            raise ValueError("since must be before until")
        return self


class ReplayResult(BaseModel):
    queued: int


@router.get("/dead-letters", response_model=DeadLetterPage)
async def dead_letters(
    request: Request,
    principal: Operator,
    source: str | None = None,
    field: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: CursorSeq = None,
) -> DeadLetterPage:
    """What could not be accepted — by ingest, the matcher or the alerts service — newest first,
    with the reason and the raw input: in full for the roles that see full records (admin),
    with its ID numbers masked for the others. Each read is an entry of the audit trail."""
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        rows = await list_dead_letters(
            conn, source=source, field=field, limit=limit + 1, before_seq=before
        )
        page = rows[:limit]
        query = {"source": source, "field": field, "limit": limit, "before": before}
        await _record_read(conn, principal, page, query)
    next_cursor = encode_cursor(page[-1]["seq"]) if len(rows) > limit else None
    items = [_as_seen(row, principal) for row in page]
    return DeadLetterPage(items=items, next_cursor=next_cursor)


def _as_seen(row: asyncpg.Record, viewer: Principal) -> DeadLetterPublic:
    """The letter as the viewer may see it: ID-number-shaped runs masked as in the logs."""
    letter = DeadLetterPublic.model_validate({**dict(row), "id": str(row["id"])})
    if viewer.sees_full_ids:
        return letter
    masked = {name: mask_id_numbers_in(getattr(letter, name)) for name in ("raw", "reason")}
    return letter.model_copy(update=masked)


async def _record_read(
    conn: asyncpg.Connection, viewer: Principal, page: list[asyncpg.Record], query: dict
) -> None:
    """Who read which dead letters with which query, and whether the raw input was in full.
    Dead letters belong to no area: the entries are admins' to review (GET /v1/audit)."""
    if not page:
        return
    ids = [str(row["id"]) for row in page]
    asked = {name: value for name, value in query.items() if value is not None}
    entry = audit.entry_of(
        viewer,
        "dead_letter.list_read",
        "dead_letter",
        ids[0],
        None,
        ids=ids,
        query=asked,
        raw_shown=viewer.sees_full_ids,
    )
    await audit.append(conn, [entry])


@router.post("/replay", response_model=ReplayResult)
async def post_replay(request: Request, principal: Operator, body: ReplayRequest) -> ReplayResult:
    """Publish accepted events again (all, or a window): refills a fresh broker idempotently."""
    queued = await replay(
        request.app.state.pool,
        since=body.since,
        until=body.until,
        topics=[t.value for t in body.topics] if body.topics else None,
    )
    request.app.state.relay.wake()
    return ReplayResult(queued=queued)
