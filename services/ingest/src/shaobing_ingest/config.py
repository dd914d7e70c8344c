"""Settings of ingest (shared names plus INGEST_*)."""

from __future__ import annotations

from pydantic import Field

from shaobing_runtime.settings import CommonSettings


class IngestSettings(CommonSettings):
    port: int = Field(8001, validation_alias="INGEST_PORT")
    max_body_bytes: int = Field(64 * 1024 * 1024, validation_alias="INGEST_MAX_BODY_BYTES")
    # Debezium topics to consume, `topic=source,…`; empty: only the HTTP endpoints.
    debezium_topics: str = Field("", validation_alias="INGEST_DEBEZIUM_TOPICS")
    debezium_group: str = Field(
        "shaobing-ingest-debezium", validation_alias="INGEST_DEBEZIUM_GROUP"
    )
