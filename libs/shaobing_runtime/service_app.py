"""The FastAPI shell every service shares: health, readiness, metrics, correlation ids."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_fastapi_instrumentator import Instrumentator

from .database import create_pool
from .event_log import Relay
from .kafka import start_producer
from .logging import correlation_id
from .problems import install_problem_handlers
from .settings import CommonSettings

ReadinessCheck = Callable[[], Awaitable[None]]


def create_service_app(
    title: str,
    *,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[Any]],
    readiness: dict[str, ReadinessCheck],
    **fastapi_options: Any,
) -> FastAPI:
    """A FastAPI app with /healthz, /readyz (running every check) and /metrics."""
    app = FastAPI(title=title, lifespan=lifespan, **fastapi_options)

    @app.middleware("http")
    async def _correlation(request: Request, call_next: Callable) -> Response:
        cid = request.headers.get("x-correlation-id") or uuid.uuid4().hex
        token = correlation_id.set(cid)
        try:
            response = await call_next(request)
        finally:
            correlation_id.reset(token)
        response.headers["x-correlation-id"] = cid
        return response

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        failures = {}
        for name, check in readiness.items():
            try:
                await check()
            except Exception as exc:
                failures[name] = str(exc) or type(exc).__name__
        if failures:
            structlog.get_logger().warning("not_ready", failures=failures)
            return JSONResponse({"status": "unavailable", "failures": failures}, status_code=503)
        return JSONResponse({"status": "ready"})

    _require_bearer_in_openapi(app)
    Instrumentator(excluded_handlers=["/metrics", "/healthz", "/readyz"]).instrument(app).expose(
        app, include_in_schema=False
    )
    return app


def _require_bearer_in_openapi(app: FastAPI) -> None:
    """Declare the bearer scheme so /docs can authorize (health and metrics are not in it)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()  # FastAPI caches it in app.openapi_schema
            components = schema.setdefault("components", {})
            components["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            }
            schema["security"] = [{"bearer": []}]
        return app.openapi_schema

    app.openapi = openapi


BackgroundTask = Callable[[Any], Awaitable[None]]


def create_publishing_app(
    title: str,
    settings: CommonSettings,
    *,
    routers: list[APIRouter],
    description: str,
    background: tuple[BackgroundTask, ...] = (),
) -> FastAPI:
    """A service that stores what it accepts in PostgreSQL and relays it to Kafka.

    Each background task is started with the app state (pool, producer, relay) and cancelled
    on shutdown.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await create_pool(settings.database_url)
        app.state.producer = await start_producer(
            settings.kafka_bootstrap_servers, idempotent=settings.kafka_idempotent_producer
        )
        app.state.relay = Relay(app.state.pool, app.state.producer)
        tasks = [asyncio.create_task(app.state.relay.run())]
        tasks += [asyncio.create_task(task(app.state)) for task in background]
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await app.state.producer.stop()
        await app.state.pool.close()

    async def database() -> None:
        await app.state.pool.fetchval("select 1")

    async def kafka() -> None:
        await app.state.producer.client.fetch_all_metadata()

    app = create_service_app(
        title,
        lifespan=lifespan,
        readiness={"database": database, "kafka": kafka},
        description=description,
        version="0.1.0",
    )
    app.state.settings = settings
    install_problem_handlers(app)
    for router in routers:
        app.include_router(router)
    return app
