"""One parsed batch of changes into PostgreSQL, the same way for every way in (CDC, CSV)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

import prometheus_client
from pydantic import BaseModel
from starlette.datastructures import State

from shaobing_contracts.provenance import Channel
from shaobing_runtime.logging import correlation_id
from shaobing_runtime.periodic import every

from ..adapters.intake_store import (
    dead_letter_for,
    feed_receipts,
    previous_rows,
    record_receipt,
    store_dead_letters,
    store_intake,
)
from ..domain.cdc.changes import RowChange
from ..domain.cdc.stored_rows import decode_stored_rows
from ..domain.intake import Intake, ItemOutcome, derive, row_key
from ..domain.sources.tables import TABLES

ITEMS = prometheus_client.Counter(
    "shaobing_ingest_items_total", "Posted items by outcome", ["source", "outcome", "reason"]
)
LAST_RECEIVED = prometheus_client.Gauge(
    "shaobing_ingest_last_event_timestamp_seconds",
    "When the source feed last delivered anything (kept in source_feeds across restarts)",
    ["source"],
)


class Rejection(BaseModel):
    index: int  # the item's position (CDC) or the row's line number (CSV)
    field: str | None
    reason: str


class IntakeCounts(BaseModel):
    accepted: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    ignored: int = 0
    rejections: list[Rejection] = []
    ignored_items: list[Rejection] = []


COUNTS = ("accepted", "duplicates", "dead_lettered", "ignored")


class IntakeResult(IntakeCounts):
    event_ids: list[UUID] = []


async def store_batch(
    state: State,
    parsed: list[RowChange | ItemOutcome],
    raw_of: Callable[[int], bytes],
    numbers: list[int],
    *,
    source: str,
    channel: Channel,
) -> IntakeResult:
    """Derive, store and dead-letter one batch in one transaction; numbers name each item.

    `raw_of(i)` is item i's input as received, asked for only when it is dead-lettered.

    `state` is the app state holding the pool and the event-log relay.
    """
    now = datetime.now(UTC)
    async with state.pool.acquire() as conn, conn.transaction():
        keys = [row_key(c) for c in parsed if not isinstance(c, ItemOutcome)]
        stored = decode_stored_rows(await previous_rows(conn, keys))
        intake = derive(parsed, stored, channel=channel, ingested_at=now)
        headers = {"correlation_id": correlation_id.get() or ""}
        new_ids = await store_intake(conn, intake, source, headers)
        letters = [
            dead_letter_for(
                source=source,
                item=numbers[o.index],
                raw=raw_of(o.index),
                field=o.field,
                reason=o.reason or "",
                received_at=now,
                correlation_id=correlation_id.get(),
            )
            for o in intake.outcomes
            if o.status == "dead_lettered"
        ]
        await store_dead_letters(conn, letters)
        await record_receipt(conn, source, len(parsed))
    LAST_RECEIVED.labels(source).set(now.timestamp())
    state.relay.wake()
    return _result(intake, new_ids, source, numbers)


_KNOWN_FIELDS = {c for t in TABLES.values() for c in t.columns}


def _metric_field(field: str | None) -> str:
    """Bounded label values: a client can name any column, the metric keeps the known ones."""
    if field is None:
        return "item"
    return (
        field
        if field in _KNOWN_FIELDS or (field.startswith("source.") and len(field) < 40)
        else "other"
    )


def _result(intake: Intake, new_ids: set, source: str, numbers: list[int]) -> IntakeResult:
    result = IntakeResult(event_ids=[e.event_id for e in intake.events])
    counted: Counter[tuple[str, str]] = Counter()
    for outcome in intake.outcomes:
        status = outcome.status
        if status == "accepted" and not any(e.event_id in new_ids for e in outcome.events):
            status = "duplicates"
        counted[status, _metric_field(outcome.field) if status == "dead_lettered" else ""] += 1
        if status in ("dead_lettered", "ignored"):
            entry = Rejection(
                index=numbers[outcome.index], field=outcome.field, reason=outcome.reason or ""
            )
            (result.rejections if status == "dead_lettered" else result.ignored_items).append(entry)
    for (status, reason), count in counted.items():
        setattr(result, status, getattr(result, status) + count)
        ITEMS.labels(source, status, reason).inc(count)
    return result


async def follow_feeds(state: State, every_seconds: float = 60) -> None:
    """The last receipt per source from the database (other replicas, before a restart)."""

    async def follow() -> None:
        async with state.pool.acquire() as conn:
            for source, at in (await feed_receipts(conn)).items():
                LAST_RECEIVED.labels(source).set(at.timestamp())

    await every(every_seconds, follow, name="feed_receipts")
