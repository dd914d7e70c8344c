"""Read a whole topic by assigning its partitions directly (no consumer group to wait for)."""

from __future__ import annotations

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord


def read_topic(bootstrap: str, topic: str, *, timeout_ms: int = 3000) -> list[bytes]:
    return [record.value for record in read_records(bootstrap, topic, timeout_ms=timeout_ms)]


def read_records(bootstrap: str, topic: str, *, timeout_ms: int = 3000) -> list[ConsumerRecord]:
    """Every record of the topic with its partition, key and headers."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=timeout_ms
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        return list(consumer)
    finally:
        consumer.close()
