"""Reading the notifications (政策找人). Every query takes the caller's area scopes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from shaobing_runtime import audit
from shaobing_runtime.access import Principal

from ...common.adapters.scopes import scope_patterns

_COLUMNS = """id, policy_id, policy_version, benefit, stage, period, id_number, area_code, status,
    evidence, explanation, raised_at, stored_at, version, seq, withdrawn_at, withdrawal"""


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
    """Newest first, keyset-paged by seq, inside the scopes; WITHDRAWN ones only when asked
    for by status (nobody is to be contacted about them)."""
    return await conn.fetch(
        f"""select {_COLUMNS} from notifications
           where area_code like any($1::text[])
             and (status = $2 or ($2::text is null and status <> 'WITHDRAWN'))
             and ($3::text is null or benefit = $3)
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


async def locked_notification(
    conn: asyncpg.Connection, *, scopes: Sequence[str], notification_id: UUID
) -> asyncpg.Record | None:
    """The notification, locked for this transaction, if it lies inside the scopes."""
    return await conn.fetchrow(
        f"""select {_COLUMNS} from notifications
            where id = $1 and area_code like any($2::text[]) for update""",
        notification_id,
        scope_patterns(scopes),
    )


async def write_notification_step(
    conn: asyncpg.Connection,
    row: asyncpg.Record,
    status: str,
    step: str,
    text: str,
    actor: Principal,
) -> asyncpg.Record:
    """The new status (version raised) and the audit entry, in the caller's transaction."""
    updated = await conn.fetchrow(
        f"""update notifications set status = $2, version = version + 1 where id = $1
            returning {_COLUMNS}""",
        row["id"],
        status,
    )
    details = {"from": row["status"], "to": status, "text": text}
    entry = audit.entry_of(
        actor, f"notification.{step}", "notification", str(row["id"]), row["area_code"], **details
    )
    await audit.append(conn, [entry])
    return updated
