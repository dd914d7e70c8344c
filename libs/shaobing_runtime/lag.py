"""Consumer lag, the same two gauges for every consumer: messages behind the partition's end, and
seconds behind (the age of the last message processed while there is more to process; 0 when
caught up, so an idle feed does not look like a stuck consumer)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import Gauge

LAG_MESSAGES = Gauge(
    "shaobing_consumer_lag_messages",
    "Messages between the consumer's position and the end of the partition",
    ["group", "topic", "partition"],
)
LAG_SECONDS = Gauge(
    "shaobing_consumer_lag_seconds",
    "Age of the last message processed while more are waiting; 0 when caught up",
    ["group", "topic", "partition"],
)


def record_lag(
    group: str,
    topic: str,
    partition: int,
    *,
    end: int | None,
    position: int | None,
    last_timestamp_ms: int | None,
) -> None:
    """Set both gauges for one partition; unknown end or position leaves them as they were."""
    if end is None or position is None:
        return
    behind = max(end - position, 0)
    labels = (group, topic, str(partition))
    LAG_MESSAGES.labels(*labels).set(behind)
    age = time.time() - last_timestamp_ms / 1000 if behind and last_timestamp_ms else 0.0
    LAG_SECONDS.labels(*labels).set(max(age, 0.0))


class ConsumerLag:
    """The two gauges for every partition assigned to an aiokafka consumer, set after a batch."""

    def __init__(self, group: str) -> None:
        self._group = group
        self._last_timestamp: dict[TopicPartition, int] = {}  # of the last message processed

    async def record(
        self, consumer: AIOKafkaConsumer, batches: Mapping[TopicPartition, Sequence[Any]]
    ) -> None:
        for tp in consumer.assignment():
            if batches.get(tp):
                self._last_timestamp[tp] = batches[tp][-1].timestamp
            record_lag(
                self._group,
                tp.topic,
                tp.partition,
                end=consumer.highwater(tp),
                position=await consumer.position(tp),
                last_timestamp_ms=self._last_timestamp.get(tp),
            )
