"""What could not be accepted, with the reason and the raw input, so it can be fixed and resent."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class DeadLetter(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_type: Literal["dead_letter"] = "dead_letter"
    id: UUID
    service: str
    source: str
    item: int | None
    field: str | None
    reason: str
    raw: str  # the input as received (text; undecodable bytes replaced)
    received_at: datetime
    correlation_id: str | None = None


RAW_ON_THE_BUS = 64 * 1024  # characters of the raw input a dead letter carries on Kafka


def for_the_bus(letter: DeadLetter) -> DeadLetter:
    """The letter as published: a raw input longer than RAW_ON_THE_BUS is cut there, saying so
    (a 2 MB input must not make a message the broker refuses; where it was received, the whole
    of it is kept: ingest's dead_letters table, or the input topic's record)."""
    if len(letter.raw) <= RAW_ON_THE_BUS:
        return letter
    note = f"\n…[cut: {len(letter.raw)} characters in all]"
    return letter.model_copy(update={"raw": letter.raw[:RAW_ON_THE_BUS] + note})
