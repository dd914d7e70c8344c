"""The business figures read for the dashboards: counts only, across every area (unscoped)."""

from __future__ import annotations

from datetime import date

import asyncpg

# $1: today in the payout calendar's zone, for what is overdue.
_OPEN = """select severity, program, left(area_code, 4) as area, count(*) as n,
                  count(*) filter (where due_date < $1) as overdue,
                  count(*) filter (where escalated_at is not null) as escalated
           from alerts where status in ('OPEN', 'CLAIMED') group by 1, 2, 3"""
_QUERIES = {
    "decided": """select rule_id, status, count(*) as n from alerts
                  where status in ('CONFIRMED', 'DISMISSED', 'WITHDRAWN') group by 1, 2""",
    "notifications": """select policy_id, status, count(*) as n from notifications group by 1, 2""",
    "runs": """select status, count(*) as n from payout_runs group by 1""",
    "latest_runs": """select distinct on (area) area, month, status, totals from payout_runs
                      where status in ('READY', 'APPROVED', 'EXPORTED')
                      order by area, month desc, started_at desc""",
}


async def read_figures(conn: asyncpg.Connection, today: date) -> dict[str, list[asyncpg.Record]]:
    """Open alerts (by severity, programme, city), decided ones, notifications, payout runs."""
    rows = {name: await conn.fetch(sql) for name, sql in _QUERIES.items()}
    rows["open"] = await conn.fetch(_OPEN, today)
    return rows
