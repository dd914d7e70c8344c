"""Matcher messages it cannot process, sent to dead-letters.v1 with the reason."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from faust import TopicT
from faust.types import EventT

from shaobing_contracts.codec import encode
from shaobing_contracts.dead_letter import DeadLetter


async def dead_letter(topic: TopicT, event: EventT, reason: str) -> None:
    """Send the failing message on with its position and reason; the stream goes on."""
    message = event.message
    letter = DeadLetter(
        id=uuid.uuid5(uuid.NAMESPACE_URL, f"{message.topic}/{message.partition}/{message.offset}"),
        service="matcher",
        source=message.topic,
        item=message.offset,
        field=None,
        reason=reason[:2000],
        raw=(event.value or b"").decode("utf-8", "replace")[:100_000],
        received_at=datetime.now(UTC),
    )
    await topic.send(key=message.topic.encode(), value=encode(letter))
