"""The relay: every event on the partition its key hashes to, in order, with its headers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import orjson
from kafka.partitioner.default import murmur2

from shaobing_contracts.codec import decode_person_event
from shaobing_contracts.topics import Topic
from shaobing_runtime.event_log import prune

from .conftest import death_of, eventually, new_person
from .topic_reader import read_records


def test_a_batch_of_deaths_lands_key_hashed_in_order_with_the_correlation_id(stack, ingest):
    people = [new_person() for _ in range(60)]
    response = ingest.post(
        "/v1/sources/death/changes",
        content=orjson.dumps([death_of(p) for p in people]),
        headers={"x-correlation-id": "relay-batch-1"},
    )
    assert response.json()["accepted"] == len(people), response.text

    def published() -> list | None:
        records = read_records(stack.bootstrap, Topic.DEATH)
        mine = [r for r in records if r.key.decode() in people]
        return mine if len(mine) == len(people) else None

    records = eventually(published)
    for record in records:  # as Java's default partitioner: positive murmur2 modulo the count
        assert record.partition == (murmur2(record.key) & 0x7FFFFFFF) % stack.config.partitions
        assert decode_person_event(record.value).id_number == record.key.decode()
        assert ("correlation_id", b"relay-batch-1") in record.headers
    for partition in {r.partition for r in records}:
        keys = [r.key.decode() for r in records if r.partition == partition]
        assert keys == [p for p in people if p in keys]  # the posted order, per partition


async def _prune_in_a_rolled_back_transaction(database_url: str) -> tuple[int, list[str]]:
    conn = await asyncpg.connect(database_url)
    try:
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute(
            """insert into event_log (event_id, topic, key, value, accepted_at, published_at)
               values (gen_random_uuid(), 'prune-test', 'old published', '\\x7b7d',
                       now() - interval '401 days', now() - interval '401 days'),
                      (gen_random_uuid(), 'prune-test', 'old unpublished', '\\x7b7d',
                       now() - interval '401 days', null),
                      (gen_random_uuid(), 'prune-test', 'recent published', '\\x7b7d',
                       now() - interval '399 days', now())"""
        )
        deleted = await prune(conn, older_than=timedelta(days=400), chunk=1)
        kept = await conn.fetch("select key from event_log where topic = 'prune-test'")
        await transaction.rollback()  # the unpublished row must never reach the relays
        return deleted, sorted(r["key"] for r in kept)
    finally:
        await conn.close()


def test_published_events_past_the_retention_are_pruned_unpublished_ones_never(stack):
    deleted, kept = asyncio.run(_prune_in_a_rolled_back_transaction(stack.database_url))

    assert deleted == 1
    assert kept == ["old unpublished", "recent published"]
