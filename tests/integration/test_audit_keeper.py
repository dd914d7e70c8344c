"""An audit trail its keeper cannot rewrite: what the database's owner does behind the services'
backs (truncate, delete the tail, rewrite an entry and recompute the chain) is reported by the
verify command and the api; the services connect as a role that may only read and append."""

from __future__ import annotations

import asyncio

import asyncpg


def _owner(stack) -> str:
    return stack.database_url


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
