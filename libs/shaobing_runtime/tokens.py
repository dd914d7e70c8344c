"""Bearer tokens: verification for every request, and development tokens for `make token`."""

from __future__ import annotations

import argparse
import re
import time

import jwt

from .access import Principal, Role
from .settings import CommonSettings

_AREA_PREFIX = re.compile(r"[0-9]{2,12}")


class InvalidToken(Exception):
    """The token is missing, expired, forged or lacks a claim; the message says which."""


def issue_token(
    settings: CommonSettings,
    *,
    subject: str,
    role: Role,
    areas: list[str],
    ttl_seconds: int = 12 * 3600,
) -> str:
    """An HS256 token in the shape the api expects (iss, aud, sub, role, areas)."""
    now = int(time.time())
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": subject,
        "role": role.value,
        "areas": areas,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def principal_from(token: str, settings: CommonSettings) -> Principal:
    """Verify signature, issuer, audience and expiry; read role and area scopes."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=["HS256"],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
        role = Role(claims.get("role"))
    except (jwt.PyJWTError, ValueError) as exc:
        raise InvalidToken(str(exc)) from exc
    areas = claims.get("areas")
    if not isinstance(areas, list) or not all(
        isinstance(a, str) and _AREA_PREFIX.fullmatch(a) for a in areas
    ):
        raise InvalidToken("claim 'areas' must be a list of area-code prefixes")
    return Principal(subject=str(claims["sub"]), role=role, areas=tuple(areas))


def main() -> None:
    parser = argparse.ArgumentParser(description="print a development bearer token")
    parser.add_argument("--role", default="caseworker", choices=[r.value for r in Role])
    parser.add_argument("--area", default="310110", help="area prefixes, comma-separated")
    parser.add_argument("--subject", default=None)
    args = parser.parse_args()
    role = Role(args.role)
    print(
        issue_token(
            CommonSettings(),
            subject=args.subject or f"dev-{role.value}",
            role=role,
            areas=args.area.split(","),
        )
    )


if __name__ == "__main__":
    main()
