"""Request bodies capped in bytes before anything reads or parses them.

One ASGI middleware for every service: each route may have its own cap (a CDC batch, a CSV
export, a list of enrolments), every other body gets the default. A Content-Length above the cap
is answered 413 before the app runs; a body without one (chunked transfer) is counted as it
arrives and refused once it passes the cap, so no more than the cap is ever held.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from http import HTTPStatus

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import problem

# (method, route path as the router writes it, e.g. "/v1/sources/{source}/changes") → bytes
RouteCaps = Mapping[tuple[str, str], int]


class BodyTooLarge(HTTPException):
    """The body passed its cap while it was read (a 413 problem naming the cap)."""

    def __init__(self, cap: int) -> None:
        super().__init__(413, f"body: larger than {cap} bytes")


class CapBodies:
    """Every request body capped: by its route's cap, else by `default` bytes."""

    def __init__(self, app: ASGIApp, *, default: int, routes: RouteCaps | None = None) -> None:
        self.app = app
        self.default = default
        self.routes = [
            (method, compile_path(path)[0], cap) for (method, path), cap in (routes or {}).items()
        ]

    def cap_of(self, method: str, path: str) -> int:
        """The cap of the first route matching, else the default."""
        matching = (cap for m, pattern, cap in self.routes if m == method and pattern.match(path))
        return next(matching, self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap_of(scope["method"], scope["path"])
        if _declared_length(scope) > cap:
            refusal = problem(413, HTTPStatus(413).phrase, BodyTooLarge(cap).detail)
            await refusal(scope, receive, send)
            return
        await self.app(scope, _counted(receive, cap), send)


def _declared_length(scope: Scope) -> int:
    """The Content-Length the client declared (0 when none or not a number)."""
    length = Headers(scope=scope).get("content-length", "")
    return int(length) if re.fullmatch(r"[0-9]{1,19}", length) else 0


def _counted(receive: Receive, cap: int) -> Receive:
    """`receive` raising BodyTooLarge once the bytes received pass the cap."""
    received = 0

    async def counting() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > cap:
                raise BodyTooLarge(cap)
        return message

    return counting
