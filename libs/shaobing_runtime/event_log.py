"""The durable log of everything a service accepted, before it is published to Kafka.

Input is stored here in the same transaction as the service's own rows, before anything is sent
(the transactional-outbox pattern). Each service's relay (relay.py) publishes its rows in order
and marks them; a crash between send and mark re-sends, which consumers absorb through
deterministic event ids. Replay is clearing the mark.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
import orjson
import prometheus_client
import structlog

from shaobing_contracts.topics import TOPICS

from .periodic import every

log = structlog.get_logger()
_PRUNE_LOCK = (0x5348_414F_4249_4E47 >> 1) - 1  # an advisory-lock key: one pruner at a time


@dataclass(slots=True)  # one per item: a frozen dataclass's __init__ costs 4x
class OutgoingEvent:
    event_id: UUID
    topic: str
    key: str
    value: bytes  # the message as sent: a contract's JSON (shaobing_contracts.codec.encode)
    recorded_at: datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)


# One JSON document per batch: asyncpg checks every element of an array parameter in Python,
# PostgreSQL reads the document in C (value: the message's own JSON, embedded as it is).
_APPEND = """
insert into event_log (event_id, topic, key, value, headers, recorded_at)
select e, t, k, convert_to(v::text, 'UTF8'), h, r
from json_to_recordset(convert_from($1::bytea, 'UTF8')::json)
     as batch(e uuid, t text, k text, v json, h jsonb, r timestamptz)
on conflict (event_id) do nothing
returning event_id
"""


async def append(conn: asyncpg.Connection, events: Sequence[OutgoingEvent]) -> set[UUID]:
    """Store events not seen before; returns the ids that were new (the rest are duplicates)."""
    if not events:
        return set()
    headers: dict[int, orjson.Fragment] = {}  # a batch shares one headers dict: encoded once
    for e in events:
        if id(e.headers) not in headers:
            headers[id(e.headers)] = orjson.Fragment(orjson.dumps(e.headers))
    document = orjson.dumps(
        [
            {
                "e": e.event_id,
                "t": e.topic,
                "k": e.key,
                "v": orjson.Fragment(e.value),
                "h": headers[id(e.headers)],
                "r": e.recorded_at,
            }
            for e in events
        ],
        option=orjson.OPT_NAIVE_UTC,
    )
    rows = await conn.fetch(_APPEND, document)
    return {r["event_id"] for r in rows}


async def mark_for_replay(
    conn: asyncpg.Connection,
    *,
    since: datetime | None,
    until: datetime | None,
    topics: Sequence[str] | None,
) -> int:
    """Queue already-published events (accepted in [since, until)) to be published again.

    It first waits for the batches the relays of those topics have in flight (their locks):
    a batch sent to a broker that lost it and marked published just after this update would
    otherwise be neither published nor replayed."""
    producers = {
        p for t, spec in TOPICS.items() if not topics or t in topics for p in spec.producers
    }
    async with conn.transaction():
        for service in sorted(producers):
            await conn.execute("select pg_advisory_xact_lock($1)", relay_lock(service))
        result = await conn.execute(
            """update event_log set published_at = null
               where published_at is not null
                 and ($1::timestamptz is null or accepted_at >= $1)
                 and ($2::timestamptz is null or accepted_at < $2)
                 and ($3::text[] is null or topic = any($3))""",
            since,
            until,
            list(topics) if topics else None,
        )
    return int(result.split()[-1])


def relay_lock(service: str) -> int:
    """The advisory-lock key of a service's relay: one replica publishes at a time, and a
    replay waits for the batch in flight."""
    digest = hashlib.sha256(f"shaobing-relay:{service}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


PRUNED = prometheus_client.Counter(
    "shaobing_event_log_pruned_total", "Published events deleted after the retention period"
)


async def prune(conn: asyncpg.Connection, *, older_than: timedelta, chunk: int = 10_000) -> int:
    """Delete published events accepted more than `older_than` ago; returns how many.

    Unpublished events are never deleted. Replay then reaches back only as far as the retention:
    an event re-posted after its row is gone is published again (consumers absorb it by id).
    """
    deleted = 0
    while True:
        async with conn.transaction():
            if not await conn.fetchval("select pg_try_advisory_xact_lock($1)", _PRUNE_LOCK):
                return deleted  # another replica prunes
            result = await conn.execute(
                """delete from event_log where seq in (
                       select seq from event_log
                       where accepted_at < now() - $1::interval and published_at is not null
                       order by accepted_at limit $2)""",
                older_than,
                chunk,
            )
        count = int(result.split()[-1])
        deleted += count
        PRUNED.inc(count)
        if count < chunk:
            return deleted


async def prune_forever(pool: asyncpg.Pool, retention_days: int, every_seconds: float) -> None:
    """prune() every `every_seconds`; retention_days 0 keeps everything."""

    async def prune_now() -> None:
        async with pool.acquire() as conn:
            await prune(conn, older_than=timedelta(days=retention_days))

    if retention_days > 0:
        await every(every_seconds, prune_now, name="event_log_prune")
