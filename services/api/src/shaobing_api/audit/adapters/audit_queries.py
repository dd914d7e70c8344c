"""Reading the audit trail, inside the caller's areas."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from ...common.adapters.scopes import scope_patterns


async def list_entries(
    conn: asyncpg.Connection,
    *,
    scopes: Sequence[str],
    unscoped_too: bool,
    object_type: str | None,
    object_id: str | None,
    actor: str | None,
    before: int | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Newest first, keyset-paged by seq; entries without an area only when `unscoped_too`."""
    return await conn.fetch(
        """select seq, at, actor, role, action, object_type, object_id, area_code, details,
                  hash
           from audit_log
           where (area_code like any($1::text[]) or (area_code is null and $2))
             and ($3::text is null or object_type = $3)
             and ($4::text is null or object_id = $4)
             and ($5::text is null or actor = $5)
             and ($6::bigint is null or seq < $6)
           order by seq desc limit $7""",
        scope_patterns(scopes),
        unscoped_too,
        object_type,
        object_id,
        actor,
        before,
        limit,
    )
