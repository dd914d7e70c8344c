"""The base of every canonical source event: identity, person, timing, provenance."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from .provenance import Provenance
from .types import IdNumber


class SourceEvent(BaseModel):
    """What every canonical source event carries: identity, person, timing, provenance."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID
    id_number: IdNumber
    recorded_at: datetime
    provenance: Provenance
