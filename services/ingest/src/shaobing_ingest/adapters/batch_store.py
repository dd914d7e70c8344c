"""CSV batches and their progress."""

from __future__ import annotations

import asyncpg


async def start_batch(pool: asyncpg.Pool, batch_id: str, source: str) -> bool:
    """Register a new batch; False when that id was used before."""
    status = await pool.execute(
        "insert into csv_batches (id, source) values ($1, $2) on conflict (id) do nothing",
        batch_id,
        source,
    )
    return status.endswith("1")


async def record_progress(
    pool: asyncpg.Pool,
    batch_id: str,
    *,
    rows_read: int,
    counts: dict,
    status: str = "RUNNING",
    error: str | None = None,
) -> None:
    await pool.execute(
        """update csv_batches set rows_read = $2, accepted = $3, duplicates = $4,
               dead_lettered = $5, ignored = $6, status = $7, error = $8, updated_at = now()
           where id = $1""",
        batch_id,
        rows_read,
        counts["accepted"],
        counts["duplicates"],
        counts["dead_lettered"],
        counts["ignored"],
        status,
        error,
    )


async def get_batch(pool: asyncpg.Pool, source: str, batch_id: str) -> asyncpg.Record | None:
    return await pool.fetchrow(
        "select * from csv_batches where id = $1 and source = $2", batch_id, source
    )
