"""Consumes alerts.v1, notifications.v1 and dead-letters.v1 in batches; offsets are committed
only after the batch is durable."""

from __future__ import annotations

import time
from collections.abc import Sequence

import asyncpg
import structlog
from aiokafka.structs import ConsumerRecord
from prometheus_client import Counter, Histogram
from pydantic import ValidationError

from shaobing_contracts.alert import AlertRaised
from shaobing_contracts.codec import decode, decode_alert_message, decode_notification_message
from shaobing_contracts.dead_letter import DeadLetter
from shaobing_contracts.topics import Topic
from shaobing_runtime.consuming import BatchConsumer
from shaobing_runtime.dead_letters import keep_dead_letters
from shaobing_runtime.kafka import header

from ..adapters.alert_store import keep_rejected, restore_alerts, store_alerts, withdraw_alerts
from ..adapters.notification_store import Kept, keep_notifications
from ..domain.last_word import last_word

log = structlog.get_logger()
STORED = Counter(
    "shaobing_alerts_stored_total",
    "Messages by what they did: new, duplicate, restored, withdrawn (alerts); notification,"
    " notification_restored, notification_withdrawn",
    ["outcome"],
)
REJECTED = Counter("shaobing_alerts_rejected_messages_total", "alerts.v1 messages not decodable")
INGEST_TO_ALERT = Histogram(
    "shaobing_ingest_to_alert_seconds",
    "From ingest of the evidence to the stored alert row",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)


SOURCE_TO_ALERT = Histogram(
    "shaobing_source_to_alert_seconds",
    "From the source system's record of the deciding event to the stored alert",
    buckets=(1, 5, 30, 60, 300, 900, 3600, 4 * 3600, 86400, 7 * 86400),
)


class AlertConsumer:
    """alerts.v1, notifications.v1 and dead-letters.v1 into PostgreSQL, a batch at a time
    (shaobing_runtime.consuming: stored before committed, retried while the database is away,
    a message that cannot be stored set aside as a dead letter)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        bootstrap: str,
        group: str,
        batch_size: int,
        options: dict[str, str] | None = None,
    ):
        self._pool = pool
        self.loop = BatchConsumer(
            bootstrap=bootstrap,
            topics=(Topic.ALERTS, Topic.NOTIFICATIONS, Topic.DEAD_LETTERS),
            group=group,
            handle=self._store,
            set_aside=self._set_aside,
            batch_size=batch_size,
            options=options,
        )

    async def _set_aside(self, message: ConsumerRecord, exc: Exception) -> None:
        """A message that cannot be stored, kept as a dead letter with the reason."""
        REJECTED.inc()
        async with self._pool.acquire() as conn:
            await keep_rejected(conn, [(message, f"cannot be stored: {exc}")])

    async def _store(self, messages: Sequence[ConsumerRecord]) -> None:
        decoded, rejected, notifications, letters = [], [], [], []
        for message in messages:
            try:
                if message.topic == Topic.NOTIFICATIONS:
                    notifications.append(decode_notification_message(message.value))
                    continue
                if message.topic == Topic.DEAD_LETTERS:  # ingest's are kept already: not doubled
                    letters.append(decode(DeadLetter, message.value))
                    continue
                alert = decode_alert_message(message.value)
            except ValidationError as exc:
                REJECTED.inc()
                log.error(
                    "alert_message_rejected",
                    topic=message.topic,
                    partition=message.partition,
                    offset=message.offset,
                )
                rejected.append((message, f"not an alert message: {_first_error(exc)}"))
                continue
            decoded.append((alert, header(message.headers, "correlation_id")))
        settled = last_word(decoded)
        raised, withdrawn = settled.raised, settled.withdrawn
        alerts = [a for a, _ in raised]
        async with self._pool.acquire() as conn, conn.transaction():
            new = await store_alerts(conn, alerts, [cid for _, cid in raised])
            restored = await restore_alerts(conn, [a.id for a in alerts])
            gone = await withdraw_alerts(conn, withdrawn)
            kept = await keep_notifications(conn, notifications)
            await keep_rejected(conn, rejected)
            await keep_dead_letters(conn, letters)
        self._count(alerts, new, restored, gone)
        _count_notifications(kept)

    def _count(self, alerts: list[AlertRaised], new: set, restored: int, gone: int) -> None:
        STORED.labels("new").inc(len(new))
        STORED.labels("duplicate").inc(len(alerts) - len(new) - restored)
        STORED.labels("restored").inc(restored)
        STORED.labels("withdrawn").inc(gone)
        now = time.time()
        for alert in alerts:
            if alert.id in new and alert.evidence:
                ingested = min(e.provenance.ingested_at for e in alert.evidence)
                INGEST_TO_ALERT.observe(max(0.0, now - ingested.timestamp()))
                recorded = max(e.recorded_at for e in alert.evidence)
                SOURCE_TO_ALERT.observe(max(0.0, now - recorded.timestamp()))
        if new or restored or gone:
            log.info("alerts_stored", new=len(new), restored=restored, withdrawn=gone)


def _first_error(exc: ValidationError) -> str:
    return exc.errors()[0]["msg"] if exc.errors() else str(exc)


def _count_notifications(kept: Kept) -> None:
    STORED.labels("notification").inc(kept.new)
    STORED.labels("notification_restored").inc(kept.restored)
    STORED.labels("notification_withdrawn").inc(kept.withdrawn)
