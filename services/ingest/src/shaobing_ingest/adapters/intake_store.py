"""Accepted input into PostgreSQL before anything is published: events, last rows, dead letters."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import asyncpg
import orjson

from shaobing_contracts.codec import encode
from shaobing_contracts.dead_letter import DeadLetter, cut_raw
from shaobing_contracts.death import SourceEvent
from shaobing_contracts.topics import Topic
from shaobing_runtime.dead_letters import keep_dead_letters, without_nul
from shaobing_runtime.event_log import OutgoingEvent, append

from ..domain.intake import Intake, RowKey

_DEAD_LETTERS = uuid.UUID("8e0b1d9f-2c55-4f0e-b1f7-6a3b2a4c9d01")
_WHOLE_AT = "ingest's dead_letters table (GET /v1/dead-letters)"
TOPIC_OF_SOURCE: dict[str, str] = {  # the names as plain text: Enum.value costs per event
    "death": Topic.DEATH.value,
    "hukou": Topic.HUKOU.value,
    "marriage": Topic.MARRIAGE.value,
    "social_security": Topic.SOCIAL_SECURITY.value,
}


async def previous_rows(conn: asyncpg.Connection, keys: Iterable[RowKey]) -> dict[RowKey, dict]:
    """The last row ingest accepted for each upstream key (JSON form)."""
    wanted = [{"t": t, "k": k} for t, k in set(keys)]
    if not wanted:
        return {}
    rows = await conn.fetch(
        """select source_table, primary_key, row from source_rows
           where (source_table, primary_key) in
                 (select * from json_to_recordset(convert_from($1::bytea, 'UTF8')::json)
                        as batch(t text, k text))""",
        orjson.dumps(wanted),
    )
    return {(r["source_table"], r["primary_key"]): r["row"] for r in rows}


async def store_intake(
    conn: asyncpg.Connection, intake: Intake, source: str, headers: dict[str, str]
) -> set[UUID]:
    """Store new events and the rows they came from; returns the event ids not seen before."""
    events = [_outgoing(e, source, headers) for e in intake.events]
    new_ids = await append(conn, events)
    changed = [{"t": k[0], "k": k[1], "r": v} for k, v in intake.rows.items() if v is not None]
    deleted = [k for k, v in intake.rows.items() if v is None]
    await conn.execute(
        """insert into source_rows (source_table, primary_key, row)
           select t, k, r
           from json_to_recordset(convert_from($1::bytea, 'UTF8')::json)
                as batch(t text, k text, r jsonb)
           on conflict (source_table, primary_key)
           do update set row = excluded.row, updated_at = now()""",
        orjson.dumps(changed, default=str),  # one document: see event_log.append
    )
    if deleted:
        await conn.execute(
            """delete from source_rows where (source_table, primary_key) in
               (select * from unnest($1::text[], $2::text[]))""",
            [k[0] for k in deleted],
            [k[1] for k in deleted],
        )
    return new_ids


def _outgoing(event: SourceEvent, source: str, headers: dict[str, str]) -> OutgoingEvent:
    return OutgoingEvent(
        event_id=event.event_id,
        topic=TOPIC_OF_SOURCE[source],
        key=event.id_number,
        value=encode(event),
        recorded_at=event.recorded_at,
        headers=headers,
    )


def dead_letter_for(
    *,
    source: str,
    item: int,
    raw: bytes,
    field: str | None,
    reason: str,
    received_at: datetime,
    correlation_id: str | None,
) -> DeadLetter:
    """Same input, same reason → same dead letter (re-posting a bad item adds nothing)."""
    digest = hashlib.sha256(raw).hexdigest()
    return DeadLetter(
        id=uuid.uuid5(_DEAD_LETTERS, f"{source}|{digest}|{field}|{reason}"),
        service="ingest",
        source=source,
        item=item,
        field=without_nul(field),
        reason=without_nul(reason),
        raw=without_nul(raw.decode("utf-8", "replace")),
        received_at=received_at,
        correlation_id=correlation_id,
    )


async def store_dead_letters(conn: asyncpg.Connection, letters: list[DeadLetter]) -> None:
    """Keep dead letters queryable and publish them through the event log."""
    if not letters:
        return
    await keep_dead_letters(conn, letters)
    await append(
        conn,
        [
            OutgoingEvent(
                event_id=d.id,
                topic=Topic.DEAD_LETTERS.value,
                key=d.source,
                value=encode(d.model_copy(update={"raw": cut_raw(d.raw, _WHOLE_AT)})),
            )
            for d in letters
        ],
    )


async def record_receipt(conn: asyncpg.Connection, source: str, items: int) -> None:
    """The feed delivered `items` now (in the batch's transaction)."""
    await conn.execute(
        """insert into source_feeds (source, last_received_at, items_received)
           values ($1, clock_timestamp(), $2)
           on conflict (source) do update set last_received_at = excluded.last_received_at,
               items_received = source_feeds.items_received + excluded.items_received""",
        source,
        items,
    )


async def feed_receipts(conn: asyncpg.Connection) -> dict[str, datetime]:
    rows = await conn.fetch("select source, last_received_at from source_feeds")
    return {r["source"]: r["last_received_at"] for r in rows}
