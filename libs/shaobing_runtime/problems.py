"""RFC 9457 problem details, the one error shape of every HTTP endpoint."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from .database import is_transient

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    """A problem+json response; extra members (e.g. errors) are added as given."""
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def field_errors(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """pydantic errors as [{field, reason}] with dotted field paths."""
    return [
        {
            "field": ".".join(str(p) for p in e["loc"] if p not in ("body",)) or "body",
            "reason": e["msg"],
        }
        for e in errors
    ]


def install_problem_handlers(app: FastAPI) -> None:
    """Every HTTP and validation error leaves as problem+json."""

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        response = problem(exc.status_code, HTTPStatus(exc.status_code).phrase, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors(list(exc.errors()))
        fields = ", ".join(e["field"] for e in errors)
        return problem(422, "Invalid request", f"invalid field(s): {fields}", errors=errors)

    async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
        """The database is away, restarting or held by a lock: nothing of the request was
        stored; the same request later will be (Debezium Server retries any non-2xx)."""
        if not is_transient(exc):
            raise exc
        response = problem(
            503,
            "Service Unavailable",
            f"the database cannot be reached now ({type(exc).__name__}): nothing was stored, "
            "send it again",
        )
        response.headers["retry-after"] = "5"
        return response

    for kind in (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError):
        app.add_exception_handler(kind, _unavailable)

    @app.exception_handler(asyncpg.DataError)
    async def _unstorable(_: Request, exc: asyncpg.DataError) -> JSONResponse:
        """A value PostgreSQL cannot hold (a NUL in text, a number out of range): the client's."""
        return problem(422, "Invalid request", f"a value cannot be stored: {exc.sqlstate}")


class RefuseNulInQuery:
    """A query parameter holding NUL (U+0000), which no text column can, is a 422 naming it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if b"%00" in query or b"\x00" in query:
            pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            names = sorted({k for k, v in pairs if "\x00" in k + v}) or ["query"]
            errors = [{"field": n, "reason": "contains a NUL character"} for n in names]
            response = problem(
                422, "Invalid request", f"invalid field(s): {', '.join(names)}", errors=errors
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
