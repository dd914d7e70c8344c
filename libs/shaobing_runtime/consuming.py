"""A consumer group read batch after batch, each stored durably before its offsets are committed,
through whatever its dependencies do: the one loop of the alerts service and of ingest's reader of
Debezium topics (the matcher's batched streams report their health the same way).

- A batch whose storing fails for a reason that passes (the database stopped, restarting, a
  connection ended, a lock or a timeout: `database.is_transient`) is stored again, with a growing
  pause up to 5 s, until it succeeds: nothing is fetched meanwhile (backpressure: at most one
  batch in memory), and work resumes by itself within seconds of the dependency's return.
- A batch that fails for any other reason is stored one message at a time; a message that still
  fails is set aside (a dead letter with the reason) and the rest goes on: poison never blocks
  the queue.
- Anything wrong with the broker or the group (a commit refused after a rebalance, a broker
  gone) ends this consumer: a new one joins the group and reads on from the last commit (what
  was stored but not committed comes again and is absorbed by its ids). A position beyond a
  partition's end (the broker lost its log) is reset to its beginning (`auto_offset_reset`).

`ConsumerHealth` says what readiness and the metrics need: assigned or not, failing since when
and why, and when the consumer last made progress (a batch stored and committed, or a poll that
found it caught up).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from prometheus_client import Gauge

from .database import is_transient
from .health import LoopHealth
from .lag import ConsumerLag

log = structlog.get_logger()
PROGRESS = Gauge(
    "shaobing_consumer_progress_timestamp_seconds",
    "When the consumer last made progress: a batch stored and committed, or caught up",
    ["group"],
)
FAILING = Gauge(
    "shaobing_consumer_failing",
    "1 while the consumer's last attempt to store or commit a batch failed",
    ["group"],
)
Handler = Callable[[Sequence[ConsumerRecord]], Awaitable[None]]
SetAside = Callable[[ConsumerRecord, Exception], Awaitable[None]]


class ConsumerHealth(LoopHealth):
    """A consumer loop as readiness and the metrics see it (and whether it has partitions)."""

    def __init__(self, group: str) -> None:
        super().__init__()
        self.group, self.assigned = group, False

    def progressed(self) -> None:
        self.succeeded()
        PROGRESS.labels(self.group).set_to_current_time()
        FAILING.labels(self.group).set(0)

    def failed(self, exc: BaseException, *, passes: bool = True) -> float:
        FAILING.labels(self.group).set(1)
        return super().failed(exc, passes=passes)

    def problem(self) -> str | None:
        problem = super().problem()
        if problem is None and not self.assigned:
            return "no partitions assigned"
        return problem


class BatchConsumer:
    """Batches of `topics` stored by `handle`, committed once stored; see the module docstring."""

    def __init__(
        self,
        *,
        bootstrap: str,
        topics: Sequence[str],
        group: str,
        handle: Handler,
        set_aside: SetAside,
        batch_size: int,
        options: dict[str, str] | None = None,
    ) -> None:
        self._bootstrap, self._options = bootstrap, options or {}
        self._handle, self._set_aside = handle, set_aside
        self._topics = list(topics)
        self._batch_size = batch_size
        self.health = ConsumerHealth(group)
        self._lag = ConsumerLag(group)

    async def run(self) -> None:
        """Consume until cancelled; a consumer that breaks is replaced by a new one."""
        try:
            while True:
                consumer = self._new_consumer()
                try:
                    await consumer.start()
                    await self._consume(consumer)
                except Exception as exc:
                    log.warning("consumer_restarting", group=self.health.group, error=str(exc))
                    self.health.assigned = False
                    await asyncio.sleep(self.health.failed(exc))
                finally:
                    await consumer.stop()
        except BaseException as exc:
            self.health.stopped = type(exc).__name__
            raise

    def _new_consumer(self) -> AIOKafkaConsumer:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self.health.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
            metadata_max_age_ms=10_000,  # a topic created after the join is seen within seconds
            **self._options,
        )
        consumer.subscribe(self._topics)
        return consumer

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=self._batch_size)
            self.health.assigned = bool(consumer.assignment())
            records = [r for batch in batches.values() for r in batch]
            if records:
                await self._store(records)
                await consumer.commit()
            self.health.progressed()
            await self._lag.record(consumer, batches)

    async def _store(self, records: Sequence[ConsumerRecord]) -> None:
        """The batch stored; failing that, each record alone, the ones that fail set aside."""
        try:
            await self._durably(self._handle, records)
        except Exception as exc:
            log.error("batch_not_stored", group=self.health.group, error=str(exc)[:300])
            for record in records:
                try:
                    await self._durably(self._handle, [record])
                except Exception as poison:
                    await self._durably(self._set_aside, record, poison)

    async def _durably(self, work: Callable[..., Awaitable[None]], *args: object) -> None:
        """`work(*args)`, tried again while it fails for a reason that passes."""
        while True:
            try:
                await work(*args)
                return
            except Exception as exc:
                if not is_transient(exc):
                    raise
                pause = self.health.failed(exc)
                log.warning("batch_store_retried", group=self.health.group, error=str(exc)[:300])
                await asyncio.sleep(pause)
