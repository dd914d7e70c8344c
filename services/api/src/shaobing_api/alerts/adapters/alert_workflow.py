"""Writing a workflow step: the alert row (version-checked), its timeline and the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from shaobing_runtime import audit
from shaobing_runtime.access import Principal

from ...common.adapters.scopes import scope_patterns
from ..domain.workflow import Change, StepRequest
from .alert_queries import COLUMNS


async def locked(
    conn: asyncpg.Connection, *, scopes: Sequence[str], alert_id: UUID
) -> asyncpg.Record | None:
    """The alert, locked for this transaction, if it lies inside the scopes."""
    return await conn.fetchrow(
        """select id, status, claimed_by, assignee, version, area_code from alerts
           where id = $1 and area_code like any($2::text[]) for update""",
        alert_id,
        scope_patterns(scopes),
    )


async def write_step(
    conn: asyncpg.Connection,
    row: asyncpg.Record,
    change: Change,
    request: StepRequest,
    actor: Principal,
) -> asyncpg.Record:
    """Apply the change to the locked row; record it in the timeline and the audit trail."""
    updated = await conn.fetchrow(
        f"""update alerts set status = $2, claimed_by = $3, assignee = $4,
                  decision = coalesce($5, decision),
                  decided_by = case when $5::jsonb is null then decided_by else $6 end,
                  decided_at = case when $5::jsonb is null then decided_at else now() end,
                  version = version + 1
            where id = $1 returning {COLUMNS}""",
        row["id"],
        change.status.value,
        change.claimed_by,
        change.assignee,
        change.decision,
        actor.subject,
    )
    details = {
        "from": row["status"],
        "to": change.status.value,
        "text": request.text,
        **({"assignee": change.assignee} if request.assignee else {}),
        **(change.decision or {}),
    }
    await conn.execute(
        "insert into alert_events (alert_id, kind, actor, details) values ($1, $2, $3, $4)",
        row["id"],
        request.step.value.upper(),
        actor.subject,
        details,
    )
    entry = audit.entry_of(
        actor, f"alert.{request.step.value}", "alert", str(row["id"]), row["area_code"], **details
    )
    await audit.append(conn, [entry])
    return updated


async def record_full_view(
    conn: asyncpg.Connection, actor: Principal, alert_id: UUID, area_code: str
) -> None:
    """A full-ID role opened the whole record: its timeline and the audit trail say so."""
    async with conn.transaction():
        await conn.execute(
            """insert into alert_events (alert_id, kind, actor, details)
               values ($1, 'FULL_RECORD_VIEWED', $2, $3)""",
            alert_id,
            actor.subject,
            {"role": actor.role.value},
        )
        viewed = audit.entry_of(
            actor, "alert.full_record_viewed", "alert", str(alert_id), area_code
        )
        await audit.append(conn, [viewed])
