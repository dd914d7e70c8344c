"""The edge's one mapping of a domain refusal to HTTP: a problem+json with the kind's status."""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shaobing_runtime.problems import problem

from .domain.refusals import Refusal, Refused

STATUS = {
    Refusal.CONFLICT: 409,
    Refusal.FORBIDDEN: 403,
    Refusal.INVALID: 422,
    Refusal.NOT_FOUND: 404,
}


def install_refusals(app: FastAPI) -> None:
    """A refusal raised anywhere below a route answers as an HTTPException of its status would."""

    @app.exception_handler(Refused)
    async def _refused(_: Request, refused: Refused) -> JSONResponse:
        status = STATUS[refused.kind]
        return problem(status, HTTPStatus(status).phrase, refused.reason)
