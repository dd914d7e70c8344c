"""An undecided alert past its due date is escalated to the supervisors of its area, once, with
its timeline and the audit trail saying so; the queue page filters and counts it."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from uuid import UUID

import httpx

from shaobing_runtime import audit
from shaobing_runtime.access import Role
from shaobing_runtime.audit_chain import Break
from shaobing_runtime.database import create_pool
from shaobing_runtime.settings import AuditSettings

from .conftest import (
    AUDIT_CHAIN_KEY,
    dead_beneficiary,
    eventually,
    fetch,
    token,
)


async def _trail(database_url: str, alert_id: str) -> tuple[list, list, Break | None]:
    pool = await create_pool(database_url, max_size=1)  # jsonb decoded as the chain hashes it
    try:
        async with pool.acquire() as conn:
            kinds = await conn.fetch(
                "select kind, actor from alert_events where alert_id = $1 order by seq",
                UUID(alert_id),
            )
            entries = await conn.fetch(
                "select action, actor from audit_log where object_id = $1 order by seq", alert_id
            )
            keyring = AuditSettings(audit_chain_key=AUDIT_CHAIN_KEY).keyring()
            verdict = await audit.verify(conn, keyring, None)
        return [tuple(k) for k in kinds], [tuple(e) for e in entries], verdict.broken
    finally:
        await pool.close()


def test_an_overdue_alert_is_escalated_once_and_the_supervisor_finds_it(stack, api, ingest):
    *_, alert = dead_beneficiary(api, ingest)
    assert alert["escalated_at"] is None

    yesterday = date.today() - timedelta(days=1)
    fetch(
        stack.database_url,
        "update alerts set due_date = $2 where id = $1",
        UUID(alert["id"]),
        yesterday,
    )

    escalated = eventually(lambda: api.get(f"/v1/alerts/{alert['id']}").json()["escalated_at"])
    assert escalated
    supervisor = httpx.Client(base_url=stack.url("api"), headers=token(Role.SUPERVISOR, ["310110"]))
    with supervisor:
        queue = supervisor.get("/v1/alerts/queue", params={"escalated": "true", "limit": 500})
        assert alert["id"] in [i["id"] for i in queue.json()["items"]]
        assert all(c["escalated"] <= c["alerts"] for c in queue.json()["counts"])
        page = supervisor.get(
            "/ui/alerts",
            params={
                "escalated": "true",
                "overdue": "true",
                "rule_id": alert["rule_id"],
                "program": "DIBAO",
                "status": "",
                "due_by": "",
                "area": "",
            },
        )
        assert page.status_code == 200 and f'data-alert-id="{alert["id"]}"' in page.text
        other_rule = supervisor.get("/ui/alerts", params={"rule_id": "marriage-change"})
        assert f'data-alert-id="{alert["id"]}"' not in other_rule.text
    kinds, entries, broken = asyncio.run(_trail(stack.database_url, alert["id"]))
    assert kinds.count(("ESCALATED", "system:escalation")) == 1
    assert ("alert.escalated", "system:escalation") in entries
    assert broken is None
