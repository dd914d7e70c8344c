"""The services' database role in the local stack: a login role that owns nothing.

Migrations run as the database's owner; the services connect as `shaobing_app`, a member of
`shaobing_service` (migration 0016: rows of every table, of the audit trail only SELECT and
INSERT, no DDL). In Kubernetes CloudNativePG declares the same role (deploy/k8s/base).
"""

from __future__ import annotations

import secrets
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

SERVICE_ROLE = "shaobing_app"


def with_credentials(url: str, user: str, password: str) -> str:
    """`url` with another user and password (host, port, database and options kept)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{quote(user)}:{quote(password)}@{host}"))


async def ensure_service_role(owner_url: str) -> str:
    """Create the services' login role, or give it a new password; the URL the services use.

    Needs a superuser (the embedded PostgreSQL's): only one may create a role that bypasses
    row-level security."""
    password = secrets.token_urlsafe(24)
    conn = await asyncpg.connect(owner_url)
    try:
        exists = await conn.fetchval("select true from pg_roles where rolname = $1", SERVICE_ROLE)
        statement = await conn.fetchval(
            "select format('%s role %I login bypassrls password %L', $1::text, $2::text, $3::text)",
            "alter" if exists else "create",
            SERVICE_ROLE,
            password,
        )
        await conn.execute(statement)
        await conn.execute(f"grant shaobing_service to {SERVICE_ROLE}")
    finally:
        await conn.close()
    return with_credentials(owner_url, SERVICE_ROLE, password)
