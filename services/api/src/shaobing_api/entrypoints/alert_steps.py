"""POST /v1/alerts/{id}/steps and /v1/alerts/steps: claim, confirm, dismiss, reopen, assign,
comment, one alert or many. Every step names the version it was decided on: a stale one is 409."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Request
from prometheus_client import Histogram
from pydantic import BaseModel, Field

from shaobing_contracts.alert import AlertStatus
from shaobing_runtime.access import Principal
from shaobing_runtime.database import scoped
from shaobing_runtime.http_auth import require

from ..adapters.alert_workflow import locked, write_step
from ..common.domain.refusals import Refusal, Refused
from ..common.domain.roles import READ_ALERT_ROLES
from ..common.http_refusals import STATUS
from ..domain.workflow import (
    ActionTaken,
    AlertCase,
    DismissReason,
    Step,
    decide,
)
from ..domain.workflow import Request as StepRequest
from .views import AlertPublic, alert_public

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
Caller = Annotated[Principal, require(*READ_ALERT_ROLES)]


class StepFields(BaseModel):
    step: Step
    action_taken: ActionTaken | None = None  # confirm
    overpayment_to_recover: Decimal | None = Field(None, ge=0, lt=10**10, decimal_places=2)
    reason: DismissReason | None = None  # dismiss
    text: str = Field("", max_length=2000)  # comment; why (dismiss OTHER, reopen)
    assignee: str | None = Field(None, min_length=1, max_length=64)  # assign

    def request(self) -> StepRequest:
        return StepRequest(**self.model_dump(include=set(StepFields.model_fields)))


class StepBody(StepFields):
    version: int = Field(ge=1)


class Target(BaseModel):
    id: UUID
    version: int = Field(ge=1)


class BulkBody(StepFields):
    items: list[Target] = Field(min_length=1, max_length=500)


class BulkItem(BaseModel):
    id: UUID
    status: int  # 200, 403, 404, 409 or 422, as the single step would answer
    detail: str | None = None
    alert: AlertPublic | None = None


class BulkResult(BaseModel):
    done: int
    refused: int
    items: list[BulkItem]


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
