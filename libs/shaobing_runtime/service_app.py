"""The FastAPI shell every service shares: health, readiness, metrics, correlation ids."""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Any

import prometheus_client
import structlog
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from prometheus_fastapi_instrumentator import Instrumentator
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .body_caps import CapBodies, RouteCaps
from .event_log import prune_forever
from .health import Degraded
from .kafka import client_options, start_producer, stop_producer
from .logging import correlation_id
from .periodic import every
from .problems import RefuseNulInQuery, install_problem_handlers
from .relay import Relay
from .schema import DatabaseWork
from .settings import CommonSettings

ReadinessCheck = Callable[[], Awaitable[None]]
CHECK_SECONDS = 3.0  # a check that takes longer fails: /readyz answers within seconds, always


def create_service_app(
    title: str,
    *,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[Any]],
    dependencies: dict[str, ReadinessCheck],
    max_body_bytes: int,
    checks: dict[str, ReadinessCheck] | None = None,
    body_caps: RouteCaps | None = None,
    **fastapi_options: Any,
) -> FastAPI:
    """A FastAPI app with /healthz, /readyz and /metrics; of FastAPI's own pages only the API's
    documentation (/docs, /openapi.json) unless options say otherwise. Request bodies are capped
    at `max_body_bytes`, or at a route's own cap in `body_caps`.

    /readyz runs the checks of the `dependencies` (also published as `shaobing_dependency_up`
    every 15 s) and the service's own `checks` (its consumer, its relay): 503 naming each that
    failed, and why; a check raising `Degraded` is reported under `degraded` without making the
    service unready."""
    everything = {**dependencies, **(checks or {})}

    @asynccontextmanager
    async def started(app: FastAPI) -> AsyncIterator[None]:
        async with lifespan(app):
            _tune_gc()
            probing = asyncio.create_task(_probe_forever(dependencies))
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
        found = await asyncio.gather(*(_outcome(check) for check in everything.values()))
        outcomes = dict(zip(everything, found, strict=True))
        failures = {n: why for n, (degraded, why) in outcomes.items() if why and not degraded}
        degraded = {n: why for n, (is_degraded, why) in outcomes.items() if is_degraded}
        body: dict[str, Any] = {"status": "unavailable" if failures else "ready"}
        body |= {"failures": failures} if failures else {}
        body |= {"degraded": degraded} if degraded else {}
        if failures:
            structlog.get_logger().warning("not_ready", failures=failures)
        return JSONResponse(body, status_code=503 if failures else 200)

    _require_bearer_in_openapi(app)
    Instrumentator(excluded_handlers=["/metrics", "/healthz", "/readyz"]).instrument(app).expose(
        app, include_in_schema=False
    )
    return app


async def _outcome(check: ReadinessCheck) -> tuple[bool, str | None]:
    """(degraded, why) of one check: (False, None) when it passes."""
    try:
        await asyncio.wait_for(check(), CHECK_SECONDS)
    except Degraded as exc:
        return True, str(exc)
    except TimeoutError:
        return False, f"no answer within {CHECK_SECONDS:.0f} s"
    except Exception as exc:
        return False, str(exc) or type(exc).__name__
    return False, None


DEPENDENCY_UP = prometheus_client.Gauge(
    "shaobing_dependency_up",
    "Whether the service's readiness check of a dependency (database, kafka) passed",
    ["dependency"],
)


async def _probe_forever(dependencies: dict[str, ReadinessCheck], every: float = 15) -> None:
    """The dependencies' checks as metrics: a database that went away shows on the dashboards."""
    while True:
        for name, check in dependencies.items():
            degraded, why = await _outcome(check)
            DEPENDENCY_UP.labels(name).set(0 if degraded or why else 1)
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
StateCheck = Callable[[Any], Awaitable[None]]  # a readiness check given the app state


def _given(state: Callable[[], Any], check: StateCheck) -> ReadinessCheck:
    return lambda: check(state())


def create_publishing_app(
    title: str,
    settings: CommonSettings,
    *,
    service: str,
    routers: list[APIRouter],
    description: str,
    background: tuple[BackgroundTask, ...] = (),
    checks: dict[str, StateCheck] | None = None,
    body_caps: RouteCaps | None = None,
) -> FastAPI:
    """A service that stores what it accepts in PostgreSQL and relays it to Kafka (only
    `service`'s topics). With the broker away it goes on accepting (readiness: degraded).

    Requests, the relay and each background task (given the app state: pool, relay) wait for
    the schema (schema.py); the producer starts whenever the broker answers. The tasks are
    cancelled on shutdown; `checks` are more readiness checks, given the app state. Bodies are
    capped at HTTP_MAX_BODY_BYTES unless `body_caps` gives a route its own.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        producing = app.state.producing = asyncio.create_task(
            start_producer(
                settings.kafka_bootstrap_servers,
                idempotent=settings.kafka_idempotent_producer,
                **client_options(settings),
            )
        )
        async with database:
            app.state.pool = database.pool
            relay = app.state.relay = Relay(
                database.pool, service=service, max_message_bytes=settings.kafka_max_message_bytes
            )

            async def publish() -> None:
                await relay.run(await asyncio.shield(producing))

            retention = settings.event_log_retention_days
            database.start(
                publish,
                partial(every, 15, relay.measure_backlog, name="outbox_backlog"),
                partial(prune_forever, database.pool, retention, every_seconds=3600),
                *(partial(task, app.state) for task in background),
            )
            yield
        await stop_producer(producing)

    async def kafka() -> None:
        producing = app.state.producing
        if not producing.done():
            raise Degraded("broker not reached yet: accepting anyway")
        try:  # within the check's own time: a broker that hangs is as away as one that refuses
            await asyncio.wait_for(producing.result().client.fetch_all_metadata(), 2)
        except Exception as exc:
            raise Degraded(f"broker unreachable ({type(exc).__name__}): accepting anyway") from exc

    async def relay() -> None:
        await app.state.relay.check()

    database = DatabaseWork(settings.database_url, service=service)

    app = create_service_app(
        title,
        lifespan=lifespan,
        dependencies={"database": database.check_database, "kafka": kafka},
        checks={"schema": database.check_schema, "relay": relay}
        | {name: _given(lambda: app.state, check) for name, check in (checks or {}).items()},
        max_body_bytes=settings.http_max_body_bytes,
        body_caps=body_caps,
        description=description,
        version="0.1.0",
    )
    app.state.settings, app.state.database = settings, database
    install_problem_handlers(app)
    for router in routers:
        app.include_router(router, dependencies=[Depends(_schema_there)])
    return app


async def _schema_there(request: Request) -> None:
    """Requests wait for the schema as the service's work does (schema.py): before it, a 503
    saying what it waits for. Not mapped from UndefinedTable: against an older schema a request
    may well succeed, and be wrong; and once ready, a missing table is a bug, not a pause."""
    waiting = request.app.state.database.waiting()
    if waiting:
        detail = f"not ready, {waiting}: nothing was done, send it again"
        raise HTTPException(503, detail, headers={"retry-after": "5"})
