"""Settings of ingest (shared names plus INGEST_*)."""

from __future__ import annotations

from pydantic import Field

from shaobing_runtime.settings import CommonSettings


class IngestSettings(CommonSettings):
    port: int = Field(8001, validation_alias="INGEST_PORT")
    max_body_bytes: int = Field(64 * 1024 * 1024, validation_alias="INGEST_MAX_BODY_BYTES")
