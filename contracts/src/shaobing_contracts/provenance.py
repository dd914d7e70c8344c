"""Where a canonical event came from: source system, table, position and ingest time."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class SourceSystem(StrEnum):
    HUKOU = "hukou"
    MARRIAGE = "marriage"
    DEATH = "death"
    SOCIAL_SECURITY = "social_security"


class Channel(StrEnum):
    DEBEZIUM_HTTP = "debezium_http"
    DEBEZIUM_KAFKA = "debezium_kafka"
    CSV = "csv"


class SourcePosition(BaseModel):
    """The upstream position; lsn is a string because it exceeds 2^53."""

    model_config = ConfigDict(frozen=True)

    op: str
    lsn: str | None = None
    tx_id: int | None = None
    snapshot: bool = False
    committed_at: datetime | None = None
    connector: str | None = None
    row: int | None = None


class Provenance(BaseModel):
    model_config = ConfigDict(frozen=True)

    source_system: SourceSystem
    table: str
    primary_key: str
    position: SourcePosition
    channel: Channel
    ingested_at: datetime
