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


# The most of an input a dead letter carries on Kafka: even written as JSON escapes (6 bytes a
# character at worst) the letter stays well below the 1 MiB a Kafka record may have by default,
# so a huge input's letter can neither be refused by the broker nor fail what it is sent with.
RAW_ON_THE_BUS = 64 << 10


def cut_raw(raw: str, whole_at: str) -> str:
    """The raw input as a dead letter carries it on Kafka: cut at RAW_ON_THE_BUS characters,
    saying so and where the whole of it stays."""
    if len(raw) <= RAW_ON_THE_BUS:
        return raw
    note = f"[cut: the first {RAW_ON_THE_BUS} of {len(raw)} characters; the whole is at {whole_at}]"
    return f"{raw[:RAW_ON_THE_BUS]}\n{note}"
