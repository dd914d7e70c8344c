"""Reading and deciding on payout runs, on the caller's scoped connection (row-level security)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import asyncpg

from shaobing_runtime.database import in_chunks

from .payout_store import totals

RUN_COLUMNS = """seq, id, month, area, status, previous_run_id, started_by, started_at, finished_at,
    rows_total, rows_checked, totals, changes, failure, approved_by, approved_at, exported_by,
    exported_at, version"""


async def get_run(conn: asyncpg.Connection, run_id: UUID, *, lock: bool = False):
    suffix = " for update" if lock else ""
    return await conn.fetchrow(
        f"select {RUN_COLUMNS} from payout_runs where id = $1{suffix}", run_id
    )


async def list_runs(
    conn: asyncpg.Connection, *, month: str | None, limit: int, before: int | None
) -> list[asyncpg.Record]:
    """Newest first, keyset-paged by seq."""
    return await conn.fetch(
        f"""select {RUN_COLUMNS} from payout_runs
            where ($1::text is null or month = $1) and ($2::bigint is null or seq < $2)
            order by seq desc limit $3""",
        month,
        before,
        limit,
    )


async def list_items(
    conn: asyncpg.Connection,
    run_id: UUID,
    *,
    decision: str | None,
    program: str | None,
    critical: bool | None,
    after: str,
    limit: int,
) -> list[asyncpg.Record]:
    """Items by enrolment_id, the effective decision (an override wins) as `decision`."""
    return await conn.fetch(
        """select enrolment_id, program, area_code, beneficiary_id, decision as checked,
                  coalesce(override ->> 'decision', decision) as decision, reasons, amount,
                  overpaid_to_recover, critical, override
           from payout_run_items
           where run_id = $1 and enrolment_id > $2
             and ($3::text is null or coalesce(override ->> 'decision', decision) = $3)
             and ($4::text is null or program = $4) and ($5::bool is null or critical = $5)
           order by enrolment_id limit $6""",
        run_id,
        after,
        decision,
        program,
        critical,
        limit,
    )


async def unresolved_critical(conn: asyncpg.Connection, run_id: UUID) -> int:
    return await conn.fetchval(
        """select count(*) from payout_run_items
           where run_id = $1 and critical and override is null""",
        run_id,
    )


async def set_override(
    conn: asyncpg.Connection, run_id: UUID, enrolment_id: str, override: dict
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """update payout_run_items set override = $3 where run_id = $1 and enrolment_id = $2
           returning enrolment_id, area_code, decision, override""",
        run_id,
        enrolment_id,
        override,
    )


async def approve(conn: asyncpg.Connection, run_id: UUID, approver: str) -> asyncpg.Record:
    """APPROVED, its totals recomputed with the overrides."""
    return await conn.fetchrow(
        f"""update payout_runs set status = 'APPROVED', approved_by = $2,
                   approved_at = clock_timestamp(), totals = $3, version = version + 1
            where id = $1 returning {RUN_COLUMNS}""",
        run_id,
        approver,
        await totals(conn, run_id),
    )


async def mark_exported(conn: asyncpg.Connection, run_id: UUID, by: str) -> None:
    """The first export of the payout file makes the run EXPORTED."""
    await conn.execute(
        """update payout_runs set status = 'EXPORTED', exported_by = $2,
                  exported_at = clock_timestamp(), version = version + 1
           where id = $1 and status = 'APPROVED'""",
        run_id,
        by,
    )


_PAYABLE = """from payout_run_items i join enrolments e using (enrolment_id)
    where i.run_id = $1 and coalesce(i.override ->> 'decision', i.decision) = 'PAY'"""


def payout_rows(conn: asyncpg.Connection, run_id: UUID) -> AsyncIterator[list[asyncpg.Record]]:
    """One row per enrolment to pay, with its account (the api's own table), in chunks."""
    return in_chunks(
        conn,
        f"""select i.enrolment_id, i.program, i.beneficiary_id, e.payout_account, i.amount,
                   i.area_code
            {_PAYABLE} order by i.enrolment_id""",
        run_id,
    )


async def count_payout_rows(conn: asyncpg.Connection, run_id: UUID) -> int:
    return await conn.fetchval(f"select count(*) {_PAYABLE}", run_id)


_HELD_OR_STOPPED = """from payout_run_items
    where run_id = $1 and coalesce(override ->> 'decision', decision) <> 'PAY'"""


def exception_rows(
    conn: asyncpg.Connection, run_id: UUID, *, size: int = 5000
) -> AsyncIterator[list[asyncpg.Record]]:
    """The held and stopped enrolments with their reasons (unanswered critical ones first), in
    chunks of `size`."""
    return in_chunks(
        conn,
        f"""select enrolment_id, program, beneficiary_id, area_code, amount, overpaid_to_recover,
                   coalesce(override ->> 'decision', decision) as decision, decision as checked,
                   reasons, override, critical
            {_HELD_OR_STOPPED}
            order by critical and override is null desc,
                     coalesce(override ->> 'decision', decision) desc, enrolment_id""",
        run_id,
        size=size,
    )


async def count_exception_rows(conn: asyncpg.Connection, run_id: UUID) -> int:
    return await conn.fetchval(f"select count(*) {_HELD_OR_STOPPED}", run_id)
