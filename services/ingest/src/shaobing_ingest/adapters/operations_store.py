"""Dead letters for operators to read, and replays of the event log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from shaobing_runtime.event_log import mark_for_replay


async def list_dead_letters(
    conn: asyncpg.Connection,
    *,
    source: str | None,
    field: str | None,
    limit: int,
    before_seq: int | None,
) -> list[asyncpg.Record]:
    """Newest first, keyset-paged by seq."""
    return await conn.fetch(
        """select seq, id, service, source, item, field, reason, raw, received_at, correlation_id
           from dead_letters
           where ($1::text is null or source = $1) and ($2::text is null or field = $2)
             and ($3::bigint is null or seq < $3)
           order by seq desc limit $4""",
        source,
        field,
        before_seq,
        limit,
    )


async def replay(
    pool: asyncpg.Pool,
    *,
    since: datetime | None,
    until: datetime | None,
    topics: Sequence[str] | None,
) -> int:
    """Queue the accepted events of a time window (or all) to be published again."""
    async with pool.acquire() as conn, conn.transaction():
        return await mark_for_replay(conn, since=since, until=until, topics=topics)
