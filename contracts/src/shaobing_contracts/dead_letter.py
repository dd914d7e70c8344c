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
