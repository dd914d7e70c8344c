"""Payout runs in PostgreSQL: every decision set-based, never a query per enrolment.

A run is a few set-based statements. First, from the facts' side, every reason the area's active
enrolments have — deaths of beneficiaries and members (through `enrolment_members`), household
registrations cancelled or moved out, undecided and decided alerts — into `payout_run_reasons`
(few rows: the exceptions). Then the enrolments, cut into slices by enrolment_id, are
written as items, each with its reasons folded in and the strongest decision (STOP over HOLD over
PAY); slices go in parallel (one connection each) and the run's progress moves after each.
Each item keeps the account, amount and version of the enrolment it read: that is what is paid.
Only a RUNNING run moves: once failed (by its own error or the stall watcher) it stays so.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg

from ...enrolments.adapters.enrolment_store import ITEMS_LOCK
from ..domain.payout_run import OtherRun, RunStatus
from .payout_queries import RUN_COLUMNS
from .payout_totals import change_counts, totals

_MONTH_LOCK = 0x5041_594F  # "PAYO", with the month: one start of a month's runs at a time


class RunNotRunning(Exception):
    """The run was failed (the stall watcher, an error) while its worker was at it: stop."""


# The enrolments a run covers: $area prefix, $month 'YYYY-MM'.
_COVERED = """e.status = 'ACTIVE' and e.area_code like {area} || '%' and e.start_month <= {month}"""

# $1 run, $2 area prefix, $3 month 'YYYY-MM', $4 its first day
_GATHER_REASONS = f"""
with deaths as (
    select e.enrolment_id, d.id_number = e.beneficiary_id as beneficiary, d.died_on, d.known_at,
           e.updated_at, e.monthly_amount, e.start_month
    from person_deaths d
    join enrolment_members m using (id_number)
    join enrolments e using (enrolment_id)
    where {_COVERED.format(area="$2", month="$3")}
),
moves as (
    select e.enrolment_id, r.status, r.area_code
    from person_registrations r join enrolments e on e.beneficiary_id = r.id_number
    where {_COVERED.format(area="$2", month="$3")}
      and (r.status in ('DECEASED', 'CANCELLED', 'MOVED_OUT')
           or left(r.area_code, 6) <> left(e.area_code, 6))
),
alerts_of as (
    select a.enrolment_id, a.id, a.rule_id, a.severity, a.status, a.decided_at, e.updated_at,
           a.decision ->> 'action_taken' as action_taken,
           coalesce((a.decision ->> 'overpayment_to_recover')::numeric, a.overpaid_amount)
               as to_recover
    from alerts a join enrolments e using (enrolment_id)
    where {_COVERED.format(area="$2", month="$3")}
      and a.status in ('OPEN', 'CLAIMED', 'CONFIRMED')
)
insert into payout_run_reasons (run_id, enrolment_id, decision, reason, critical, to_recover)
select $1::uuid, enrolment_id, 'STOP',
       jsonb_build_object('code', 'DEATH_RECORDED', 'died_on', died_on), false,
       monthly_amount * greatest(0, month_index($4)
           - greatest(month_index(died_on) + 1, month_index(to_date(start_month, 'YYYY-MM'))))
from deaths where beneficiary
union all
select $1, enrolment_id, 'HOLD',
       jsonb_build_object('code', 'MEMBER_DEATH_RECORDED', 'died_on', died_on), false, 0
from deaths where not beneficiary and updated_at < known_at  -- not reassessed since
union all
select $1, enrolment_id, 'STOP',
       jsonb_build_object(
           'code', case when status in ('MOVED_OUT', 'ACTIVE') then 'MOVED_OUT'
                        else 'REGISTRATION_CANCELLED' end,
           'status', status, 'area_code', area_code), false, 0
from moves
union all
select $1, enrolment_id, 'HOLD',
       jsonb_build_object('code', 'ALERT_OPEN', 'alert_id', id, 'rule_id', rule_id,
                          'severity', severity, 'status', status),
       severity = 'CRITICAL', to_recover
from alerts_of where status in ('OPEN', 'CLAIMED')
union all
select $1, enrolment_id, 'STOP',
       jsonb_build_object('code', 'ALERT_CONFIRMED', 'alert_id', id, 'rule_id', rule_id,
                          'action_taken', action_taken), false, to_recover
from alerts_of where status = 'CONFIRMED' and action_taken in ('PAYMENT_STOPPED', 'TRANSFERRED')
union all
select $1, enrolment_id, 'HOLD',
       jsonb_build_object('code', 'REASSESSMENT_PENDING', 'alert_id', id, 'rule_id', rule_id),
       false, 0
from alerts_of  -- the enrolment not changed since the reassessment opened: still pending
where status = 'CONFIRMED' and action_taken = 'REASSESSMENT_OPENED' and updated_at < decided_at
"""

# $1 area prefix, $2 month, $3 slice size: the last enrolment_id of every slice
_SLICE_ENDS = f"""
select enrolment_id from (
    select e.enrolment_id, row_number() over (order by e.enrolment_id) as n,
           count(*) over () as total
    from enrolments e where {_COVERED.format(area="$1", month="$2")}
) numbered
where n % $3 = 0 or n = total
order by enrolment_id
"""

# $1 run, $2 area prefix, $3 month, $4 after this enrolment_id, $5 up to this one. A new payout
# account nobody has confirmed yet holds the payment, read in the same snapshot as the account.
_WRITE_SLICE = f"""
with reasons as (
    select enrolment_id, decision, reason, critical, to_recover
    from payout_run_reasons where run_id = $1 and enrolment_id > $4 and enrolment_id <= $5
    union all
    select e.enrolment_id, 'HOLD',
           jsonb_build_object('code', 'ACCOUNT_CHANGE_UNCONFIRMED', 'version', e.version,
                              'changed_by', e.account_changed_by,
                              'changed_at', e.account_changed_at),
           false, 0
    from enrolments e
    where {_COVERED.format(area="$2", month="$3")} and e.enrolment_id > $4
      and e.enrolment_id <= $5 and e.account_changed_by is not null
      and e.account_confirmed_by is null
)
insert into payout_run_items (run_id, enrolment_id, program, area_code, beneficiary_id,
                              decision, reasons, amount, overpaid_to_recover, critical,
                              payout_account, enrolment_version)
select $1, e.enrolment_id, e.program, e.area_code, e.beneficiary_id,
       coalesce(d.decision, 'PAY'), coalesce(d.reasons, '[]'), e.monthly_amount,
       coalesce(d.to_recover, 0), coalesce(d.critical, false), e.payout_account, e.version
from enrolments e
left join (
    select enrolment_id,
           case when bool_or(decision = 'STOP') then 'STOP' else 'HOLD' end as decision,
           jsonb_agg(distinct reason) as reasons, bool_or(critical) as critical,
           max(to_recover) as to_recover
    from reasons group by enrolment_id
) d using (enrolment_id)
where {_COVERED.format(area="$2", month="$3")} and e.enrolment_id > $4 and e.enrolment_id <= $5
"""


async def overlapping_runs(conn: asyncpg.Connection, month: str, area: str) -> list[OtherRun]:
    """The month's runs that overlap the area and still count, whatever the caller's areas.

    Takes the month's lock until the caller's transaction ends: two starts of a month, even of
    different areas, are decided one after the other.
    """
    await conn.execute("select pg_advisory_xact_lock($1, $2)", _MONTH_LOCK, _month_number(month))
    rows = await conn.fetch("select * from payout_runs_overlapping($1, $2)", month, area)
    return [OtherRun(str(r["id"]), r["area"], RunStatus(r["status"])) for r in rows]


def _month_number(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7])


async def start_run(
    conn: asyncpg.Connection, *, run_id: UUID, month: str, area: str, started_by: str
) -> asyncpg.Record:
    """A RUNNING run superseding the READY one of the month and area, if any."""
    previous = await conn.fetchval(
        """select id from payout_runs where month = $1 and area = $2
           and status in ('READY', 'SUPERSEDED') order by started_at desc limit 1""",
        month,
        area,
    )
    await conn.execute(
        "update payout_runs set status = 'SUPERSEDED' where month = $1 and area = $2 "
        "and status = 'READY'",
        month,
        area,
    )
    total = await conn.fetchval(
        f"select count(*) from enrolments e where {_COVERED.format(area='$1', month='$2')}",
        area,
        month,
    )
    return await conn.fetchrow(
        f"""insert into payout_runs (id, month, area, previous_run_id, started_by, rows_total)
            values ($1, $2, $3, $4, $5, $6) returning {RUN_COLUMNS}""",
        run_id,
        month,
        area,
        previous,
        started_by,
        total,
    )


async def gather_reasons(conn: asyncpg.Connection, run: asyncpg.Record) -> None:
    """Every reason of the run's enrolments, from the facts' side (the first step of a run).

    The facts are few against the enrolments: an index probe per fact beats hashing every
    enrolment, which the planner sees once random reads are priced as what they are on an SSD
    with the table cached (random_page_cost 1.1, for this transaction).
    """
    async with conn.transaction():
        await conn.execute("set local random_page_cost = 1.1")
        await conn.execute(_GATHER_REASONS, run["id"], run["area"], run["month"], _first_day(run))


def _first_day(run: asyncpg.Record) -> date:
    return date(int(run["month"][:4]), int(run["month"][5:7]), 1)


async def slices(conn: asyncpg.Connection, run: asyncpg.Record, size: int) -> list[tuple]:
    """(after, up to) enrolment_id bounds of slices of `size`, in order."""
    ends = [r[0] for r in await conn.fetch(_SLICE_ENDS, run["area"], run["month"], size)]
    return list(zip(["", *ends[:-1]], ends, strict=True))


async def write_slice(conn: asyncpg.Connection, run: asyncpg.Record, bounds: tuple) -> int:
    """Write one slice's items and count them into the run's progress; how many there were.

    RunNotRunning (nothing written) when the run is no longer RUNNING.
    """
    async with conn.transaction():
        await conn.execute("select pg_advisory_xact_lock_shared($1)", ITEMS_LOCK)
        status = await conn.execute(_WRITE_SLICE, run["id"], run["area"], run["month"], *bounds)
        checked = int(status.split()[-1])
        _still_running(
            await conn.execute(
                """update payout_runs set rows_checked = rows_checked + $2,
                          heartbeat_at = clock_timestamp() where id = $1 and status = 'RUNNING'""",
                run["id"],
                checked,
            )
        )
    return checked


def _still_running(status: str) -> None:
    if status == "UPDATE 0":
        raise RunNotRunning("the run was failed while its worker was at it")


async def finish_run(conn: asyncpg.Connection, run_id: UUID) -> None:
    """READY, with its totals and what changed since the previous run of the month; its total is
    what it checked (the count at its start was the progress bar's: enrolments enrolled while it
    ran are in it when their slice came after them)."""
    async with conn.transaction():
        _still_running(
            await conn.execute(
                """update payout_runs set status = 'READY', finished_at = clock_timestamp(),
                          totals = $2, changes = $3,
                          rows_total = (select count(*) from payout_run_items where run_id = $1)
                   where id = $1 and status = 'RUNNING'""",
                run_id,
                await totals(conn, run_id),
                await change_counts(conn, run_id),
            )
        )


async def beat(conn: asyncpg.Connection, run_id: UUID) -> bool:
    """The run's worker is alive (whatever step it is in); False once the run is not RUNNING."""
    status = await conn.execute(
        """update payout_runs set heartbeat_at = clock_timestamp()
           where id = $1 and status = 'RUNNING'""",
        run_id,
    )
    return status != "UPDATE 0"


async def fail_run(conn: asyncpg.Connection, run_id: UUID, failure: str) -> None:
    await conn.execute(
        """update payout_runs set status = 'FAILED', failure = $2, finished_at = clock_timestamp()
           where id = $1 and status = 'RUNNING'""",
        run_id,
        failure,
    )


async def fail_stalled(conn: asyncpg.Connection, seconds: float) -> int:
    """RUNNING runs whose worker stopped beating (an api restart) are FAILED: re-run them."""
    result = await conn.execute(
        """update payout_runs set status = 'FAILED', finished_at = clock_timestamp(),
                  failure = 'interrupted: the api stopped while it ran; start it again'
           where status = 'RUNNING' and heartbeat_at < clock_timestamp() - $1 * interval '1 s'""",
        seconds,
    )
    return int(result.split()[-1])
