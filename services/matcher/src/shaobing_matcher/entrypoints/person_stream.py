"""The matcher's hot path: person-keyed messages in record batches, one evaluation per person.

faust's stream machinery costs about 60 µs a message here whatever the agent does, so this path
reads with aiokafka directly (hosted by the faust worker as a service, beside the web pages,
timers and the enrolment fan-out). Per batch, at least once and in this order: each partition's
persons are read from the state store in one multi-get and matched (domain/batch.py); their
alerts, notifications and dead letters are sent as one record batch per partition and
acknowledged; then the changed states go to the changelog, acknowledged; then the store; then
the offsets are committed. A crash at any point redoes the batch, and what it sends again is
absorbed downstream (deterministic ids); a state is stored only after what it raised was sent,
so a replayed event that changes nothing can skip the evaluation.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shaobing_contracts.topics import Topic
from shaobing_rules.files import RuleFiles
from shaobing_rules.rule_set import RuleSet
from shaobing_runtime.kafka import client_options, start_producer
from shaobing_runtime.lag import ConsumerLag
from shaobing_runtime.record_batches import RecordBatches

from ..adapters.changelog import ensure_changelog, recover
from ..adapters.dead_letters import letter_of, reason_of
from ..adapters.state_store import StateStore, open_store
from ..config import MatcherSettings
from ..domain.batch import BatchResult, Record, decode_state, match_batch
from ..domain.clock import Clock
from ..domain.evaluation import RuleBook
from ..domain.matching import reevaluate
from . import metrics
from .outputs import add_outcome, count_result

log = structlog.get_logger()
PERSON_TOPICS = (
    Topic.DEATH,
    Topic.HUKOU,
    Topic.MARRIAGE,
    Topic.SOCIAL_SECURITY,
    Topic.PERSON_ENROLMENTS,
    Topic.SPOUSE_DEATHS,
)
MAX_RECORDS = 10_000  # per batch, all partitions together: a few seconds of matching at most
SWEEP_CHUNK = 500  # persons whose messages a sweep sends at once
RECOVERY_ALLOWANCE_MS = 15 * 60_000  # longest a recovery may keep the worker from polling


def clock_now(settings: MatcherSettings) -> Clock:
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    return Clock(now=now, today=today, cutoff_day=settings.payout_cutoff_day)


class PersonStream:
    """The hot path's consumer, producer, state store and rebalance handling."""

    def __init__(self, settings: MatcherSettings, rules: RuleFiles) -> None:
        self.settings, self.rules = settings, rules
        self.changelog = f"{settings.app_id}-person-state-changelog"
        self.group = f"{settings.app_id}-persons"
        self.ready = False  # partitions assigned and their states recovered
        self._lock = asyncio.Lock()  # one batch, rebalance or recovery at a time
        self._sweeps: set[asyncio.Future] = set()  # started by a rules reload, kept until done
        self._lag = ConsumerLag(self.group)
        self._store: StateStore
        self._consumer: AIOKafkaConsumer
        self._outbox: RecordBatches

    async def start(self) -> None:
        """Open the store, make sure the changelog exists, join the consumer group."""
        s = self.settings
        self._store = open_store(s.store, Path(s.data_dir))
        admin = AIOKafkaAdminClient(bootstrap_servers=s.kafka_bootstrap_servers, **self._options)
        await admin.start()
        try:
            await ensure_changelog(admin, self.changelog, s.topic_partitions)
        finally:
            await admin.close()
        producer = await start_producer(
            s.kafka_bootstrap_servers, idempotent=s.kafka_idempotent_producer, **self._options
        )
        self._outbox = RecordBatches(producer)
        self._consumer = self._new_consumer(
            group_id=self.group,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
            # Partitions are recovered inside the assignment callback, where nothing polls: a
            # worker without local state reads 10⁷ states in about 4 minutes (45,000 a second).
            max_poll_interval_ms=RECOVERY_ALLOWANCE_MS,
        )
        self._consumer.subscribe(list(PERSON_TOPICS), listener=_Rebalance(self))
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()
        await self._outbox.producer.stop()
        self._store.close()

    async def run(self) -> None:
        """Batch after batch, until stopped; a failure is logged and the loop goes on (an
        agent that died silently was faust's trap, #175 and #527)."""
        while True:
            try:
                await self._next_batch()
            except Exception:
                log.exception("person_stream_failed")
                await asyncio.sleep(1)

    async def _next_batch(self) -> None:
        fetched = await self._consumer.getmany(timeout_ms=500, max_records=MAX_RECORDS)
        async with self._lock:
            assigned = self._consumer.assignment()
            batch = {tp: rs for tp, rs in fetched.items() if tp in assigned and rs}
            if batch:
                await self._guarded(batch)
            await self._lag.record(self._consumer, batch)

    async def _guarded(self, batch: dict[TopicPartition, list]) -> None:
        """A batch that could not be sent or committed is read again (its sends are redone and
        absorbed downstream); the stream goes on."""
        try:
            with _collector_paused():
                await self._process(batch)
        except Exception:
            log.exception("matcher_batch_failed", records=sum(map(len, batch.values())))
            self._outbox = RecordBatches(self._outbox.producer)
            for tp, records in batch.items():
                if tp in self._consumer.assignment():
                    self._consumer.seek(tp, records[0].offset)
            await asyncio.sleep(1)

    async def _process(self, batch: dict[TopicPartition, list]) -> None:
        clock = clock_now(self.settings)
        book = RuleBook.on(self._current_rules(), clock)
        by_partition: dict[int, list[Record]] = {}
        for tp, records in batch.items():
            by_partition.setdefault(tp.partition, []).extend(records)
        results: dict[int, BatchResult] = {}
        for p, records in by_partition.items():
            results[p] = match_batch(records, partial(self._store.get_many, p), book, clock)
            await asyncio.sleep(0)  # heartbeats, timers and the web pages between partitions
        await self._send_outcomes(results.values())
        written = await self._send_states(results)
        for p, result in results.items():
            if result.states:
                self._store.write(p, result.states, written[self.changelog, p])
        await self._consumer.commit({tp: records[-1].offset + 1 for tp, records in batch.items()})
        for result in results.values():
            count_result(result)

    async def _send_outcomes(self, results: Iterable[BatchResult]) -> None:
        for result in results:
            for matched in result.matched:
                await add_outcome(self._outbox, matched.key, matched.outcome, matched.headers)
            for record, exc in result.failed:
                await self._dead_letter(record, exc)
        await self._outbox.send()

    async def _send_states(self, results: dict[int, BatchResult]) -> dict[tuple[str, int], int]:
        for p, result in results.items():
            for key, state in result.states.items():
                await self._outbox.add(self.changelog, key, state, partition=p)
        return await self._outbox.send()

    async def _dead_letter(self, record: Record, exc: Exception) -> None:
        log.error(
            "matcher_event_failed",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=type(exc).__name__,
        )
        letter = letter_of(record, reason_of(exc))
        await self._outbox.add(Topic.DEAD_LETTERS, record.topic.encode(), letter)

    async def recover(self, partitions: set[int]) -> None:
        """The states of newly assigned partitions, brought up to the changelog's end."""
        reader = self._new_consumer(group_id=None)
        await reader.start()
        try:
            started = time.monotonic()
            applied = await recover(self._store, reader, self.changelog, partitions)
            seconds = round(time.monotonic() - started, 2)
            log.info("states_recovered", partitions=sorted(partitions), records=applied, s=seconds)
        finally:
            await reader.stop()

    async def sweep(self) -> int:
        """The rules and policies over every person of this worker's partitions, sending what
        holds (idempotent downstream; each state is brought up to date at the person's next
        event); returns how many messages were sent."""
        clock = clock_now(self.settings)
        book, sent = RuleBook.on(self._current_rules(), clock), 0
        outbox = RecordBatches(self._outbox.producer)
        for partition in sorted({tp.partition for tp in self._consumer.assignment()}):
            for n, (key, raw) in enumerate(self._store.persons(partition), start=1):
                outcome = reevaluate(decode_state(raw), book, clock)
                sent += await add_outcome(outbox, key, outcome)
                metrics.count_outcome(outcome)
                if n % SWEEP_CHUNK == 0:
                    await outbox.send()  # and the batches and the web answer meanwhile
        await outbox.send()
        metrics.TICKS.inc()
        log.info("sweep_done", messages=sent)
        return sent

    def _current_rules(self) -> RuleSet:
        if self.rules.refresh():
            log.info("rules_reloaded", rules=[r.name for r in self.rules.rule_set.rules])
            sweep = asyncio.ensure_future(self.sweep())  # the new rules over everyone
            self._sweeps.add(sweep)
            sweep.add_done_callback(self._sweeps.discard)
        elif self.rules.error is not None:
            log.error("rules_not_reloaded", error=str(self.rules.error))
        return self.rules.rule_set

    def _new_consumer(self, **options) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=8 << 20,
            fetch_max_bytes=64 << 20,
            **options,
            **self._options,
        )

    @property
    def _options(self) -> dict[str, str]:
        return client_options(self.settings)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cycle collection while a batch is processed: the batch's young objects made the
    collector run over and over (a fifth of the matching time); it runs once the batch is done
    and most of them are freed."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _Rebalance(ConsumerRebalanceListener):
    """A batch under way finishes (and commits) before partitions go; new ones are recovered
    from the changelog before their first batch."""

    def __init__(self, stream: PersonStream) -> None:
        self._stream = stream

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._stream._lock:
            self._stream.ready = False

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Never a batch on states not recovered: recovery is tried until it succeeds."""
        async with self._stream._lock:
            while True:
                try:
                    await self._stream.recover({tp.partition for tp in assigned})
                    break
                except Exception:
                    log.exception("states_not_recovered")
                    await asyncio.sleep(1)
            self._stream.ready = True
