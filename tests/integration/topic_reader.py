"""Read a whole topic by assigning its partitions directly (no consumer group to wait for)."""

from __future__ import annotations

from kafka import KafkaConsumer, TopicPartition


def read_topic(bootstrap: str, topic: str, *, timeout_ms: int = 3000) -> list[bytes]:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=timeout_ms
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        return [message.value for message in consumer]
    finally:
        consumer.close()
