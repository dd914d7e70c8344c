"""Alerts into PostgreSQL: one row per alert id, at most one open per (enrolment, rule, fact)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg
from pydantic import TypeAdapter

from shaobing_contracts.alert import AlertRaised, AlertWithdrawn, Evidence
from shaobing_contracts.dead_letter import DeadLetter
from shaobing_runtime.dead_letters import keep_dead_letters

from ..domain.queue import SEVERITY_RANK

_REJECTED = uuid.UUID("2d1c7e0a-9b1f-4c3e-8f7a-6e5d4c3b2a19")
_evidence_json = TypeAdapter(list[Evidence])

_INSERT = """
insert into alerts (id, rule_id, rule_version, fact_key, enrolment_id, program, id_number,
                    area_code, severity, severity_rank, action, due_date, overpaid_months,
                    overpaid_amount, evidence, explanation, raised_at, ingested_at,
                    correlation_id)
select id, rule_id, rule_version, fact_key, enrolment_id, program, id_number, area_code, severity,
       severity_rank, action, due_date, overpaid_months, overpaid_amount, evidence::jsonb,
       explanation, raised_at, ingested_at, correlation_id
from unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::text[], $9::text[], $10::smallint[], $11::text[],
                     $12::date[], $13::int[], $14::numeric[], $15::text[], $16::jsonb[],
                     $17::timestamptz[], $18::timestamptz[], $19::text[])
    as t(id, rule_id, rule_version, fact_key, enrolment_id, program, id_number, area_code,
         severity, severity_rank, action, due_date, overpaid_months, overpaid_amount, evidence,
         explanation, raised_at, ingested_at, correlation_id)
on conflict do nothing
returning id
"""

_COLUMNS = (
    lambda a: a.id,
    lambda a: a.rule_id,
    lambda a: a.rule_version,
    lambda a: a.fact_key,
    lambda a: a.enrolment_id,
    lambda a: a.program.value,
    lambda a: a.id_number,
    lambda a: a.area_code,
    lambda a: a.severity.value,
    lambda a: SEVERITY_RANK[a.severity],
    lambda a: a.action.value,
    lambda a: a.due_date,
    lambda a: a.overpaid_months,
    lambda a: a.overpaid_amount,
    # A list inside an array parameter would be read as a second dimension: pass JSON text.
    lambda a: _evidence_json.dump_json(a.evidence).decode(),
    lambda a: a.explanation.model_dump(),
    lambda a: a.raised_at,
    lambda a: min((e.provenance.ingested_at for e in a.evidence), default=None),
)


async def store_alerts(
    conn: asyncpg.Connection, alerts: Sequence[AlertRaised], correlation_ids: Sequence[str | None]
) -> set:
    """Insert new alerts and their RAISED timeline entry; returns the ids that were new."""
    if not alerts:
        return set()
    columns = [[column(a) for a in alerts] for column in _COLUMNS]
    new_ids = [r["id"] for r in await conn.fetch(_INSERT, *columns, list(correlation_ids))]
    await _timeline(conn, new_ids, "RAISED")
    return set(new_ids)


_RESTORE = """
update alerts set withdrawn_at = null, withdrawal = null, version = version + 1,
       status = case when status = 'WITHDRAWN' then 'OPEN' else status end
where id = any($1) and withdrawn_at is not null
returning id
"""

_WITHDRAW = """
update alerts a set withdrawn_at = w.at, withdrawal = w.reason, version = version + 1,
       status = case when status in ('OPEN', 'CLAIMED') then 'WITHDRAWN' else status end
from unnest($1::uuid[], $2::timestamptz[], $3::jsonb[]) as w(id, at, reason)
where a.id = w.id and a.withdrawn_at is null
returning a.id, a.status
"""


async def restore_alerts(conn: asyncpg.Connection, ids: Sequence) -> int:
    """Alerts raised again after a withdrawal: undecided ones open again; returns how many."""
    restored = [r["id"] for r in await conn.fetch(_RESTORE, list(ids))]
    await _timeline(conn, restored, "RESTORED")
    return len(restored)


async def withdraw_alerts(conn: asyncpg.Connection, withdrawals: Sequence[AlertWithdrawn]) -> int:
    """Withdraw undecided alerts; mark decided ones as resting on retracted facts."""
    rows = await conn.fetch(
        _WITHDRAW,
        [w.id for w in withdrawals],
        [w.withdrawn_at for w in withdrawals],
        [w.reason.model_dump() for w in withdrawals],
    )
    await _timeline(conn, [r["id"] for r in rows if r["status"] == "WITHDRAWN"], "WITHDRAWN")
    await _timeline(conn, [r["id"] for r in rows if r["status"] != "WITHDRAWN"], "FACTS_RETRACTED")
    return len(rows)


async def _timeline(conn: asyncpg.Connection, ids: list, kind: str) -> None:
    await conn.execute(
        """insert into alert_events (alert_id, kind, actor, details)
           select id, $2, 'matcher', '{}'::jsonb from unnest($1::uuid[]) as id""",
        ids,
        kind,
    )


async def keep_rejected(conn: asyncpg.Connection, rejected: list) -> None:
    """Messages that cannot be read or stored (message, reason), kept as dead letters: never
    silently lost."""
    now = datetime.now(UTC)
    await keep_dead_letters(
        conn,
        [
            DeadLetter(
                id=uuid.uuid5(_REJECTED, f"{m.topic}/{m.partition}/{m.offset}"),
                service="alerts",
                source=m.topic,
                item=m.offset,
                field=None,
                reason=reason[:2000],
                raw=(m.value or b"").decode("utf-8", "replace"),
                received_at=now,
            )
            for m, reason in rejected
        ],
    )
