"""Bearer tokens: verification for every request, and development tokens for `make token`."""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import jwt

from shaobing_contracts.provenance import SourceSystem

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
    sources: Sequence[str] = (),
    ttl_seconds: int = 12 * 3600,
) -> str:
    """An HS256 token in the shape the services expect (iss, aud, sub, role, areas, and for a
    feed the sources it may post to)."""
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
    if sources:
        claims["sources"] = list(sources)
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def principal_from(token: str, settings: CommonSettings) -> Principal:
    """Verify signature, issuer, audience and expiry; read role and area scopes."""
    try:
        key, algorithms = _verification_key(token, settings)
        claims = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
        role = _role(_claim(claims, settings.jwt_role_claim))
    except (jwt.PyJWTError, ValueError) as exc:
        raise InvalidToken(str(exc)) from exc
    areas = _claim(claims, settings.jwt_areas_claim)
    if not isinstance(areas, list) or not all(
        isinstance(a, str) and _AREA_PREFIX.fullmatch(a) for a in areas
    ):
        raise InvalidToken(f"claim '{settings.jwt_areas_claim}' must be a list of area prefixes")
    sources = _claim(claims, settings.jwt_sources_claim) or []
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise InvalidToken(f"claim '{settings.jwt_sources_claim}' must be a list of source names")
    return Principal(str(claims["sub"]), role, tuple(areas), tuple(sources))


def _verification_key(token: str, settings: CommonSettings) -> tuple[Any, list[str]]:
    """The provider's key for this token (JWKS by kid, or the configured one), else the secret."""
    if settings.jwt_jwks_url:
        client = _jwks(settings.jwt_jwks_url, settings.jwt_jwks_cooldown_seconds)
        return client.get_signing_key_from_jwt(token), settings.jwt_algorithms
    if settings.jwt_public_key:
        return settings.jwt_public_key, settings.jwt_algorithms
    return settings.jwt_secret, ["HS256"]


@lru_cache(maxsize=4)
def _jwks(url: str, cooldown: float) -> jwt.PyJWKClient:
    """One client per URL: it caches the keys and refetches when a token names an unknown kid."""
    return jwt.PyJWKClient(url, lifespan=300, timeout=10, cooldown_duration=cooldown)


def _claim(claims: dict, path: str) -> object:
    value: object = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _role(value: object) -> Role:
    """A role claim is one role, or a list (as providers give groups) with exactly one of ours."""
    if isinstance(value, list):
        ours = {v for v in value if v in Role.__members__.values()}
        if len(ours) != 1:
            raise ValueError(f"the role claim must hold exactly one Shaobing role, not {len(ours)}")
        value = ours.pop()
    return Role(value)


def _source_names(value: str) -> list[str]:
    names = value.split(",")
    if unknown := [n for n in names if n not in SourceSystem.__members__.values()]:
        raise argparse.ArgumentTypeError(f"not a source system: {', '.join(unknown)}")
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description="print a development bearer token")
    parser.add_argument("--role", default="caseworker", choices=[r.value for r in Role])
    parser.add_argument("--area", default="310110", help="area prefixes, comma-separated")
    parser.add_argument(
        "--source",
        type=_source_names,
        default=list(SourceSystem),
        help="a feed's source systems, comma-separated (default: all)",
    )
    parser.add_argument("--subject", default=None)
    args = parser.parse_args()
    role = Role(args.role)
    print(
        issue_token(
            CommonSettings(),
            subject=args.subject or f"dev-{role.value}",
            role=role,
            areas=args.area.split(","),
            sources=args.source if role is Role.FEED else (),
        )
    )


if __name__ == "__main__":
    main()
