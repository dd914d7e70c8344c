"""PostgreSQL at the edge: a connection pool and the schema migrations."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import orjson

from .access import Principal

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def _json_text(value: object) -> str:
    return orjson.dumps(value, default=str).decode()


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(
            kind,
            schema="pg_catalog",
            encoder=_json_text,
            decoder=orjson.loads,
        )


async def create_pool(
    database_url: str, *, max_size: int = 10, application_name: str = "shaobing"
) -> asyncpg.Pool:
    """A pool whose json/jsonb columns read and write Python values; its sessions carry the
    service's name (pg_stat_activity, the server's logs). It connects on first use: a service
    starts while the database is away (and waits for it, schema.py)."""
    return await asyncpg.create_pool(
        database_url,
        min_size=0,
        max_size=max_size,
        init=_init_connection,
        command_timeout=60,
        server_settings={"application_name": application_name},
    )


# SQLSTATE classes after which the same work may well succeed if tried again: the connection
# (08), the operator (57: shutdown, starting up, a statement or lock timeout), resources (53),
# a rolled-back transaction (40: deadlock, serialization); and a lock not available now.
_TRANSIENT_STATES = ("08", "57", "53", "40", "55P03")


def is_transient(exc: BaseException) -> bool:
    """Whether the database may answer if asked again: it is away, restarting or busy, or the
    connection broke; not a query or a value it refuses."""
    if isinstance(exc, OSError | TimeoutError | asyncpg.InterfaceError):
        return True
    state = getattr(exc, "sqlstate", None) or ""
    return isinstance(exc, asyncpg.PostgresError) and state.startswith(_TRANSIENT_STATES)


@asynccontextmanager
async def scoped(pool: asyncpg.Pool, principal: Principal) -> AsyncIterator[asyncpg.Connection]:
    """A connection in one transaction that PostgreSQL keeps to the caller's areas.

    Row-level security (migration 0011) hides every row of another area from it, whatever a
    query forgets to filter; the role and settings end with the transaction.
    """
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """select set_config('role', 'shaobing_scoped', true),
                      set_config('shaobing.areas', $1, true),
                      set_config('shaobing.role', $2, true)""",
            ",".join(principal.areas),
            principal.role.value,
        )
        yield conn


async def in_chunks(
    conn: asyncpg.Connection, sql: str, *args: object, size: int = 5000
) -> AsyncIterator[list[asyncpg.Record]]:
    """A query's rows `size` at a time from a server-side cursor (in the caller's transaction):
    a result of any length in bounded memory."""
    await conn.execute("set local cursor_tuple_fraction = 1")  # plan for all rows, not the first
    cursor = await conn.cursor(sql, *args)
    while rows := await cursor.fetch(size):
        yield rows


def _yoyo_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(scheme="postgresql+psycopg"))


def shipped_migrations() -> list[str]:
    """The ids of the migrations this release ships, in order: the schema it needs."""
    from yoyo import read_migrations

    return [m.id for m in read_migrations(str(MIGRATIONS))]


def migrate(database_url: str) -> list[str]:
    """Apply pending migrations under an advisory lock; returns the ids applied."""
    from yoyo import get_backend, read_migrations

    backend = get_backend(_yoyo_url(database_url))
    migrations = read_migrations(str(MIGRATIONS))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return [m.id for m in pending]


# The roles the migrations grant to; CloudNativePG makes them (managed.roles), migrations never.
ROLES_MIGRATIONS_NEED = ("shaobing_scoped", "shaobing_service")


class NotYet(Exception):
    """The database is not ready for the migrations yet: worth waiting for."""


def migrate_when_ready(database_url: str, wait_seconds: float) -> list[str]:
    """`migrate`, once the database takes connections and has the roles the migrations grant
    to (a first install starts the migration Job while CloudNativePG is still creating the
    database and its managed roles): tried every 5 s for up to `wait_seconds`."""
    import psycopg

    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            _roles_made(database_url)
            return migrate(database_url)
        except (psycopg.OperationalError, NotYet) as exc:
            if time.monotonic() >= deadline:
                raise
            reason = str(exc).strip().splitlines()[-1]
            print(f"the database is not ready yet ({reason}); again in 5 s", flush=True)
            time.sleep(5)


def _roles_made(database_url: str) -> None:
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "select rolname from pg_roles where rolname = any(%s)", [list(ROLES_MIGRATIONS_NEED)]
        ).fetchall()
    missing = sorted(set(ROLES_MIGRATIONS_NEED) - {name for (name,) in rows})
    if missing:
        raise NotYet(f"no role {', '.join(missing)} (CloudNativePG's managed.roles) yet")


def main() -> None:
    """`python -m shaobing_runtime.database`: apply pending migrations to DATABASE_URL (the
    Kubernetes migration Job), waiting up to MIGRATE_WAIT_SECONDS for the database and its roles."""
    from .settings import CommonSettings

    settings = CommonSettings()
    applied = migrate_when_ready(settings.database_url, settings.migrate_wait_seconds)
    print(f"migrations applied: {', '.join(applied) or 'none pending'}", flush=True)


if __name__ == "__main__":
    main()
