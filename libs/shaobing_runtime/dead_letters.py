"""Dead letters kept queryable in PostgreSQL (GET /v1/dead-letters), whichever service wrote."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from shaobing_contracts.dead_letter import DeadLetter


def without_nul(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL: shown as U+FFFD in what is kept of bad input."""
    return value.replace("\x00", "\ufffd") if value else value


async def keep_dead_letters(conn: asyncpg.Connection, letters: Sequence[DeadLetter]) -> None:
    """Insert them; a letter already kept (same id: same input, same reason) is not doubled."""
    if not letters:
        return
    await conn.executemany(
        """insert into dead_letters (id, service, source, item, field, reason, raw, received_at,
                                     correlation_id)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (id) do nothing""",
        [
            (
                d.id,
                d.service,
                d.source,
                d.item,
                without_nul(d.field),
                without_nul(d.reason),
                without_nul(d.raw),
                d.received_at,
                d.correlation_id,
            )
            for d in letters
        ],
    )
