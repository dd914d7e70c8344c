"""Deterministic event ids and Kafka's key → partition mapping, each against the reference."""

from __future__ import annotations

import uuid

from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given
from hypothesis import strategies as st

from shaobing_ingest.domain.event_ids import EVENT_ID_NAMESPACE, _uuid5
from shaobing_runtime.partitioning import murmur2, partition_of


@given(st.binary(max_size=64))
def test_murmur2_is_kafkas(key: bytes) -> None:
    assert murmur2(key) == aiokafka_murmur2(key)


def test_partition_of_known_keys() -> None:
    # Java's Utils.toPositive(Utils.murmur2(key)) % partitions, as kafka-python computes it
    from kafka.partitioner.default import murmur2 as kafka_python_murmur2

    for key in (b"", b"a", b"310110194107033363", "中文".encode()):
        assert partition_of(key, 4) == (kafka_python_murmur2(key) & 0x7FFFFFFF) % 4


@given(st.text(max_size=200))
def test_event_id_is_uuid5_of_the_name(name: str) -> None:
    assert _uuid5(name) == uuid.uuid5(EVENT_ID_NAMESPACE, name)
    assert _uuid5(name).version == 5
