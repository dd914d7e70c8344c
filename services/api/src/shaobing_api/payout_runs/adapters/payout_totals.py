"""What a payout run adds up to (by decision, programme and street) and what changed against the
previous run of its month and area."""

from __future__ import annotations

from uuid import UUID

import asyncpg

EFFECTIVE = "coalesce(override ->> 'decision', decision)"  # an override wins


async def totals(conn: asyncpg.Connection, run_id: UUID) -> dict:
    """Counts and amounts by decision, by program and decision, and by area (district) too."""
    rows = await conn.fetch(
        f"""select {EFFECTIVE} as decision, program, left(area_code, 9) as street,
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
