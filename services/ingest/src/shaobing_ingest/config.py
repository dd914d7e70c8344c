"""Settings of ingest (shared names plus INGEST_*)."""

from __future__ import annotations

from pydantic import Field

from shaobing_runtime.settings import AuditSettings


class IngestSettings(AuditSettings):  # reads of dead letters are audited
    port: int = Field(8001, validation_alias="INGEST_PORT")
    # The caps of POST …/changes (a Debezium batch, parsed in memory) and …/batches (a CSV export,
    # streamed: the cap bounds a request, a line's cap the memory one row may take).
    max_body_bytes: int = Field(64 * 1024 * 1024, gt=0, validation_alias="INGEST_MAX_BODY_BYTES")
    max_csv_bytes: int = Field(1024**3, gt=0, validation_alias="INGEST_MAX_CSV_BYTES")
    max_csv_line_length: int = Field(65_536, gt=0, validation_alias="INGEST_MAX_CSV_LINE_LENGTH")
    # Debezium topics to consume, `topic=source,…`; empty: only the HTTP endpoints.
    debezium_topics: str = Field("", validation_alias="INGEST_DEBEZIUM_TOPICS")
    debezium_group: str = Field(
        "shaobing-ingest-debezium", validation_alias="INGEST_DEBEZIUM_GROUP"
    )
