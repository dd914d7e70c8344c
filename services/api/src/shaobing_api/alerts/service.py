"""What the alert routes and pages share beyond their models: the alert as its caller may read
it."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from shaobing_runtime.access import Principal

from ..common.domain.refusals import Refusal, Refused
from .adapters.alert_queries import get_alert
from .adapters.alert_workflow import record_full_view


async def readable_alert(
    conn: asyncpg.Connection, principal: Principal, alert_id: UUID
) -> asyncpg.Record:
    """The whole alert for this caller (404 outside their areas); a full-ID view is recorded."""
    row = await get_alert(conn, scopes=principal.areas, alert_id=alert_id)
    if row is None:
        raise Refused("alert not found", Refusal.NOT_FOUND)
    if principal.sees_full_ids:
        await record_full_view(conn, principal, alert_id, row["area_code"])
    return row
