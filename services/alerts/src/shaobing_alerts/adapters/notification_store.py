"""Notifications (政策找人) into PostgreSQL: one row per (policy, person, period), withdrawn when
a change of the person's facts ended it and restored when it is raised again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from pydantic import TypeAdapter

from shaobing_contracts.alert import Evidence
from shaobing_contracts.notification import NotificationRaised, NotificationWithdrawn

from ..domain.last_word import last_word

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


_RESTORE = """
update notifications set withdrawn_at = null, withdrawal = null, version = version + 1,
       status = case when status = 'WITHDRAWN' then 'NEW' else status end
where id = any($1) and withdrawn_at is not null
returning id
"""

# A NEW notification becomes WITHDRAWN; one already worked keeps its status, marked with when
# and why its conditions stopped holding, for a person to look at.
_WITHDRAW = """
update notifications n set withdrawn_at = w.at, withdrawal = w.reason, version = version + 1,
       status = case when status = 'NEW' then 'WITHDRAWN' else status end
from unnest($1::uuid[], $2::timestamptz[], $3::jsonb[]) as w(id, at, reason)
where n.id = w.id and n.withdrawn_at is null
returning n.id
"""


@dataclass(frozen=True)
class Kept:
    new: int
    restored: int
    withdrawn: int


async def keep_notifications(
    conn: asyncpg.Connection, messages: Sequence[NotificationRaised | NotificationWithdrawn]
) -> Kept:
    """A batch of notifications.v1 in offset order: per notification the last message decides
    (raised: stored, or restored if withdrawn; withdrawn), in the caller's transaction."""
    settled = last_word((m, None) for m in messages)
    raised = [n for n, _ in settled.raised]
    withdrawn = settled.withdrawn
    new = await store_notifications(conn, raised)
    restored = await conn.fetch(_RESTORE, [n.id for n in raised])
    gone = await conn.fetch(
        _WITHDRAW,
        [w.id for w in withdrawn],
        [w.withdrawn_at for w in withdrawn],
        [w.reason.model_dump() for w in withdrawn],
    )
    return Kept(new, len(restored), len(gone))
