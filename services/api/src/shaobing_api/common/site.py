"""The pages' front door: / goes to the queue; development sign-in sets the pages' cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse

from shaobing_runtime.http_auth import COOKIE
from shaobing_runtime.tokens import InvalidToken, principal_from

router = APIRouter(include_in_schema=False)


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/ui/alerts")


@router.get("/ui/login")
async def login(
    request: Request,
    token: str,
    next: Annotated[str, Query(pattern=r"^/ui/[A-Za-z0-9/_-]*$")] = "/ui/alerts",
) -> RedirectResponse:
    """Development sign-in: a valid token becomes an HttpOnly cookie for the pages, then `next`
    (a page of this api only: no open redirect). Outside development the cookie is Secure: it
    travels over HTTPS only."""
    settings = request.app.state.settings
    try:
        principal_from(token, settings)
    except InvalidToken as exc:
        raise HTTPException(401, f"invalid token: {exc}") from exc
    response = RedirectResponse(next, status_code=303)
    secure = not settings.in_development
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=secure)
    return response
