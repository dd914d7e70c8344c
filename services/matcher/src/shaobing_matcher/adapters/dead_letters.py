"""Matcher messages it cannot process, sent to dead-letters.v1 with the reason."""

from __future__ import annotations

import traceback
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from shaobing_contracts.codec import encode
from shaobing_contracts.dead_letter import DeadLetter


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


# The most of a message's value a dead letter carries: even written as JSON escapes (6 bytes a
# byte at worst) the letter stays well below the 1 MiB a Kafka record may have by default, so a
# huge message's letter cannot fail the batch it is sent with.
RAW_KEPT = 64 << 10


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
        raw=_raw(message.value or b"", where),
        received_at=datetime.now(UTC),
    )
    return encode(letter)


def _raw(value: bytes, where: str) -> str:
    """The value as text, cut at RAW_KEPT bytes with a note saying where the whole stays."""
    text = value[:RAW_KEPT].decode("utf-8", "replace")
    if len(value) <= RAW_KEPT:
        return text
    return f"{text}\n[cut: the first {RAW_KEPT} of {len(value)} bytes; the whole is at {where}]"
