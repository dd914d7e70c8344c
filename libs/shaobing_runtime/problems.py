"""RFC 9457 problem details, the one error shape of every HTTP endpoint."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

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
