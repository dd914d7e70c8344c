"""An audit trail its keeper cannot rewrite: what the database's owner does behind the services'
backs (truncate, delete the tail, rewrite an entry and recompute the chain) is reported by the
verify command and the api; the services connect as a role that may only read and append."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import asyncpg

from .conftest import fetch


def _owner(stack) -> str:
    return stack.owner_database_url


def _services(stack) -> str:
    return stack.service_env("api")["DATABASE_URL"]


class _Undo(Exception):
    pass


async def _attempt(url: str, sql: str) -> str:
    """What PostgreSQL answers `sql` (undone whatever it did): the error, or 'done'."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute(sql)
            raise _Undo
    except _Undo:
        return "done"
    except asyncpg.PostgresError as exc:
        return type(exc).__name__
    finally:
        await conn.close()


def test_truncating_the_audit_trail_is_refused_even_to_its_owner(stack):
    assert asyncio.run(_attempt(_owner(stack), "truncate audit_log")) == "RaiseError"


def test_the_services_connect_as_a_role_that_may_neither_alter_nor_rewrite_the_trail(stack):
    [owner] = fetch(_owner(stack), "select tableowner from pg_tables where tablename = 'audit_log'")
    sessions = fetch(
        _owner(stack),
        """select distinct usename from pg_stat_activity
           where datname = current_database() and backend_type = 'client backend'
             and pid <> pg_backend_pid()""",
    )
    service_role = urlsplit(_services(stack)).username

    assert {s["usename"] for s in sessions} == {service_role}
    assert service_role != owner["tableowner"]
    attempts = [
        "update audit_log set actor = actor",
        "delete from audit_log",
        "truncate audit_log",
        "alter table audit_log disable trigger user",
    ]
    answers = {sql: asyncio.run(_attempt(_services(stack), sql)) for sql in attempts}
    assert answers == dict.fromkeys(attempts, "InsufficientPrivilegeError")
