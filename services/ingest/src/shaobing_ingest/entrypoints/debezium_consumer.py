"""Debezium change events read from Kafka topics, when a real Debezium runs in front.

Each configured topic belongs to one source system (INGEST_DEBEZIUM_TOPICS, e.g.
`civil.death.registrations=death`). Messages go through the same intake as the HTTP endpoint;
offsets are committed only after the batch is stored, so a crash re-reads and the event ids
absorb the repeats. Tombstones (null values) are counted as ignored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

import structlog
from aiokafka.structs import ConsumerRecord
from starlette.datastructures import State

from shaobing_contracts.provenance import Channel, SourceSystem
from shaobing_runtime.consuming import BatchConsumer

from ..adapters.intake_store import dead_letter_for, store_dead_letters
from ..domain.cdc.body import BodyItem, item_of, may_hold_nul
from ..domain.intake import changes_of
from .intake_flow import store_batch

log = structlog.get_logger()


def parse_topic_map(value: str) -> dict[str, SourceSystem]:
    """`topic=source,topic=source` → {topic: source}; an unknown source is a startup error."""
    pairs = [p.split("=", 1) for p in value.split(",") if p.strip()]
    try:
        return {topic.strip(): SourceSystem(source.strip()) for topic, source in pairs}
    except ValueError as exc:
        raise ValueError(f"INGEST_DEBEZIUM_TOPICS: {exc}") from exc


def _item(index: int, record: ConsumerRecord) -> BodyItem:
    if record.value is None:
        return BodyItem(index)
    return item_of(index, record.value, f"offset {record.offset}")


def reader(
    state: State,
    bootstrap: str,
    group: str,
    topics: dict[str, SourceSystem],
    options: dict[str, str] | None = None,
) -> BatchConsumer:
    """Read, store, then commit, batch after batch (shaobing_runtime.consuming: retried while the
    database is away; a record that cannot be stored becomes a dead letter)."""

    async def handle(records: Sequence[ConsumerRecord]) -> None:
        by_partition: dict[tuple[str, int], list[ConsumerRecord]] = defaultdict(list)
        for record in records:
            by_partition[record.topic, record.partition].append(record)
        for (topic, _), batch in by_partition.items():
            await _store(state, topics[topic], batch)

    async def set_aside(record: ConsumerRecord, exc: Exception) -> None:
        letter = dead_letter_for(
            source=topics[record.topic].value,
            item=record.offset,
            raw=record.value or b"",
            field=None,
            reason=f"cannot be stored: {type(exc).__name__}: {exc}"[:500],
            received_at=datetime.now(UTC),
            correlation_id=None,
        )
        async with state.pool.acquire() as conn, conn.transaction():
            await store_dead_letters(conn, [letter])

    return BatchConsumer(
        bootstrap=bootstrap,
        topics=list(topics),
        group=group,
        handle=handle,
        set_aside=set_aside,
        batch_size=2000,
        options=options,
    )


async def reader_check(state: State) -> None:
    """Readiness: the reader of the Debezium topics runs, has partitions and stores."""
    running = getattr(state, "debezium_reader", None)
    problem = "not started" if running is None else running.health.problem()
    if problem:
        raise RuntimeError(problem)


async def _store(state: State, source: SourceSystem, records: list[ConsumerRecord]) -> None:
    items = [_item(i, r) for i, r in enumerate(records)]
    result = await store_batch(
        state,
        changes_of(items, source, may_hold_nul=may_hold_nul(*(r.value or b"" for r in records))),
        lambda i: records[i].value or b"null",
        [r.offset for r in records],
        source=source.value,
        channel=Channel.DEBEZIUM_KAFKA,
    )
    counts = defaultdict(int, accepted=result.accepted, dead_lettered=result.dead_lettered)
    log.info("debezium_batch_stored", source=source.value, records=len(records), **counts)
