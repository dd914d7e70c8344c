"""Reads of full ID numbers in lists: one audit entry per answer, naming every record shown.

Opening one alert is recorded where it is read (alert_workflow.record_full_view); a list, a
page or a payout run's items show a full-ID role many people's ID numbers at once, so the
audit trail names what was listed and the query that listed it, under the smallest area
holding every record shown: the auditors of that area (or a larger one) see it.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from shaobing_contracts.area import common_area
from shaobing_runtime import audit
from shaobing_runtime.access import Principal


async def record_list_read(
    conn: asyncpg.Connection,
    viewer: Principal,
    kind: str,
    listed: Sequence[asyncpg.Record],
    id_column: str = "id",
    **query: object,
) -> None:
    """In the caller's transaction: `viewer` was shown the full ID numbers of the `kind`
    records `listed` (rows with their `id_column` and `area_code`); nothing for roles that see
    them masked, or an empty list."""
    if not viewer.sees_full_ids or not listed:
        return
    ids = [str(record[id_column]) for record in listed]
    area = common_area(record["area_code"] for record in listed)
    shown = {name: value for name, value in query.items() if value not in (None, "")}
    entry = audit.entry_of(viewer, f"{kind}.list_read", kind, ids[0], area, ids=ids, query=shown)
    await audit.append(conn, [entry])
