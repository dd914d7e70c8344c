"""Consumes alerts.v1 in batches; offsets are committed only after the batch is durable."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer
from prometheus_client import Counter, Histogram
from pydantic import ValidationError

from shaobing_contracts.alert import AlertRaised
from shaobing_contracts.codec import decode
from shaobing_contracts.topics import Topic
from shaobing_runtime.kafka import header

from ..adapters.alert_store import keep_rejected, store_alerts

log = structlog.get_logger()
STORED = Counter("shaobing_alerts_stored_total", "Alerts stored", ["outcome"])
REJECTED = Counter("shaobing_alerts_rejected_messages_total", "alerts.v1 messages not decodable")
INGEST_TO_ALERT = Histogram(
    "shaobing_ingest_to_alert_seconds",
    "From ingest of the evidence to the stored alert row",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)


class AlertConsumer:
    def __init__(self, pool: asyncpg.Pool, bootstrap: str, group: str, batch_size: int):
        self._pool, self._batch_size = pool, batch_size
        self._consumer = AIOKafkaConsumer(
            Topic.ALERTS,
            bootstrap_servers=bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
        )
        self.assigned = False

    async def run(self) -> None:
        await self._consumer.start()
        try:
            while True:
                batches = await self._consumer.getmany(timeout_ms=500, max_records=self._batch_size)
                self.assigned = bool(self._consumer.assignment())
                messages = [m for batch in batches.values() for m in batch]
                if messages:
                    await self._store(messages)
                    await self._consumer.commit()
        finally:
            await self._consumer.stop()

    async def _store(self, messages: list) -> None:
        alerts, cids, rejected = [], [], []
        for message in messages:
            try:
                alerts.append(decode(AlertRaised, message.value))
                cids.append(header(message.headers, "correlation_id"))
            except ValidationError as exc:
                REJECTED.inc()
                log.error(
                    "alert_message_rejected",
                    topic=message.topic,
                    partition=message.partition,
                    offset=message.offset,
                )
                rejected.append((message, exc))
        async with self._pool.acquire() as conn, conn.transaction():
            new = await store_alerts(conn, alerts, cids)
            await keep_rejected(conn, rejected)
        STORED.labels("new").inc(new)
        STORED.labels("duplicate").inc(len(alerts) - new)
        now = time.time()
        for alert in alerts:
            ingested = min(e.provenance.ingested_at for e in alert.evidence)
            INGEST_TO_ALERT.observe(max(0.0, now - ingested.timestamp()))
        if new:
            log.info("alerts_stored", new=new, duplicates=len(alerts) - new)


async def run_forever(consumer: AlertConsumer) -> None:
    """Keep consuming; a broken broker connection is retried, never silently ends the loop."""
    while True:
        try:
            await consumer.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("alert_consumer_failed")
            await asyncio.sleep(2)
