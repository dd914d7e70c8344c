"""Composition root of ingest: `python -m shaobing_ingest`."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI
from starlette.datastructures import State

from shaobing_runtime import audit
from shaobing_runtime.kafka import client_options
from shaobing_runtime.logging import configure_logging
from shaobing_runtime.service_app import create_publishing_app

from .config import IngestSettings
from .entrypoints import batches, changes, operations
from .entrypoints.debezium_consumer import parse_topic_map, reader, reader_check
from .entrypoints.intake_flow import follow_feeds


def create_app(settings: IngestSettings) -> FastAPI:
    audit.use_keyring(settings.keyring())  # reads of dead letters are audited
    topics = parse_topic_map(settings.debezium_topics)
    background: tuple = (follow_feeds,)
    checks = {}
    if topics:

        async def read_topics(state: State) -> None:
            state.debezium_reader = reader(
                state,
                bootstrap=settings.kafka_bootstrap_servers,
                group=settings.debezium_group,
                topics=topics,
                options=client_options(settings),
            )
            await state.debezium_reader.run()

        background += (read_topics,)
        checks["debezium_topics"] = reader_check
    return create_publishing_app(
        "Shaobing ingest",
        settings,
        service="ingest",
        routers=[changes.router, batches.router, operations.router],
        description="Source changes in (Debezium JSON, CSV exports); dead letters; replay.",
        background=background,
        checks=checks,
        body_caps={
            ("POST", "/v1/sources/{source}/changes"): settings.max_body_bytes,
            ("POST", "/v1/sources/{source}/batches"): settings.max_csv_bytes,
        },
    )


def main() -> None:
    settings = IngestSettings()
    configure_logging("ingest", settings.log_level)
    uvicorn.run(create_app(settings), host="0.0.0.0", port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
