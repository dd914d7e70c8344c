"""Notifications (政策找人) into PostgreSQL: one row per (policy, person, period)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from pydantic import TypeAdapter

from shaobing_contracts.alert import Evidence
from shaobing_contracts.notification import NotificationRaised

_evidence_json = TypeAdapter(list[Evidence])


async def store_notifications(
    conn: asyncpg.Connection, notifications: Sequence[NotificationRaised]
) -> int:
    """Insert the new ones (re-sends are no-ops); returns how many were new."""
    if not notifications:
        return 0
    rows = await conn.fetch(
        """insert into notifications (id, policy_id, policy_version, benefit, stage, period,
                                      id_number, area_code, evidence, explanation, raised_at)
           select id, policy_id, policy_version, benefit, stage, period, id_number, area_code,
                  evidence::jsonb, explanation, raised_at
           from unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[],
                       $7::text[], $8::text[], $9::text[], $10::jsonb[], $11::timestamptz[])
                as t(id, policy_id, policy_version, benefit, stage, period, id_number,
                     area_code, evidence, explanation, raised_at)
           on conflict (id) do nothing
           returning id""",
        [n.id for n in notifications],
        [n.policy_id for n in notifications],
        [n.policy_version for n in notifications],
        [n.benefit for n in notifications],
        [n.stage.value for n in notifications],
        [n.period for n in notifications],
        [n.id_number for n in notifications],
        [n.area_code for n in notifications],
        [_evidence_json.dump_json(n.evidence).decode() for n in notifications],
        [n.explanation.model_dump() for n in notifications],
        [n.raised_at for n in notifications],
    )
    return len(rows)
