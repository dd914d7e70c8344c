"""Deterministic event ids and Kafka's key → partition mapping, each against the reference."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date

from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given
from hypothesis import strategies as st

from shaobing_contracts.name_ids import name_id
from shaobing_ingest.domain.cdc.event_ids import EVENT_ID_NAMESPACE, image_digest
from shaobing_runtime.partitioning import partition_of


@given(st.binary(max_size=64), st.integers(min_value=1, max_value=10_000))
def test_partition_of_is_kafkas_default_partitioner(key: bytes, partitions: int) -> None:
    assert partition_of(key, partitions) == (aiokafka_murmur2(key) & 0x7FFFFFFF) % partitions


def test_partition_of_known_keys() -> None:
    # Java's Utils.toPositive(Utils.murmur2(key)) % partitions, as kafka-python computes it
    from kafka.partitioner.default import murmur2 as kafka_python_murmur2

    for key in (b"", b"a", b"310110194107033363", "中文".encode()):
        assert partition_of(key, 4) == (kafka_python_murmur2(key) & 0x7FFFFFFF) % 4


@given(st.uuids() | st.just(EVENT_ID_NAMESPACE), st.text(max_size=200))
def test_a_name_id_is_uuid5_of_the_namespace_and_name(namespace: uuid.UUID, name: str) -> None:
    assert name_id(namespace, name) == uuid.uuid5(namespace, name)
    assert name_id(namespace, name).version == 5


def _as_before(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


_ROW_VALUES = st.one_of(
    st.none(),
    st.text(),
    st.dates(),
    st.datetimes(),
    st.decimals(allow_nan=False, allow_infinity=False),
)


@given(st.dictionaries(st.text(min_size=1), _ROW_VALUES))
def test_image_digest_is_over_the_json_module_s_canonical_text(image: dict) -> None:
    # event ids of CSV rows (no LSN) hang on these bytes: they must never change
    canonical = json.dumps(
        image, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_as_before
    ).encode()
    assert image_digest(image) == hashlib.sha256(canonical).hexdigest()
