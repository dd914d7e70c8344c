"""Matcher messages it cannot process, sent to dead-letters.v1 with the reason."""

from __future__ import annotations

import traceback
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import structlog

from shaobing_contracts.codec import encode
from shaobing_contracts.dead_letter import DeadLetter, cut_raw
from shaobing_contracts.topics import Topic
from shaobing_runtime.record_batches import RecordBatches

log = structlog.get_logger()


def reason_of(exc: Exception) -> str:
    """The error and where it was raised."""
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" (at {Path(frame.filename).name}:{frame.lineno})" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"


class Consumed(Protocol):
    """A consumed message (aiokafka's ConsumerRecord)."""

    topic: str
    partition: int
    offset: int
    value: bytes | None


def letter_of(message: Consumed, reason: str) -> bytes:
    """The message's dead letter, encoded; its id is deterministic in the message's position,
    so a re-sent letter is stored once."""
    topic, offset = message.topic, message.offset
    where = f"{topic}/{message.partition}/{offset}"
    letter = DeadLetter(
        id=uuid.uuid5(uuid.NAMESPACE_URL, where),
        service="matcher",
        source=topic,
        item=offset,
        field=None,
        reason=reason[:2000],
        raw=cut_raw((message.value or b"").decode("utf-8", "replace"), where),
        received_at=datetime.now(UTC),
    )
    return encode(letter)


async def add_dead_letter(outbox: RecordBatches, message: Consumed, exc: Exception) -> None:
    """Queue the message's dead letter with the reason (sent with the batch's outputs)."""
    log.error(
        "matcher_event_failed",
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        error=type(exc).__name__,
    )
    letter = letter_of(message, reason_of(exc))
    await outbox.add(Topic.DEAD_LETTERS, message.topic.encode(), letter)
