"""Reading the notifications (政策找人). Every query takes the caller's area scopes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from .alert_queries import scope_patterns


@dataclass(frozen=True)
class NotificationFilter:
    status: str | None = None
    benefit: str | None = None
    policy_id: str | None = None
    area: str | None = None


async def list_notifications(
    conn: asyncpg.Connection,
    *,
    scopes: Sequence[str],
    where: NotificationFilter,
    limit: int,
    before_seq: int | None,
) -> list[asyncpg.Record]:
    """Newest first, keyset-paged by seq, inside the scopes."""
    return await conn.fetch(
        """select id, policy_id, policy_version, benefit, stage, period, id_number, area_code,
                  status, evidence, explanation, raised_at, stored_at, seq
           from notifications
           where area_code like any($1::text[])
             and ($2::text is null or status = $2) and ($3::text is null or benefit = $3)
             and ($4::text is null or policy_id = $4)
             and ($5::text is null or area_code like $5 || '%')
             and ($6::bigint is null or seq < $6)
           order by seq desc limit $7""",
        scope_patterns(scopes),
        where.status,
        where.benefit,
        where.policy_id,
        where.area,
        before_seq,
        limit,
    )
