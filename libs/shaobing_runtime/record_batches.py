"""Messages sent as one record batch per topic partition, awaited together.

A per-message send costs a future, a buffer slot and a wake-up of the sender; a consumer that
processes thousands of messages at once sends what they produced this way instead. Keys are
hashed to partitions as every Kafka client does, so consumers stay co-partitioned.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.producer.message_accumulator import BatchBuilder

from .partitioning import partition_of

Headers = Sequence[tuple[str, bytes]]


@dataclass
class _PartitionBatch:
    topic: str
    partition: int
    builder: BatchBuilder
    count: int = 0

    def append(self, key: bytes | None, value: bytes, headers: Headers) -> bool:
        """False when the batch is full."""
        added = self.builder.append(key=key, value=value, timestamp=None, headers=list(headers))
        self.count += added is not None
        return added is not None


class RecordBatches:
    """Messages collected for one send; `send` returns the last offset written per partition."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self._queues: dict[tuple[str, int], list[_PartitionBatch]] = {}
        self._partitions: dict[str, int] = {}  # each topic's count, asked once

    async def add(
        self,
        topic: str,
        key: bytes,
        value: bytes,
        *,
        headers: Headers = (),
        partition: int | None = None,
    ) -> None:
        """Queue one message: to `partition`, else to the partition of its key."""
        if partition is None:
            count = self._partitions.get(topic) or await self._count_partitions(topic)
            partition = partition_of(key, count)
        queue = self._queues.setdefault((topic, partition), [])
        if not queue or not queue[-1].append(key, value, headers):
            queue.append(_PartitionBatch(topic, partition, self.producer.create_batch()))
            queue[-1].append(key, value, headers)

    async def send(self) -> dict[tuple[str, int], int]:
        """Send every batch and wait until each is acknowledged; the batches are emptied."""
        batches = [b for queue in self._queues.values() for b in queue if b.count]
        self._queues = {}
        sent = [
            await self.producer.send_batch(b.builder, b.topic, partition=b.partition)
            for b in batches
        ]
        written = await asyncio.gather(*sent)
        last: dict[tuple[str, int], int] = {}
        for batch, metadata in zip(batches, written, strict=True):
            tp = (batch.topic, batch.partition)
            last[tp] = max(last.get(tp, -1), metadata.offset + batch.count - 1)
        return last

    async def _count_partitions(self, topic: str) -> int:
        self._partitions[topic] = len(await self.producer.partitions_for(topic))
        return self._partitions[topic]
