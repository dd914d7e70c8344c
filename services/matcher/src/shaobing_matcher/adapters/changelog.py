"""A batched stream's changelog (the person states, the enrolments' members): a compacted
topic, one partition per input partition, from which a worker rebuilds the states of the
partitions it is given (after a restart, on another machine, or with an in-memory store)."""

from __future__ import annotations

import contextlib
import time

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from .state_store import StateStore

log = structlog.get_logger()
QUIET_SECONDS = 30.0  # a partition that gives nothing this long short of its end: try again


class ChangelogUnfinished(Exception):
    """Some partitions' changelog could not be read to its end."""


async def ensure_changelog(admin: AIOKafkaAdminClient, topic: str, partitions: int) -> None:
    """Create the changelog topic (compacted) unless it exists."""
    if topic in set(await admin.list_topics()):
        return
    spec = NewTopic(topic, partitions, 1, topic_configs={"cleanup.policy": "compact"})
    with contextlib.suppress(TopicAlreadyExistsError):
        await admin.create_topics([spec])


async def recover(
    store: StateStore, consumer: AIOKafkaConsumer, topic: str, partitions: set[int]
) -> tuple[int, set[int]]:
    """Bring the store's partitions up to the changelog's end; returns the records applied and
    the partitions whose changelog ends before what the store holds (the broker lost its log:
    the local states are kept, and the changelog must be written again from them).

    Reading goes on until each partition's position reaches its end offset: the embedded broker
    reports the end as the last record batch's base offset + 1, and every record of a fetched
    batch is applied, so the tail of the last batch is never left out.
    """
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    consumer.assign(tps)
    ends = await consumer.end_offsets(tps)
    behind = {tp.partition for tp in tps if _start(store, tp) > ends[tp]}
    if behind:
        log.warning("changelog_behind_local_state", changelog=topic, partitions=sorted(behind))
    pending = {tp: ends[tp] for tp in tps if _seek(store, consumer, tp, ends[tp])}
    applied, heard = 0, time.monotonic()
    while pending and time.monotonic() - heard < QUIET_SECONDS:
        fetched = await consumer.getmany(*pending, timeout_ms=1000, max_records=20_000)
        for tp, records in fetched.items():
            states = {r.key: r.value for r in records if r.key and r.value}
            store.write(tp.partition, states, records[-1].offset)
            applied, heard = applied + len(records), time.monotonic()
        for tp in [tp for tp, end in pending.items() if await consumer.position(tp) >= end]:
            del pending[tp]
    if pending:  # what was read is stored with its offset: the next attempt goes on from there
        raise ChangelogUnfinished(sorted(tp.partition for tp in pending))
    return applied, behind


def _start(store: StateStore, tp: TopicPartition) -> int:
    """The changelog offset after what the store has."""
    known = store.changelog_offset(tp.partition)
    return 0 if known is None else known + 1


def _seek(store: StateStore, consumer: AIOKafkaConsumer, tp: TopicPartition, end: int) -> bool:
    """Position the reader after what the store has; False when there is nothing to read (also
    when the changelog ends before it: a broker that lost its log keeps the local state)."""
    start = _start(store, tp)
    if start >= end:
        return False
    consumer.seek(tp, start)
    return True
