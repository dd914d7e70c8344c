"""POST /v1/alerts/{id}/steps and /v1/alerts/steps: claim, confirm, dismiss, reopen, assign,
comment, one alert or many. Every step names the version it was decided on: a stale one is 409."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Request
from prometheus_client import Histogram

from shaobing_contracts.alert import AlertStatus
from shaobing_runtime.access import Principal
from shaobing_runtime.database import scoped
from shaobing_runtime.http_auth import require

from ..common.domain.refusals import Refusal, Refused
from ..common.domain.roles import READ_ALERT_ROLES
from ..common.http_refusals import STATUS
from .adapters.alert_workflow import locked, write_step
from .domain.workflow import AlertCase, decide
from .models import AlertPublic, BulkBody, BulkItem, BulkResult, StepBody, StepFields, alert_public

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
Caller = Annotated[Principal, require(*READ_ALERT_ROLES)]


@router.post("/{alert_id}/steps", response_model=AlertPublic)
async def take_step(
    request: Request, principal: Caller, alert_id: UUID, body: StepBody
) -> AlertPublic:
    """One step on one alert; outside the caller's areas the alert does not exist (404)."""
    async with scoped(request.app.state.pool, principal) as conn:
        row = await _step(conn, principal, alert_id, body.version, body)
    return alert_public(row, principal)


@router.post("/steps", response_model=BulkResult)
async def take_steps(request: Request, principal: Caller, body: BulkBody) -> BulkResult:
    """The same step on many alerts; each succeeds or is refused on its own."""
    items = []
    async with scoped(request.app.state.pool, principal) as conn:
        for target in body.items:
            try:
                async with conn.transaction():
                    row = await _step(conn, principal, target.id, target.version, body)
                items.append(BulkItem(id=target.id, status=200, alert=alert_public(row, principal)))
            except Refused as refused:
                status = STATUS[refused.kind]
                items.append(BulkItem(id=target.id, status=status, detail=refused.reason))
    done = sum(1 for i in items if i.status == 200)
    return BulkResult(done=done, refused=len(items) - done, items=items)


async def _step(
    conn: asyncpg.Connection, principal: Principal, alert_id: UUID, version: int, body: StepFields
) -> asyncpg.Record:
    row = await locked(conn, scopes=principal.areas, alert_id=alert_id)
    if row is None:
        raise Refused("alert not found", Refusal.NOT_FOUND)
    if row["version"] != version:
        raise Refused(f"version: the alert is at version {row['version']}, not {version}")
    case = AlertCase(AlertStatus(row["status"]), row["claimed_by"], row["assignee"])
    step = body.request()
    change = decide(case, step, principal)
    written = await write_step(conn, row, change, step, principal)
    if written["status"] in _DECIDED and row["status"] not in _DECIDED:
        waited = (written["decided_at"] - written["stored_at"]).total_seconds()
        TIME_TO_DECISION.labels(written["status"], written["severity"]).observe(waited)
    return written


_DECIDED = ("CONFIRMED", "DISMISSED")
TIME_TO_DECISION = Histogram(
    "shaobing_alert_time_to_decision_seconds",
    "From an alert stored to its confirmation or dismissal (time to clear)",
    ["status", "severity"],
    buckets=(3600, 4 * 3600, 86400, 3 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 60 * 86400),
)
