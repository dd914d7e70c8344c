"""Each publishing service's relay: its own unpublished event-log rows to Kafka, in order.

- **Only its own topics** (`shaobing_contracts.topics`: the topics the service produces), so it
  works under per-service Kafka ACLs (deploy/k8s, Strimzi KafkaUsers); one relay per service
  publishes at a time (an advisory lock per service): a topic's rows leave in `seq` order, so a
  person's events keep their order.
- **Never blocked at the head**: a row larger than the broker takes (`KAFKA_MAX_MESSAGE_BYTES`)
  is set aside (`event_log.set_aside` says why; it stays in the log, counted and logged) and
  the rows behind it go on.
- **Through its dependencies' failures**: a batch that fails is tried again after a pause
  growing to 5 s; with the broker away the service still accepts (the rows wait here), and
  readiness says the service is degraded; any other failure that lasts makes it unready.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Sequence

import asyncpg
import orjson
import prometheus_client
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, KafkaTimeoutError

from shaobing_contracts.topics import produced_by

from .database import is_transient
from .event_log import relay_lock
from .health import Degraded, LoopHealth
from .record_batches import RecordBatches

log = structlog.get_logger()
PUBLISHED = prometheus_client.Counter(
    "shaobing_event_log_published_total", "Events published by the relay", ["topic"]
)
SET_ASIDE = prometheus_client.Counter(
    "shaobing_event_log_set_aside_total",
    "Event-log rows the relay could not publish (larger than the broker takes): kept, not sent",
    ["topic"],
)
FAILING = prometheus_client.Gauge(
    "shaobing_event_log_relay_failing", "1 while the relay's last attempt failed", ["service"]
)
UNPUBLISHED = prometheus_client.Gauge(
    "shaobing_event_log_unpublished",
    "Rows of the service's topics accepted and not yet published",
    ["service"],
)
OLDEST = prometheus_client.Gauge(
    "shaobing_event_log_oldest_unpublished_seconds",
    "Age of the oldest row of the service's topics not yet published; 0 when none waits",
    ["service"],
)

# Per topic, the oldest unpublished rows (index event_log_unpublished: topic, seq), merged.
_PENDING = """
select e.seq, e.topic, e.key, e.value, e.headers, octet_length(e.value) + octet_length(e.key)
       as size
from unnest($2::text[]) as t(topic)
cross join lateral (
    select seq, topic, key, value, headers::text as headers from event_log
    where event_log.topic = t.topic and published_at is null and set_aside is null
    order by seq limit $1
) e
order by e.seq limit $1
"""
_BACKLOG = """
select count(*), extract(epoch from now() - min(accepted_at)) from event_log
where topic = any($1::text[]) and published_at is null and set_aside is null
"""


class Relay:
    """Publishes `service`'s unpublished rows in order, once run with a producer; wake() after a
    commit for low latency."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        service: str,
        batch: int = 2000,
        max_message_bytes: int = 1_000_000,
    ):
        self._pool, self._batch = pool, batch
        self._producer: AIOKafkaProducer
        self._service, self._topics = service, list(produced_by(service))
        self._max_bytes = max_message_bytes
        self._lock = relay_lock(service)
        self._wake = asyncio.Event()
        self.health = LoopHealth()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, producer: AIOKafkaProducer, idle_seconds: float = 1.0) -> None:
        """Publish with `producer` whenever woken, and every `idle_seconds`, until cancelled."""
        self._producer = producer
        try:
            while True:
                await self._publish_all()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), idle_seconds)
        except BaseException as exc:
            self.health.stopped = type(exc).__name__
            raise

    async def _publish_all(self) -> None:
        """Batch after batch until fewer than a full batch wait; a failure pauses, then ends
        this round (the next one tries again)."""
        try:
            while await self.publish_pending() == self._batch:
                pass
        except Exception as exc:
            pause = self.health.failed(exc, passes=_passes(exc))
            FAILING.labels(self._service).set(1)
            log.warning("relay_publish_failed", service=self._service, error=self.health.error)
            await asyncio.sleep(pause)
            return
        self.health.succeeded()
        FAILING.labels(self._service).set(0)

    async def publish_pending(self) -> int:
        """Publish one batch; returns how many rows it took (published or set aside)."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("select pg_try_advisory_xact_lock($1)", self._lock):
                return 0  # another replica of the service publishes
            rows = await conn.fetch(_PENDING, self._batch, self._topics)
            fitting = [r for r in rows if r["size"] <= self._max_bytes]
            await self._send(fitting)
            await self._set_aside(conn, [r for r in rows if r["size"] > self._max_bytes])
            await conn.execute(  # the seqs as one array literal: see event_log._APPEND
                "update event_log set published_at = now() where seq = any($1::text::int8[])",
                "{" + ",".join([str(r[0]) for r in fitting]) + "}",
            )
        for topic, count in Counter(r["topic"] for r in fitting).items():
            PUBLISHED.labels(topic).inc(count)
        return len(rows)

    async def _set_aside(self, conn: asyncpg.Connection, rows: Sequence[asyncpg.Record]) -> None:
        for row in rows:
            reason = f"{row['size']} bytes: more than KAFKA_MAX_MESSAGE_BYTES ({self._max_bytes})"
            await conn.execute("update event_log set set_aside = $2 where seq = $1", row[0], reason)
            SET_ASIDE.labels(row["topic"]).inc()
            log.error("event_set_aside", seq=row[0], topic=row["topic"], reason=reason)

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

    async def measure_backlog(self) -> None:
        """The rows waiting to be published, and the age of the oldest, as gauges."""
        async with self._pool.acquire() as conn:
            count, age = await conn.fetchrow(_BACKLOG, self._topics)
        UNPUBLISHED.labels(self._service).set(count)
        OLDEST.labels(self._service).set(float(age or 0))

    async def check(self) -> None:
        """Readiness: unready when the relay ended or fails for a reason that does not pass by
        itself; degraded (still accepting) while the broker or the database is away."""
        problem = self.health.problem()
        if problem is None:
            return
        if self.health.passes and not self.health.stopped:
            raise Degraded(f"not publishing, {problem} (what is accepted waits in the event log)")
        raise RuntimeError(f"relay {problem}")


def _passes(exc: BaseException) -> bool:
    """A broker or database away (or restarting, or slow): it ends by itself."""
    if isinstance(exc, KafkaError):
        return bool(exc.retriable) or isinstance(exc, KafkaTimeoutError)
    return is_transient(exc)


def _header_list(json_text: str | None) -> list[tuple[str, bytes]]:
    return [(k, v.encode()) for k, v in orjson.loads(json_text or "{}").items()]
