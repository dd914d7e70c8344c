"""Debezium change events read from Kafka topics, when a real Debezium runs in front.

Each configured topic belongs to one source system (INGEST_DEBEZIUM_TOPICS, e.g.
`civil.death.registrations=death`). Messages go through the same intake as the HTTP endpoint;
offsets are committed only after the batch is stored, so a crash re-reads and the event ids
absorb the repeats. Tombstones (null values) are counted as ignored.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from starlette.datastructures import State

from shaobing_contracts.provenance import Channel, SourceSystem

from ..domain.body import BodyItem, item_of, may_hold_nul
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


async def consume(
    state: State,
    bootstrap: str,
    group: str,
    topics: dict[str, SourceSystem],
    options: dict[str, str] | None = None,
) -> None:
    """Read, store, then commit, batch after batch; errors are logged and retried."""
    while True:
        consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=10_000,
            **(options or {}),
        )
        try:
            await consumer.start()
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=2000)
                for tp, records in batches.items():
                    await _store(state, topics[tp.topic], records)
                if batches:
                    await consumer.commit()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("debezium_consumer_failed")
            await asyncio.sleep(2)
        finally:
            await consumer.stop()


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
