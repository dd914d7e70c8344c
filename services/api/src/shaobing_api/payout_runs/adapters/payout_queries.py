"""Reading and deciding on payout runs, on the caller's scoped connection (row-level security)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import asyncpg

from shaobing_runtime.database import in_chunks

from .payout_totals import EFFECTIVE, totals

# changed_since_check: its items whose enrolment was written after the check read it.
RUN_COLUMNS = """seq, id, month, area, status, previous_run_id, started_by, started_at, finished_at,
    heartbeat_at, rows_total, rows_checked, totals, changes, failure, approved_by, approved_at,
    exported_by, exported_at, cancellation, version,
    (select count(*) from payout_run_items i
     where i.run_id = payout_runs.id and i.changed_since_check) as changed_since_check"""


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
    changed: bool | None,
    after: str,
    limit: int,
) -> list[asyncpg.Record]:
    """Items by enrolment_id, the effective decision (an override wins) as `decision`."""
    return await conn.fetch(
        f"""select enrolment_id, program, area_code, beneficiary_id, decision as checked,
                   {EFFECTIVE} as decision, reasons, amount, overpaid_to_recover, critical,
                   override, payout_account, changed_since_check
            from payout_run_items
            where run_id = $1 and enrolment_id > $2
              and ($3::text is null or {EFFECTIVE} = $3)
              and ($4::text is null or program = $4) and ($5::bool is null or critical = $5)
              and ($6::bool is null or changed_since_check = $6)
            order by enrolment_id limit $7""",
        run_id,
        after,
        decision,
        program,
        critical,
        changed,
        limit,
    )


async def get_item(conn: asyncpg.Connection, run_id: UUID, enrolment_id: str):
    return await conn.fetchrow(
        "select * from payout_run_items where run_id = $1 and enrolment_id = $2",
        run_id,
        enrolment_id,
    )


async def unresolved_critical(conn: asyncpg.Connection, run_id: UUID) -> int:
    return await conn.fetchval(
        """select count(*) from payout_run_items
           where run_id = $1 and critical and override is null""",
        run_id,
    )


async def changed_to_pay(conn: asyncpg.Connection, run_id: UUID) -> list[str]:
    """The enrolments to pay that were written after the check read them."""
    rows = await conn.fetch(
        f"""select enrolment_id from payout_run_items
            where run_id = $1 and changed_since_check and {EFFECTIVE} = 'PAY'
            order by enrolment_id""",
        run_id,
    )
    return [r[0] for r in rows]


async def set_override(
    conn: asyncpg.Connection, run_id: UUID, enrolment_id: str, override: dict
) -> None:
    """The approver's decision on the item; the run's version moves (an approval names it)."""
    await conn.execute(
        "update payout_run_items set override = $3 where run_id = $1 and enrolment_id = $2",
        run_id,
        enrolment_id,
        override,
    )
    await conn.execute("update payout_runs set version = version + 1 where id = $1", run_id)


async def cancel(conn: asyncpg.Connection, run_id: UUID, cancellation: dict) -> asyncpg.Record:
    return await conn.fetchrow(
        f"""update payout_runs set status = 'CANCELLED', cancellation = $2, version = version + 1
            where id = $1 returning {RUN_COLUMNS}""",
        run_id,
        cancellation,
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


_PAYABLE = f"from payout_run_items where run_id = $1 and {EFFECTIVE} = 'PAY'"


def payout_rows(conn: asyncpg.Connection, run_id: UUID) -> AsyncIterator[list[asyncpg.Record]]:
    """One row per enrolment to pay: the account and amount the check read and was approved,
    in chunks."""
    return in_chunks(
        conn,
        f"""select enrolment_id, program, beneficiary_id, payout_account, amount, area_code,
                   changed_since_check
            {_PAYABLE} order by enrolment_id""",
        run_id,
    )


async def count_payout_rows(conn: asyncpg.Connection, run_id: UUID) -> int:
    return await conn.fetchval(f"select count(*) {_PAYABLE}", run_id)


_HELD_OR_STOPPED = f"from payout_run_items where run_id = $1 and {EFFECTIVE} <> 'PAY'"


def exception_rows(
    conn: asyncpg.Connection, run_id: UUID, *, size: int = 5000
) -> AsyncIterator[list[asyncpg.Record]]:
    """The held and stopped enrolments with their reasons (unanswered critical ones first), in
    chunks of `size`."""
    return in_chunks(
        conn,
        f"""select enrolment_id, program, beneficiary_id, area_code, amount, overpaid_to_recover,
                   {EFFECTIVE} as decision, decision as checked, reasons, override, critical,
                   payout_account, changed_since_check
            {_HELD_OR_STOPPED}
            order by critical and override is null desc, {EFFECTIVE} desc, enrolment_id""",
        run_id,
        size=size,
    )


async def count_exception_rows(conn: asyncpg.Connection, run_id: UUID) -> int:
    return await conn.fetchval(f"select count(*) {_HELD_OR_STOPPED}", run_id)
