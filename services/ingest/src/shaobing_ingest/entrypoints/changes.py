"""POST /v1/sources/{source}/changes: Debezium change events, one, an array or NDJSON.

A Debezium Server retries any non-2xx and then stops, so per-item problems are answered 2xx
with the item dead-lettered and reported; only a body that cannot be parsed at all is a 4xx.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from prometheus_client import Counter
from pydantic import BaseModel

from shaobing_contracts.provenance import Channel, SourceSystem
from shaobing_runtime.access import Principal, Role
from shaobing_runtime.http_auth import require
from shaobing_runtime.logging import correlation_id

from ..adapters.intake_store import (
    dead_letter_for,
    previous_rows,
    store_dead_letters,
    store_intake,
)
from ..domain.body import BodyItem, UnparseableBody, split_body
from ..domain.intake import Intake, Outcome, changes_of, derive, row_key
from ..domain.stored_rows import decode_stored_rows

router = APIRouter(prefix="/v1/sources", tags=["sources"])
Feed = Annotated[Principal, require(Role.FEED, Role.ADMIN)]
ITEMS = Counter(
    "shaobing_ingest_items_total", "Posted items by outcome", ["source", "outcome", "reason"]
)


class Rejection(BaseModel):
    index: int
    field: str | None
    reason: str


class ChangesResult(BaseModel):
    accepted: int
    duplicates: int
    dead_lettered: int
    ignored: int
    event_ids: list[str]
    rejections: list[Rejection]
    ignored_items: list[Rejection]


@router.post("/{source}/changes", response_model=ChangesResult)
async def post_changes(request: Request, source: SourceSystem, principal: Feed) -> ChangesResult:
    """Accept Debezium change events for one source system; see the module docstring."""
    items = _items(await _read_body(request))
    now = datetime.now(UTC)
    parsed = changes_of(items, source)
    pool = request.app.state.pool
    async with pool.acquire() as conn, conn.transaction():
        keys = [row_key(c) for c in parsed if not isinstance(c, Outcome)]
        stored = decode_stored_rows(await previous_rows(conn, keys))
        intake = derive(parsed, stored, channel=Channel.DEBEZIUM_HTTP, ingested_at=now)
        headers = {"correlation_id": correlation_id.get() or ""}
        new_ids = await store_intake(conn, intake, source.value, headers)
        await store_dead_letters(conn, _dead_letters(intake, items, source.value, now))
    request.app.state.relay.wake()
    return _result(intake, new_ids, source.value)


async def _read_body(request: Request) -> bytes:
    limit = request.app.state.settings.max_body_bytes
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"body: larger than {limit} bytes")
    return bytes(body)


def _items(body: bytes) -> list[BodyItem]:
    try:
        return split_body(body)
    except UnparseableBody as exc:
        raise HTTPException(400, f"body: {exc}") from exc


def _dead_letters(intake: Intake, items: list[BodyItem], source: str, now: datetime) -> list:
    return [
        dead_letter_for(
            source=source,
            item=o.index,
            raw=items[o.index].raw,
            field=o.field,
            reason=o.reason or "",
            received_at=now,
            correlation_id=correlation_id.get(),
        )
        for o in intake.outcomes
        if o.status == "dead_lettered"
    ]


def _result(intake: Intake, new_ids: set, source: str) -> ChangesResult:
    counts = {"accepted": 0, "duplicates": 0, "dead_lettered": 0, "ignored": 0}
    rejections, ignored = [], []
    for outcome in intake.outcomes:
        status = outcome.status
        if status == "accepted" and not any(e.event_id in new_ids for e in outcome.events):
            status = "duplicates"
        counts[status] += 1
        ITEMS.labels(source, status, outcome.field or "" if status == "dead_lettered" else "").inc()
        entry = Rejection(index=outcome.index, field=outcome.field, reason=outcome.reason or "")
        if status == "dead_lettered":
            rejections.append(entry)
        elif status == "ignored":
            ignored.append(entry)
    return ChangesResult(
        **counts,
        event_ids=[str(e.event_id) for e in intake.events],
        rejections=rejections,
        ignored_items=ignored,
    )
