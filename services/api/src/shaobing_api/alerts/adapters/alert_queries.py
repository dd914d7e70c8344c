"""Reading the alert queue. Every query takes the caller's area scopes: no scope, no rows."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

import asyncpg

from shaobing_runtime.database import in_chunks

from ...common.adapters.scopes import scope_patterns

COLUMNS = """id, rule_id, rule_version, enrolment_id, program, id_number, area_code, severity,
    action, status, due_date, overpaid_months, overpaid_amount, evidence, explanation,
    raised_at, stored_at, withdrawn_at, withdrawal, claimed_by, assignee, decided_by, decided_at,
    decision, escalated_at, version, seq"""


@dataclass(frozen=True)
class AlertFilter:
    status: str | None = None
    severity: str | None = None
    area: str | None = None
    enrolment_id: str | None = None
    id_number: str | None = None


async def list_alerts(
    conn: asyncpg.Connection,
    *,
    scopes: Sequence[str],
    where: AlertFilter,
    limit: int,
    before_seq: int | None,
) -> list[asyncpg.Record]:
    """Newest first, keyset-paged by seq, inside the scopes."""
    return await conn.fetch(
        f"""select {COLUMNS} from alerts
            where area_code like any($1::text[])
              and ($2::text is null or status = $2) and ($3::text is null or severity = $3)
              and ($4::text is null or area_code like $4 || '%')
              and ($5::text is null or enrolment_id = $5)
              and ($6::text is null or id_number = $6)
              and ($7::bigint is null or seq < $7)
            order by seq desc limit $8""",
        scope_patterns(scopes),
        where.status,
        where.severity,
        where.area,
        where.enrolment_id,
        where.id_number,
        before_seq,
        limit,
    )


async def get_alert(
    conn: asyncpg.Connection, *, scopes: Sequence[str], alert_id: UUID
) -> asyncpg.Record | None:
    """One alert, or None when it does not exist or lies outside the scopes."""
    return await conn.fetchrow(
        f"select {COLUMNS} from alerts where id = $1 and area_code like any($2::text[])",
        alert_id,
        scope_patterns(scopes),
    )


async def timeline(conn: asyncpg.Connection, alert_id: UUID) -> list[asyncpg.Record]:
    """What happened to the alert, in order (the caller has read the alert itself)."""
    return await conn.fetch(
        "select kind, actor, at, details from alert_events where alert_id = $1 order by seq",
        alert_id,
    )


@dataclass(frozen=True)
class QueueFilter:
    status: str | None = None  # OPEN or CLAIMED; both when None
    severity: str | None = None
    program: str | None = None
    rule_id: str | None = None
    area: str | None = None
    assignee: str | None = None
    due_by: date | None = None  # due on or before
    overdue_on: date | None = None  # only those due before this day
    escalated: bool | None = None  # only those escalated to the supervisors (or only not)


_QUEUE_WHERE = """area_code like any($1::text[]) and status in ('OPEN', 'CLAIMED')
    and ($2::text is null or status = $2) and ($3::text is null or severity = $3)
    and ($4::text is null or program = $4) and ($5::text is null or rule_id = $5)
    and ($6::text is null or area_code like $6 || '%') and ($7::text is null or assignee = $7)
    and ($8::date is null or due_date <= $8) and ($9::date is null or due_date < $9)
    and ($10::bool is null or (escalated_at is not null) = $10)"""


def _queue_arguments(scopes: Sequence[str], where: QueueFilter) -> list:
    return [
        scope_patterns(scopes),
        where.status,
        where.severity,
        where.program,
        where.rule_id,
        where.area,
        where.assignee,
        where.due_by,
        where.overdue_on,
        where.escalated,
    ]


_QUEUE = f"""select {COLUMNS} from alerts
    where {_QUEUE_WHERE}
      and ($11::bigint is null or (severity_rank, due_date, seq) >
           (select severity_rank, due_date, seq from alerts where seq = $11))
    order by severity_rank, due_date, seq limit $12"""


async def queue(
    conn: asyncpg.Connection,
    *,
    scopes: Sequence[str],
    where: QueueFilter,
    limit: int,
    after_seq: int | None,
) -> list[asyncpg.Record]:
    """Undecided alerts, most severe first, then soonest due; keyset-paged after a row's seq."""
    return await conn.fetch(_QUEUE, *_queue_arguments(scopes, where), after_seq, limit)


def whole_queue(
    conn: asyncpg.Connection, *, scopes: Sequence[str], where: QueueFilter
) -> AsyncIterator[list[asyncpg.Record]]:
    """Every alert of the queue in that order, in chunks (an export); no limit."""
    return in_chunks(conn, _QUEUE, *_queue_arguments(scopes, where), None, None)


async def queue_counts(
    conn: asyncpg.Connection, *, scopes: Sequence[str], where: QueueFilter, today: date
) -> list[asyncpg.Record]:
    """How many undecided alerts by status and severity, how many overdue and escalated."""
    return await conn.fetch(
        f"""select status, severity, count(*) as alerts,
                   count(*) filter (where due_date < $11) as overdue,
                   count(*) filter (where escalated_at is not null) as escalated
            from alerts where {_QUEUE_WHERE}
            group by status, severity order by status, severity""",
        *_queue_arguments(scopes, where),
        today,
    )
