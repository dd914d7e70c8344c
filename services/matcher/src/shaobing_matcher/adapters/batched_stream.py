"""The matcher's stream engine: a consumer group read in record batches, with its state in a
store and a changelog of its own, running a step (stream_step.py: the hot path,
entrypoints/person_stream.py, and the enrolment fan-out, entrypoints/enrolment_fan_out.py).

faust's stream machinery costs about 60 µs a message whatever an agent does, and a faust table
fills at about 1,800 writes a second, so the matcher reads with aiokafka directly (hosted by the
faust worker as services, beside the web pages, timers and crontab). Per batch, at least once and
in this order (`_deliver`, one place for both streams and for the hot path's daily sweep): each
partition's records go through the step's pure function with its states read in one multi-get,
what they give is sent as record batches and acknowledged, then the changed states go to the
changelog (acknowledged), then to the store, then the offsets are committed. A crash at any point
redoes the batch, and what it sends again is absorbed downstream (deterministic ids, idempotent
folds).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Generic, TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shaobing_contracts.topics import produced_by
from shaobing_runtime.consuming import ConsumerHealth
from shaobing_runtime.kafka import client_options, start_producer, when_up
from shaobing_runtime.lag import ConsumerLag
from shaobing_runtime.record_batches import RecordBatches

from ..config import MatcherSettings
from ..domain.batch import Record
from .changelog import ensure_changelog, recover
from .dead_letters import add_dead_letter
from .state_store import StateStore, open_store
from .stream_step import Processed, StateStep, Step

log = structlog.get_logger()
MAX_RECORDS = 10_000  # per batch, all partitions together: a few seconds of matching at most
RECOVERY_ALLOWANCE_MS = 15 * 60_000  # longest a recovery may keep the worker from polling
METADATA_MAX_AGE_MS = 10_000
CHUNK = 500  # stored states swept or written again at once, between two batches
Batch = dict[TopicPartition, list[Record]]
T = TypeVar("T")


class BatchedStream(Generic[T]):
    """A consumer group's consumer, producer, state store, changelog and rebalance handling,
    running `step` over its records: what the step's results send, store and count."""

    def __init__(
        self,
        settings: MatcherSettings,
        step: Step[T],
        *,
        state: str,
        group: str,
        topics: tuple[str, ...],
    ) -> None:
        self.settings, self.state, self.topics = settings, state, topics
        self._step = step
        self.changelog = f"{settings.app_id}-{state}-changelog"
        self.group = f"{settings.app_id}-{group}"
        self.ready = False  # partitions assigned and their states recovered
        self.health = ConsumerHealth(self.group)
        self._stopping = False
        self._lock = asyncio.Lock()  # one batch, rebalance or recovery at a time
        self._lag = ConsumerLag(self.group)
        self._rewrites: set[asyncio.Future[None]] = set()  # changelogs written again, until done
        self._relogging: set[int] = set()  # partitions whose changelog is being written again
        self._store: StateStore
        self._consumer: AIOKafkaConsumer
        self._outbox: RecordBatches

    async def start(self) -> None:
        """Open the store, make sure the changelog exists, join the consumer group."""
        s = self.settings
        self._store = open_store(s.store, Path(s.data_dir) / self.state)
        await when_up(self._ensure_changelog)  # a worker started before the broker waits
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
            # A topic created after the group joined (a broker that lost its log, refilled) is
            # seen within seconds, not aiokafka's default 5 minutes.
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
        )
        self._consumer.subscribe(list(self.topics), listener=_Rebalance(self))
        await self._consumer.start()

    async def _ensure_changelog(self, wait_for: tuple[str, ...] = ()) -> None:
        """The changelog topic, created when missing; first, the `wait_for` topics must exist
        (after a broker lost its log, the operators create them: docs/operations.md)."""
        s = self.settings
        admin = AIOKafkaAdminClient(bootstrap_servers=s.kafka_bootstrap_servers, **self._options)
        await admin.start()
        try:
            while missing := set(wait_for) - set(await admin.list_topics()):
                log.warning("waiting_for_topics", missing=sorted(missing))
                await asyncio.sleep(2)
            await ensure_changelog(admin, self.changelog, s.topic_partitions)
        finally:
            await admin.close()

    async def stop(self) -> None:
        self._stopping = True
        await self._consumer.stop()
        await self._outbox.producer.stop()
        self._store.close()

    async def run(self) -> None:
        """Batch after batch, until stopped; a failure is logged and the loop goes on (an
        agent that died silently was faust's trap, #175 and #527)."""
        while not self._stopping:
            try:
                await self._next_batch()
            except Exception as exc:
                if self._stopping:  # the consumer was closed under the fetch: the worker stops
                    return
                log.exception("batched_stream_failed", group=self.group)
                await asyncio.sleep(self.health.failed(exc))

    async def _next_batch(self) -> None:
        fetched = await self._consumer.getmany(timeout_ms=500, max_records=MAX_RECORDS)
        async with self._lock:
            assigned = self._consumer.assignment()
            batch = {tp: rs for tp, rs in fetched.items() if tp in assigned and rs}
            self.health.assigned = bool(assigned)
            if not batch or await self._guarded(batch):
                self.health.progressed()
            await self._lag.record(self._consumer, batch)

    async def _guarded(self, batch: Batch) -> bool:
        """Whether the batch was processed; one that could not be sent or committed is read
        again (its sends are redone and absorbed downstream) after a pause, and the stream goes
        on."""
        try:
            with _collector_paused():
                await self._process(batch)
            return True
        except Exception as exc:
            log.exception(
                "matcher_batch_failed", group=self.group, records=sum(map(len, batch.values()))
            )
            self._outbox = RecordBatches(self._outbox.producer)
            for tp, records in batch.items():
                if tp in self._consumer.assignment():
                    self._consumer.seek(tp, records[0].offset)
            await asyncio.sleep(self.health.failed(exc))
            return False

    async def _process(self, batch: Batch) -> None:
        """Each partition's records through the step (its states read in one multi-get), then
        delivered with the batch's offsets."""
        step = self._step.for_batch()
        results = {}
        for p, records in _by_partition(batch).items():
            results[p] = step(records, partial(self._store.get_many, p))
            await asyncio.sleep(0)  # heartbeats, timers and the web pages between partitions
        await self._deliver(results, {tp: records[-1].offset + 1 for tp, records in batch.items()})

    async def _deliver(
        self,
        results: Mapping[int, Processed[T]],
        offsets: Mapping[TopicPartition, int] | None = None,
    ) -> None:
        """The partitions' results in the order that makes a redo safe: their outputs and dead
        letters queued, sent and acknowledged; then the changed states to the changelog
        (acknowledged) and the store; then the batch's `offsets` committed (none for a sweep);
        then counted."""
        for result in results.values():
            await self._queue(result)
        await self._outbox.send()
        lost = await self._store_states({p: r.states for p, r in results.items()})
        if lost:
            await self._log_lost(lost)
        if offsets := {tp: o for tp, o in (offsets or {}).items() if tp.partition not in lost}:
            await self._consumer.commit(offsets)
        for result in results.values():
            self._step.count(result.tally)

    async def _queue(self, result: Processed[T]) -> None:
        """A partition's outputs and dead letters, to the outbox."""
        for output in result.outputs:
            await self._outbox.add(output.topic, output.key, output.value, headers=output.headers)
        for record, exc in result.failed:
            await add_dead_letter(self._outbox, record, exc)

    async def over_stored(
        self, step: StateStep[T], partitions: set[int] | None = None
    ) -> AsyncIterator[Processed[T]]:
        """Every stored state of `partitions` (default: those assigned) through `step` and
        delivered, a chunk at a time between two batches (each chunk's states read when it is
        its turn: a batch may have changed them); yields what each chunk gave, delivered."""
        for partition in sorted(self._assigned() if partitions is None else partitions):
            keys = self._store.keys(partition)
            while chunk := list(islice(keys, CHUNK)):
                async with self._lock:
                    if partition not in self._assigned():
                        break  # revoked meanwhile: its new owner has its own states
                    result = step(chunk, partial(self._store.get_many, partition))
                    try:
                        await self._deliver({partition: result})
                    except Exception:
                        self._outbox = RecordBatches(self._outbox.producer)  # nothing half-queued
                        raise
                yield result

    async def _store_states(self, states: Mapping[int, Mapping[bytes, bytes]]) -> set[int]:
        """The changed states (per partition) to the changelog, acknowledged; then to the store
        with the changelog offset they reach. Returns the partitions whose changelog offset went
        back: the broker lost its log (restarted empty) since the store's last write."""
        for p, changed in states.items():
            for key, state in changed.items():
                await self._outbox.add(self.changelog, key, state, partition=p)
        written = await self._outbox.send()
        lost = set()
        for p, changed in states.items():
            if changed:
                known, offset = self._store.changelog_offset(p), written[self.changelog, p]
                if known is not None and offset <= known and p not in self._relogging:
                    lost.add(p)
                self._store.write(p, changed, offset)
        return lost

    async def recover(self, partitions: set[int]) -> set[int]:
        """The states of newly assigned partitions, brought up to the changelog's end; returns
        the partitions whose changelog ends before what the store holds (the broker lost it)."""
        reader = self._new_consumer(group_id=None)
        await reader.start()
        try:
            started = time.monotonic()
            applied, behind = await recover(self._store, reader, self.changelog, partitions)
            seconds = round(time.monotonic() - started, 2)
            log.info(
                "states_recovered",
                changelog=self.changelog,
                partitions=sorted(partitions),
                records=applied,
                s=seconds,
            )
            return behind
        finally:
            await reader.stop()

    async def _log_lost(self, partitions: set[int]) -> None:
        """The broker lost its log (restarted empty; found by the changelog ending, or written,
        before what the store holds): the inputs of `partitions` are read again from the
        beginning (the group's offsets, or a failed batch's seek-back, belong to the old log and
        would skip what the new one holds below them), once the topics exist again (until then
        what the stream sends may be lost: they are paused), and the states written again."""
        log.warning("log_lost", group=self.group, partitions=sorted(partitions))
        inputs = [tp for tp in self._consumer.assignment() if tp.partition in partitions]
        await self._consumer.seek_to_beginning(*inputs)
        self._consumer.pause(*inputs)
        self._relogging |= partitions
        future = asyncio.ensure_future(self._written_again(partitions))
        self._rewrites.add(future)
        future.add_done_callback(self._rewrites.discard)

    async def _written_again(self, partitions: set[int]) -> None:
        """Once the topics exist again, the local states of `partitions` are written to the
        changelog again, with whatever else the step must redo (`Step.rewrite`); tried again
        until it succeeds."""
        while not self._stopping:
            try:
                await self._ensure_changelog(wait_for=tuple(produced_by("matcher")))
                assigned = self._consumer.assignment()
                self._consumer.resume(*(tp for tp in assigned if tp.partition in partitions))
                await self._step.rewrite(partitions)
                log.info(
                    "changelog_written_again",
                    changelog=self.changelog,
                    partitions=sorted(partitions),
                )
                break
            except Exception:
                log.exception("changelog_not_written_again", changelog=self.changelog)
                await asyncio.sleep(5)
        self._relogging -= partitions

    def _assigned(self) -> set[int]:
        """The partition numbers this worker holds now."""
        return {tp.partition for tp in self._consumer.assignment()}

    def _new_consumer(self, **options: int | str | None) -> AIOKafkaConsumer:
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


def _by_partition(batch: Batch) -> dict[int, list[Record]]:
    """The batch's records per partition number (a state lives in its input's partition)."""
    grouped: dict[int, list[Record]] = {}
    for tp, records in batch.items():
        grouped.setdefault(tp.partition, []).extend(records)
    return grouped


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


class _Rebalance(ConsumerRebalanceListener, Generic[T]):
    """A batch under way finishes (and commits) before partitions go; new ones are recovered
    from the changelog before their first batch."""

    def __init__(self, stream: BatchedStream[T]) -> None:
        self._stream = stream

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._stream._lock:
            self._stream.ready = False

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Never a batch on states not recovered: recovery is tried until it succeeds."""
        async with self._stream._lock:
            while True:
                try:
                    lost = await self._stream.recover({tp.partition for tp in assigned})
                    break
                except Exception:
                    log.exception("states_not_recovered", changelog=self._stream.changelog)
                    await asyncio.sleep(1)
            if lost:
                await self._stream._log_lost(lost)
            self._stream.ready = bool(assigned)  # a worker without partitions is not ready
