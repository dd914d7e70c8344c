"""Composition root of the alerts service: `python -m shaobing_alerts`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import uvicorn
from fastapi import FastAPI

from shaobing_runtime import audit
from shaobing_runtime.kafka import client_options
from shaobing_runtime.logging import configure_logging
from shaobing_runtime.schema import DatabaseWork
from shaobing_runtime.service_app import create_service_app

from .config import AlertsSettings
from .entrypoints.consumer import AlertConsumer
from .entrypoints.escalation import escalate_forever


def create_app(settings: AlertsSettings) -> FastAPI:
    state: dict = {}
    audit.use_keyring(settings.keyring())  # escalations are audited
    database = DatabaseWork(settings.database_url, service="alerts")

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with database:
            consumer = state["consumer"] = AlertConsumer(
                database.pool,
                settings.kafka_bootstrap_servers,
                settings.consumer_group,
                settings.batch_size,
                client_options(settings),
            )
            database.start(
                consumer.loop.run,
                partial(
                    escalate_forever,
                    database.pool,
                    settings.timezone,
                    settings.escalation_every_seconds,
                ),
            )
            yield

    async def consumer() -> None:
        problem = state["consumer"].loop.health.problem()
        if problem:
            raise RuntimeError(problem)

    return create_service_app(
        "Shaobing alerts",
        lifespan=lifespan,
        dependencies={"database": database.check_database},
        checks={"schema": database.check_schema, "consumer": consumer},
        max_body_bytes=settings.http_max_body_bytes,
        docs_url=None,  # no API to document: health, readiness and metrics only
        openapi_url=None,
    )


def main() -> None:
    settings = AlertsSettings()
    configure_logging("alerts", settings.log_level)
    uvicorn.run(create_app(settings), host="0.0.0.0", port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
