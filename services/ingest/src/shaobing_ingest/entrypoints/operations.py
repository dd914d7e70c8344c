"""GET /v1/dead-letters and POST /v1/replay: what operators need to fix and refill the feeds."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, model_validator

from shaobing_contracts.topics import Topic
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
    with the reason and the raw input."""
    async with request.app.state.pool.acquire() as conn:
        rows = await list_dead_letters(
            conn, source=source, field=field, limit=limit + 1, before_seq=before
        )
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1]["seq"]) if len(rows) > limit else None
    items = [DeadLetterPublic.model_validate({**dict(r), "id": str(r["id"])}) for r in page]
    return DeadLetterPage(items=items, next_cursor=next_cursor)


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
