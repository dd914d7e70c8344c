"""The FastAPI shell every service shares: health, readiness, metrics, correlation ids."""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import prometheus_client
import structlog
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from prometheus_fastapi_instrumentator import Instrumentator
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .body_caps import CapBodies, RouteCaps
from .database import create_pool
from .event_log import Relay, prune_forever
from .kafka import client_options, start_producer
from .logging import correlation_id
from .problems import RefuseNulInQuery, install_problem_handlers
from .settings import CommonSettings

ReadinessCheck = Callable[[], Awaitable[None]]


def create_service_app(
    title: str,
    *,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[Any]],
    readiness: dict[str, ReadinessCheck],
    max_body_bytes: int,
    body_caps: RouteCaps | None = None,
    **fastapi_options: Any,
) -> FastAPI:
    """A FastAPI app with /healthz, /readyz (running every check) and /metrics; of FastAPI's
    own pages only the API's documentation (/docs, /openapi.json) unless options say otherwise.
    Request bodies are capped at `max_body_bytes`, or at a route's own cap in `body_caps`."""

    @asynccontextmanager
    async def started(app: FastAPI) -> AsyncIterator[None]:
        async with lifespan(app):
            _tune_gc()
            probing = asyncio.create_task(_probe_forever(readiness))
            yield
            probing.cancel()

    pages = {"redoc_url": None, "swagger_ui_oauth2_redirect_url": None} | fastapi_options
    app = FastAPI(title=title, lifespan=started, **pages)
    app.add_middleware(RefuseNulInQuery)
    app.add_middleware(CapBodies, default=max_body_bytes, routes=body_caps)
    app.add_middleware(_CorrelationId)

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


DEPENDENCY_UP = prometheus_client.Gauge(
    "shaobing_dependency_up",
    "Whether the service's readiness check of a dependency (database, kafka) passed",
    ["dependency"],
)


async def _probe_forever(readiness: dict[str, ReadinessCheck], every: float = 15) -> None:
    """The readiness checks as metrics: a database that went away shows on the dashboards."""
    while True:
        for name, check in readiness.items():
            try:
                await asyncio.wait_for(check(), timeout=10)
                DEPENDENCY_UP.labels(name).set(1)
            except Exception:  # any failure of a check is "down"; /readyz says why
                DEPENDENCY_UP.labels(name).set(0)
        await asyncio.sleep(every)


def _tune_gc() -> None:
    """Services allocate many short-lived objects per request: the collector ran often enough
    to cost ~5 % of ingest's time. Objects of start-up (modules, app) are frozen out of its
    scans and the young generation collected less often: once per 500,000 allocations, more
    than a CSV chunk of 5,000 rows keeps alive at once (at 50,000 it rescanned each chunk's
    objects several times, 6 % of ingest's time). Cycles are still collected."""
    gc.freeze()
    gc.set_threshold(500_000, 20, 100)


class _CorrelationId:
    """X-Correlation-Id of the request (or a new one) bound for the logs and echoed back.

    Plain ASGI rather than @app.middleware("http"): that one relays every chunk of a request
    body through a memory stream, which cost more than parsing the body.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cid = Headers(scope=scope).get("x-correlation-id") or uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["x-correlation-id"] = cid
            await send(message)

        token = correlation_id.set(cid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation_id.reset(token)


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
    body_caps: RouteCaps | None = None,
) -> FastAPI:
    """A service that stores what it accepts in PostgreSQL and relays it to Kafka.

    Each background task is started with the app state (pool, producer, relay) and cancelled
    on shutdown. Bodies are capped at HTTP_MAX_BODY_BYTES unless `body_caps` gives a route its own.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await create_pool(settings.database_url)
        app.state.producer = await start_producer(
            settings.kafka_bootstrap_servers,
            idempotent=settings.kafka_idempotent_producer,
            **client_options(settings),
        )
        app.state.relay = Relay(app.state.pool, app.state.producer)
        retention = settings.event_log_retention_days
        tasks = [
            asyncio.create_task(app.state.relay.run()),
            asyncio.create_task(prune_forever(app.state.pool, retention, every_seconds=3600)),
        ]
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
        max_body_bytes=settings.http_max_body_bytes,
        body_caps=body_caps,
        description=description,
        version="0.1.0",
    )
    app.state.settings = settings
    install_problem_handlers(app)
    for router in routers:
        app.include_router(router)
    return app
