"""Payout runs in PostgreSQL: the decisions set-based over a slice of enrolments at a time.

Each slice (keyset by enrolment_id) is one statement: the slice's household members joined to
the latest facts (`person_deaths`, `person_registrations`, migration 0013) and to the alerts of
its enrolments, every reason gathered, the decision the strongest of them (STOP over HOLD over
PAY). No query per enrolment anywhere.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg

# $1 run, $2 first day of the month, $3 area prefix, $4 after this enrolment_id, $5 slice size
_CHECK_SLICE = """
with slice as (
    select enrolment_id, program, beneficiary_id, household_members, monthly_amount, area_code,
           to_date(start_month, 'YYYY-MM') as start_month, updated_at
    from enrolments
    where status = 'ACTIVE' and area_code like $3 || '%' and enrolment_id > $4
      and to_date(start_month, 'YYYY-MM') <= $2
    order by enrolment_id
    limit $5
),
people as (
    select s.enrolment_id, m.id_number, m.id_number = s.beneficiary_id as beneficiary
    from slice s cross join unnest(s.household_members) as m (id_number)
),
deaths as (
    select p.enrolment_id, p.beneficiary, d.died_on, d.known_at
    from people p join person_deaths d using (id_number)
),
moves as (
    select s.enrolment_id, r.status, r.area_code
    from slice s join person_registrations r on r.id_number = s.beneficiary_id
    where r.status in ('DECEASED', 'CANCELLED', 'MOVED_OUT')
       or left(r.area_code, 6) <> left(s.area_code, 6)
),
alerts_of as (
    select a.enrolment_id, a.id, a.rule_id, a.severity, a.status, a.overpaid_amount,
           a.decision ->> 'action_taken' as action_taken,
           (a.decision ->> 'overpayment_to_recover')::numeric as to_recover,
           a.decided_at
    from alerts a
    where a.enrolment_id in (select enrolment_id from slice)
      and a.status in ('OPEN', 'CLAIMED', 'CONFIRMED')
),
reasons as (
    select enrolment_id, 'STOP' as decision, false as critical,
           jsonb_build_object('code', 'DEATH_RECORDED', 'died_on', died_on) as reason
    from deaths where beneficiary
    union all
    select d.enrolment_id, 'HOLD', false,
           jsonb_build_object('code', 'MEMBER_DEATH_RECORDED', 'died_on', d.died_on)
    from deaths d join slice s using (enrolment_id)
    where not d.beneficiary and s.updated_at < d.known_at  -- not reassessed since
    union all
    select enrolment_id, 'STOP', false,
           jsonb_build_object(
               'code', case when status = 'MOVED_OUT' or status = 'ACTIVE' then 'MOVED_OUT'
                            else 'REGISTRATION_CANCELLED' end,
               'status', status, 'area_code', area_code)
    from moves
    union all
    select enrolment_id, 'HOLD', severity = 'CRITICAL',
           jsonb_build_object('code', 'ALERT_OPEN', 'alert_id', id, 'rule_id', rule_id,
                              'severity', severity, 'status', status)
    from alerts_of where status in ('OPEN', 'CLAIMED')
    union all
    select enrolment_id, 'STOP', false,
           jsonb_build_object('code', 'ALERT_CONFIRMED', 'alert_id', id, 'rule_id', rule_id,
                              'action_taken', action_taken)
    from alerts_of
    where status = 'CONFIRMED' and action_taken in ('PAYMENT_STOPPED', 'TRANSFERRED')
    union all
    select a.enrolment_id, 'HOLD', false,
           jsonb_build_object('code', 'REASSESSMENT_PENDING', 'alert_id', a.id,
                              'rule_id', a.rule_id)
    from alerts_of a join slice s using (enrolment_id)
    where a.status = 'CONFIRMED' and a.action_taken = 'REASSESSMENT_OPENED'
      and s.updated_at < a.decided_at  -- the enrolment not changed since: still pending
),
to_recover as (
    select enrolment_id, max(coalesce(to_recover, overpaid_amount)) as amount
    from alerts_of group by enrolment_id
    union all
    select d.enrolment_id,
           s.monthly_amount * greatest(0, month_index($2)
               - greatest(month_index(d.died_on) + 1, month_index(s.start_month)))
    from deaths d join slice s using (enrolment_id) where d.beneficiary
),
checked as (
    insert into payout_run_items (run_id, enrolment_id, program, area_code, beneficiary_id,
                                  decision, reasons, amount, overpaid_to_recover, critical)
    select $1, s.enrolment_id, s.program, s.area_code, s.beneficiary_id,
           case when bool_or(r.decision = 'STOP') then 'STOP'
                when bool_or(r.decision = 'HOLD') then 'HOLD' else 'PAY' end,
           coalesce(jsonb_agg(distinct r.reason) filter (where r.reason is not null), '[]'),
           s.monthly_amount,
           coalesce((select max(t.amount) from to_recover t
                     where t.enrolment_id = s.enrolment_id), 0),
           coalesce(bool_or(r.critical), false)
    from slice s left join reasons r using (enrolment_id)
    group by s.enrolment_id, s.program, s.area_code, s.beneficiary_id, s.monthly_amount
    returning enrolment_id
)
select count(*) as checked, max(enrolment_id) as last from checked
"""


async def start_run(
    conn: asyncpg.Connection, *, run_id: UUID, month: str, area: str, started_by: str
) -> asyncpg.Record | None:
    """A RUNNING run superseding a READY one of the month; None when one is final or running."""
    final = await conn.fetchval(
        """select 1 from payout_runs where month = $1 and area = $2
           and status in ('RUNNING', 'APPROVED', 'EXPORTED')""",
        month,
        area,
    )
    if final:
        return None
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
        """select count(*) from enrolments where status = 'ACTIVE' and area_code like $1 || '%'
           and to_date(start_month, 'YYYY-MM') <= $2""",
        area,
        _first_day(month),
    )
    return await conn.fetchrow(
        """insert into payout_runs (id, month, area, previous_run_id, started_by, rows_total)
           values ($1, $2, $3, $4, $5, $6) returning *""",
        run_id,
        month,
        area,
        previous,
        started_by,
        total,
    )


def _first_day(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


async def check_slice(
    conn: asyncpg.Connection, run: asyncpg.Record, *, after: str, size: int
) -> tuple[int, str | None]:
    """Decide the next slice after `after` and count it into the run's progress."""
    async with conn.transaction():
        row = await conn.fetchrow(
            _CHECK_SLICE, run["id"], _first_day(run["month"]), run["area"], after, size
        )
        await conn.execute(
            """update payout_runs set rows_checked = rows_checked + $2,
                      heartbeat_at = clock_timestamp() where id = $1""",
            run["id"],
            row["checked"],
        )
    return row["checked"], row["last"]


async def finish_run(conn: asyncpg.Connection, run_id: UUID) -> None:
    """READY, with its totals and what changed since the previous run of the month."""
    async with conn.transaction():
        await conn.execute(
            """update payout_runs set status = 'READY', finished_at = clock_timestamp(),
                      totals = $2, changes = $3 where id = $1""",
            run_id,
            await totals(conn, run_id),
            await change_counts(conn, run_id),
        )


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


_EFFECTIVE = "coalesce(override ->> 'decision', decision)"


async def totals(conn: asyncpg.Connection, run_id: UUID) -> dict:
    """Counts and amounts by decision, by program and decision, and by area (district) too."""
    rows = await conn.fetch(
        f"""select {_EFFECTIVE} as decision, program, left(area_code, 9) as street,
                   count(*) as enrolments, sum(amount) as amount,
                   sum(overpaid_to_recover) as to_recover,
                   count(*) filter (where critical and override is null) as unresolved_critical
            from payout_run_items where run_id = $1 group by 1, 2, 3""",
        run_id,
    )
    return _fold_totals(rows)


def _fold_totals(rows: list) -> dict:
    out: dict = {"by_decision": {}, "by_program": {}, "by_street": {}}
    out |= {"to_recover": "0.00", "unresolved_critical": 0}
    to_recover = 0
    for r in rows:
        for group, key in (("by_program", r["program"]), ("by_street", r["street"])):
            cell = out[group].setdefault(key, {}).setdefault(r["decision"], [0, 0])
            cell[0], cell[1] = cell[0] + r["enrolments"], cell[1] + r["amount"]
        cell = out["by_decision"].setdefault(r["decision"], [0, 0])
        cell[0], cell[1] = cell[0] + r["enrolments"], cell[1] + r["amount"]
        to_recover += r["to_recover"]
        out["unresolved_critical"] += r["unresolved_critical"]
    out["to_recover"] = f"{to_recover:.2f}"
    return _as_json(out)


def _as_json(value: object) -> object:
    """[count, amount] cells as {"enrolments", "amount"} with amounts as decimal strings."""
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return {"enrolments": value[0], "amount": f"{value[1]:.2f}"}
    return value


_DIFF = """
with now_ as (select * from payout_run_items where run_id = $1),
     before as (select * from payout_run_items
                where run_id = (select previous_run_id from payout_runs where id = $1))
select coalesce(n.enrolment_id, b.enrolment_id) as enrolment_id,
       case when b.enrolment_id is null then 'ADDED' when n.enrolment_id is null then 'REMOVED'
            else 'CHANGED' end as change,
       b.decision as decision_before, n.decision as decision_now,
       b.amount as amount_before, n.amount as amount_now,
       b.reasons as reasons_before, n.reasons as reasons_now
from now_ n full join before b using (enrolment_id)
where (select previous_run_id from payout_runs where id = $1) is not null
  and (b.enrolment_id is null or n.enrolment_id is null or n.decision <> b.decision
       or n.amount <> b.amount or n.reasons <> b.reasons)
"""


async def change_counts(conn: asyncpg.Connection, run_id: UUID) -> dict | None:
    previous = await conn.fetchval("select previous_run_id from payout_runs where id = $1", run_id)
    if previous is None:
        return None
    rows = await conn.fetch(f"select change, count(*) from ({_DIFF}) d group by 1", run_id)
    counts = {"ADDED": 0, "REMOVED": 0, "CHANGED": 0} | {r[0]: r[1] for r in rows}
    return {"previous_run_id": str(previous), **counts}


async def changes(
    conn: asyncpg.Connection, run_id: UUID, *, after: str, limit: int
) -> list[asyncpg.Record]:
    """What differs from the previous run of the month, by enrolment (none for a first run)."""
    return await conn.fetch(
        f"select * from ({_DIFF}) d where enrolment_id > $2 order by enrolment_id limit $3",
        run_id,
        after,
        limit,
    )
