"""The authentication dependency: bearer header for the API, a cookie for the pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from .access import Principal, Role
from .tokens import InvalidToken, principal_from

COOKIE = "shaobing_token"


def current_principal(request: Request) -> Principal:
    """The verified caller, or 401 with a WWW-Authenticate challenge."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    token = token or request.cookies.get(COOKIE)
    if not token:
        raise HTTPException(401, "missing bearer token", {"WWW-Authenticate": "Bearer"})
    try:
        return principal_from(token, request.app.state.settings)
    except InvalidToken as exc:
        raise HTTPException(
            401, f"invalid token: {exc}", {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        ) from exc


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role):
    """A dependency admitting only the given roles (403 otherwise)."""

    def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            raise HTTPException(403, f"role {principal.role.value} may not do this")
        return principal

    return Depends(check)
