"""Every few minutes: overdue undecided alerts go to the supervisors of their area."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg
import prometheus_client
import structlog

from shaobing_runtime.periodic import every

from ..adapters.escalation_store import escalate_overdue

ESCALATED = prometheus_client.Counter(
    "shaobing_alerts_escalated_total", "Undecided alerts escalated when past their due date"
)
log = structlog.get_logger()


async def escalate_forever(pool: asyncpg.Pool, timezone: str, every_seconds: float) -> None:
    """Run one sweep now and then every `every_seconds`; a failed sweep is logged and retried."""
    zone = ZoneInfo(timezone)

    async def sweep() -> None:
        async with pool.acquire() as conn:
            count = await escalate_overdue(conn, datetime.now(zone).date())
        ESCALATED.inc(count)
        if count:
            log.info("overdue alerts escalated", alerts=count)

    await every(every_seconds, sweep, name="escalation")
