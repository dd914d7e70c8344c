"""At least once and in order with faust: what the enrolment fan-out agent does around each
batch (the hot path, person_stream.py, reads with aiokafka and needs none of this).

faust's own bookkeeping lost events on kill -9 (tests/integration/test_matcher_restart.py), so
the agents take charge: they process only offsets that follow the last one processed, flush
everything a batch produced, and then commit exactly the offsets processed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import faust
import structlog
from faust.types import TP, EventT
from prometheus_client import Counter

from shaobing_runtime.lag import record_lag

log = structlog.get_logger()
CHANGELOG_END_MARKER = b"\x00changelog-end"
MAX_REREADS = 3
STALL_SECONDS = 5.0
GAPS = Counter(
    "shaobing_matcher_offset_gaps_total",
    "Times the matcher saw an offset skipped and read the partition again from the gap",
    ["topic"],
)


class Delivery:
    def __init__(self, app: faust.App) -> None:
        self._app = app
        self._next: dict[TP, int] = {}  # per partition, the offset after the last one processed
        self._rereads: dict[tuple[TP, int], int] = {}  # (partition, expected) → times sought back
        self._seen: dict[TP, float] = {}  # per partition, when an event of it was last taken
        self._last_timestamp: dict[TP, float] = {}  # per partition, the last event's (seconds)

    def forget(self, partitions: Iterable[TP]) -> None:
        """Partitions revoked: whoever gets them next starts from the committed offset."""
        for tp in partitions:
            self._next.pop(tp, None)

    async def in_order(self, events: list[EventT]) -> list[EventT]:
        """The events that follow on from what was processed; at a gap, read again from it.

        After a restart faust can drop records it fetched for a partition it had not yet
        resumed (faust.transport.consumer: records of inactive partitions are not yielded), and
        the consumer's position has moved past them. An offset beyond the next one expected is
        such a gap: the partition is sought back to it and the rest of its events in this batch
        wait for the reread. Topics here have no compaction or transactions, so offsets follow
        each other without holes; should one have a real hole (a transactional producer's
        markers), the same gap after MAX_REREADS rereads is accepted.
        """
        kept, gapped = [], set()
        for event in events:
            tp, offset = event.message.tp, event.message.offset
            if tp in gapped:
                continue
            expected = self._next.get(tp, self._app.consumer._committed_offset.get(tp))
            if expected is not None and offset > expected and self._reread(tp, expected):
                gapped.add(tp)
                GAPS.labels(tp.topic).inc()
                log.warning(
                    "offset_gap",
                    topic=tp.topic,
                    partition=tp.partition,
                    expected=expected,
                    got=offset,
                )
                await self._app.consumer.seek(tp, expected)
                continue
            kept.append(event)
            self._seen[tp] = time.monotonic()
            self._last_timestamp[tp] = event.message.timestamp
            self._rereads.pop((tp, offset), None)
            self._next[tp] = max(offset + 1, expected or 0)
        return kept

    async def audit(self, topics: set[str], quiet_for: float = STALL_SECONDS) -> None:
        """Read again from the next expected offset where the consumer's position has moved past
        it and nothing of the partition has come for a while: records faust dropped at the tail
        of a partition leave no later record to show the gap (`in_order` cannot see them)."""
        now, consumer = time.monotonic(), self._app.consumer
        for tp in consumer.assignment():
            if tp.topic not in topics:
                continue
            position = await consumer.position(tp)
            self._record_lag(tp, position)
            if now - self._seen.get(tp, 0.0) < quiet_for:
                continue
            expected = self._next.get(tp, consumer._committed_offset.get(tp))
            if expected is not None and position is not None and position > expected:
                GAPS.labels(tp.topic).inc()
                log.warning("offset_stall", topic=tp.topic, partition=tp.partition, at=expected)
                self._seen[tp] = now
                await consumer.seek(tp, expected)

    def _record_lag(self, tp: TP, position: int | None) -> None:
        last = self._last_timestamp.get(tp)
        record_lag(
            self._app.conf.id,
            tp.topic,
            tp.partition,
            end=self._app.consumer.highwater(tp),
            position=position,
            last_timestamp_ms=int(last * 1000) if last else None,
        )

    def _reread(self, tp: TP, expected: int) -> bool:
        """Whether to read the partition again from `expected` (no: it is a real hole)."""
        times = self._rereads[tp, expected] = self._rereads.get((tp, expected), 0) + 1
        if times > MAX_REREADS:
            log.warning("offset_hole_accepted", tp=f"{tp.topic}/{tp.partition}", at=expected)
            del self._rereads[tp, expected]
            return False
        return True

    async def commit_processed(self, events: list[EventT], table: faust.Table) -> None:
        """Flush what the batch produced (changelog, alerts), then commit exactly its offsets.

        Each changelog partition the batch wrote to is closed with a one-record batch: the
        embedded Tansu broker reports a partition's end offset as the last batch's base offset
        + 1, and faust's recovery reads only up to that end, which dropped the tail of the last
        batch after a restart. The markers are awaited one by one before the commit: faust's
        producer buffer hands messages over in order but its flush can return while one is
        still on its way, and a commit overtaking the last marker lost committed state on
        kill -9. On Apache Kafka a marker is one harmless extra record per partition and batch.
        """
        partitions = sorted({event.message.tp.partition for event in events})
        if not partitions:
            return
        await self.drain_producer()
        for partition in partitions:
            marker = table.changelog_topic.send_soon(
                key=CHANGELOG_END_MARKER, value=b"", partition=partition
            )
            await marker  # delivered: everything buffered before it was handed over first
            await self.drain_producer()
        offsets: dict[TP, int] = {}
        for event in events:
            tp = event.message.tp
            offsets[tp] = max(offsets.get(tp, 0), event.message.offset + 1)
        await self._app.consumer._commit_offsets(offsets)

    async def drain_producer(self) -> None:
        """Until everything sent is acknowledged: faust's flush gives up after 0.1 s idle."""
        await self._app.producer.flush()
        while self._app.producer.buffer.size:
            await self._app.producer.flush()
