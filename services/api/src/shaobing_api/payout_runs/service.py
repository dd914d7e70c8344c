"""What the payout-run routes and pages share beyond their models: the run as its caller may
read it."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from ..common.domain.refusals import Refusal, Refused
from .adapters import payout_queries as runs


async def readable_run(
    conn: asyncpg.Connection, run_id: UUID, *, lock: bool = False
) -> asyncpg.Record:
    """The run, or 404 when it does not exist or lies outside the caller's areas."""
    row = await runs.get_run(conn, run_id, lock=lock)
    if row is None:
        raise Refused("payout run not found", Refusal.NOT_FOUND)
    return row
