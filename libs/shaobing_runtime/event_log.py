"""The durable log of everything a service accepted, and the relay that publishes it to Kafka.

Input is stored here in the same transaction as the service's own rows, before anything is sent
(the transactional-outbox pattern). The relay publishes rows in order and marks them; a crash
between send and mark re-sends, which consumers absorb through deterministic event ids. Replay
is clearing the mark.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
import orjson
import prometheus_client
import structlog
from aiokafka import AIOKafkaProducer

from .record_batches import RecordBatches

log = structlog.get_logger()
PUBLISHED = prometheus_client.Counter(
    "shaobing_event_log_published_total", "Events published by the relay", ["topic"]
)


_RELAY_LOCK = 0x5348_414F_4249_4E47 >> 1  # "SHAOBING", a bigint advisory-lock key


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
    """Queue already-published events (accepted in [since, until)) to be published again."""
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


_PRUNE_LOCK = _RELAY_LOCK - 1
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
    while retention_days > 0:
        try:
            async with pool.acquire() as conn:
                await prune(conn, older_than=timedelta(days=retention_days))
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("event_log_prune_failed", error=str(exc))
        await asyncio.sleep(every_seconds)


class Relay:
    """Publishes unpublished event-log rows in order; wake() after a commit for low latency."""

    def __init__(self, pool: asyncpg.Pool, producer: AIOKafkaProducer, *, batch: int = 2000):
        self._pool, self._producer, self._batch = pool, producer, batch
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, idle_seconds: float = 1.0) -> None:
        while True:
            try:
                while await self.publish_pending() == self._batch:
                    pass
            except Exception:
                log.exception("relay_publish_failed")
                await asyncio.sleep(idle_seconds)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), idle_seconds)

    async def publish_pending(self) -> int:
        """Publish one batch; returns how many rows it published."""
        async with self._pool.acquire() as conn, conn.transaction():
            # One publisher at a time (any service, any replica): batches leave in seq order,
            # so events of one person keep their order on the topic.
            if not await conn.fetchval("select pg_try_advisory_xact_lock($1)", _RELAY_LOCK):
                return 0
            rows = await conn.fetch(
                """select seq, topic, key, value, headers::text from event_log
                   where published_at is null order by seq limit $1""",
                self._batch,
            )
            if not rows:
                return 0
            await self._send(rows)
            await conn.execute(  # the seqs as one array literal: see _APPEND
                "update event_log set published_at = now() where seq = any($1::text::int8[])",
                "{" + ",".join([str(r[0]) for r in rows]) + "}",
            )
        for topic, count in Counter(r["topic"] for r in rows).items():
            PUBLISHED.labels(topic).inc(count)
        return len(rows)

    async def _send(self, rows: Sequence[asyncpg.Record]) -> None:
        """Rows as one record batch per topic partition, each partition's rows in seq order.

        Keys are hashed to partitions as every Kafka client does, so consumers co-partition.
        """
        batches = RecordBatches(self._producer)
        headers_of: dict[str, list[tuple[str, bytes]]] = {}  # a batch's rows share a few
        for row in rows:
            headers = headers_of.get(row["headers"])
            if headers is None:
                headers = headers_of[row["headers"]] = _header_list(row["headers"])
            await batches.add(row["topic"], row["key"].encode(), row["value"], headers=headers)
        await batches.send()


def _header_list(json_text: str | None) -> list[tuple[str, bytes]]:
    return [(k, v.encode()) for k, v in orjson.loads(json_text or "{}").items()]
