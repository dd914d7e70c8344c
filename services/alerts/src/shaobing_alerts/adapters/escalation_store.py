"""Escalating overdue alerts: one statement marks them and writes their timeline, then the audit."""

from __future__ import annotations

from datetime import date

import asyncpg

from shaobing_runtime import audit

ACTOR = "system:escalation"


async def escalate_overdue(conn: asyncpg.Connection, today: date) -> int:
    """Mark every undecided alert due before `today` and not yet escalated; how many were."""
    async with conn.transaction():
        rows = await conn.fetch(
            """with escalated as (
                   update alerts set escalated_at = clock_timestamp()
                   where status in ('OPEN', 'CLAIMED') and due_date < $1 and escalated_at is null
                   returning id, area_code, due_date, severity, status, claimed_by),
               described as (
                   select id, area_code,
                          jsonb_build_object('due_date', due_date, 'severity', severity,
                                             'status', status, 'claimed_by', claimed_by) as details
                   from escalated),
               timeline as (
                   insert into alert_events (alert_id, kind, actor, details)
                   select id, 'ESCALATED', $2, details from described)
               select id, area_code, details from described order by id""",
            today,
            ACTOR,
        )
        entries = [
            audit.AuditEntry(
                ACTOR,
                "system",
                "alert.escalated",
                "alert",
                str(r["id"]),
                r["area_code"],
                r["details"],
            )
            for r in rows
        ]
        await audit.append(conn, entries)
    return len(rows)
