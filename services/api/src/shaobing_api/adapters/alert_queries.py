"""Reading the alert queue. Every query takes the caller's area scopes: no scope, no rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg

COLUMNS = """id, rule_id, rule_version, enrolment_id, program, id_number, area_code, severity,
    action, status, due_date, overpaid_months, overpaid_amount, evidence, explanation,
    raised_at, stored_at, withdrawn_at, withdrawal, claimed_by, assignee, decided_by, decided_at,
    decision, version, seq"""


@dataclass(frozen=True)
class AlertFilter:
    status: str | None = None
    severity: str | None = None
    area: str | None = None
    enrolment_id: str | None = None
    id_number: str | None = None


def scope_patterns(scopes: Sequence[str]) -> list[str]:
    return [f"{s}%" for s in scopes]


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
