"""/v1/payout-runs: the pre-payment check — start, watch, review, override, approve, export."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Annotated
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Query, Request, Response

from shaobing_runtime import audit
from shaobing_runtime.access import Principal
from shaobing_runtime.database import scoped
from shaobing_runtime.http_auth import require
from shaobing_runtime.paging import CursorSeq, CursorText, encode_cursor, encode_text_cursor

from ..common.adapters.read_audit import record_list_read
from ..common.domain.refusals import Refusal, Refused
from ..common.downloads import FORMAT
from . import execution
from .adapters import payout_queries as runs
from .adapters.payout_store import overlapping_runs, start_run
from .adapters.payout_totals import changes
from .domain.payout_run import (
    APPROVE_ROLES,
    READ_ROLES,
    START_ROLES,
    Decision,
    RunState,
    RunStatus,
    check_approval,
    check_cancel,
    check_export,
    check_override,
    check_start,
)
from .files import EXCEPTIONS_FILE, PAYOUT_FILE, audit_export, audited, run_file
from .models import (
    ApprovalBody,
    CancellationBody,
    ChangePage,
    ItemPage,
    OverrideBody,
    PayoutRun,
    RunPage,
    StartBody,
    item_public,
)
from .service import readable_run

router = APIRouter(prefix="/v1/payout-runs", tags=["payout runs"])
Starter = Annotated[Principal, require(*START_ROLES)]
Reader = Annotated[Principal, require(*READ_ROLES)]
Approver = Annotated[Principal, require(*APPROVE_ROLES)]
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.post("", response_model=PayoutRun, status_code=202)
async def start(request: Request, principal: Starter, body: StartBody) -> PayoutRun:
    """Check every ACTIVE enrolment of the area for the month; watch `rows_checked` grow.

    A re-run of a month and area supersedes its READY run and lists what changed. A run whose
    area overlaps a running, ready, approved or exported run of the month (a district and its
    streets) is refused with 409 naming that run: an enrolment is paid at most once a month.
    """
    if not principal.covers(body.area):
        raise Refused("area: not one of yours", Refusal.NOT_FOUND)
    async with scoped(request.app.state.pool, principal) as conn:
        others = await overlapping_runs(conn, body.month, body.area)
        check_start(body.month, body.area, others)
        run = await _start_run(conn, body, principal)
        await audited(conn, principal, run, "start", rows_total=run["rows_total"])
    execution.start(request.app.state, run)
    return PayoutRun.model_validate(dict(run))


async def _start_run(conn, body: StartBody, principal: Principal):
    """The run; two starts at once are decided one after the other (the month's lock), and
    should one still slip past (an api without that lock), the database's 409 is said as one."""
    try:
        return await start_run(
            conn,
            run_id=uuid.uuid4(),
            month=body.month,
            area=body.area,
            started_by=principal.subject,
        )
    except asyncpg.UniqueViolationError as exc:
        raise Refused(f"area: {body.month} of {body.area} is already running") from exc


@router.get("", response_model=RunPage)
async def list_(
    request: Request,
    principal: Reader,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    limit: Limit = 50,
    before: CursorSeq = None,
) -> RunPage:
    """Runs in the caller's areas, newest first."""
    async with scoped(request.app.state.pool, principal) as conn:
        rows = await runs.list_runs(conn, month=month, limit=limit + 1, before=before)
    page = rows[:limit]
    cursor = encode_cursor(page[-1]["seq"]) if len(rows) > limit else None
    return RunPage(items=[PayoutRun.model_validate(dict(r)) for r in page], next_cursor=cursor)


@router.get("/{run_id}", response_model=PayoutRun)
async def get(request: Request, principal: Reader, run_id: UUID) -> PayoutRun:
    """The run with its progress, totals and changes since the previous run of the month."""
    async with scoped(request.app.state.pool, principal) as conn:
        return PayoutRun.model_validate(dict(await readable_run(conn, run_id)))


@router.get("/{run_id}/items", response_model=ItemPage)
async def items(
    request: Request,
    principal: Reader,
    run_id: UUID,
    decision: Decision | None = None,
    program: Annotated[str | None, Query(max_length=32)] = None,
    critical: bool | None = None,
    changed_since_check: bool | None = None,
    limit: Limit = 100,
    after: CursorText = "",
) -> ItemPage:
    """Each enrolment's decision with its reasons, the amount and (masked) account checked, and
    whether the enrolment changed since; by enrolment_id."""
    async with scoped(request.app.state.pool, principal) as conn:
        await readable_run(conn, run_id)
        rows = await runs.list_items(
            conn,
            run_id,
            decision=decision,
            program=program,
            critical=critical,
            changed=changed_since_check,
            after=after,
            limit=limit + 1,
        )
        page = rows[:limit]
        query = {"run_id": run_id, "decision": decision, "program": program, "critical": critical}
        query["changed_since_check"] = changed_since_check
        await record_list_read(conn, principal, "payout_item", page, "enrolment_id", **query)
    cursor = encode_text_cursor(page[-1]["enrolment_id"]) if len(rows) > limit else None
    return ItemPage(items=[item_public(r, principal) for r in page], next_cursor=cursor)


@router.get("/{run_id}/changes", response_model=ChangePage)
async def what_changed(
    request: Request, principal: Reader, run_id: UUID, limit: Limit = 100, after: CursorText = ""
) -> ChangePage:
    """What differs from the previous run of the month: added, removed, changed enrolments."""
    async with scoped(request.app.state.pool, principal) as conn:
        await readable_run(conn, run_id)
        rows = await changes(conn, run_id, after=after, limit=limit + 1)
    page = rows[:limit]
    cursor = encode_text_cursor(page[-1]["enrolment_id"]) if len(rows) > limit else None
    return ChangePage(items=[dict(r) for r in page], next_cursor=cursor)


@router.post("/{run_id}/items/{enrolment_id}/override", response_model=PayoutRun)
async def override(
    request: Request, principal: Approver, run_id: UUID, enrolment_id: str, body: OverrideBody
) -> PayoutRun:
    """The approver's explicit decision for one enrolment, with why; recorded in the audit. Not
    by who started the run; it moves the run's version (an approval names the one it saw)."""
    async with scoped(request.app.state.pool, principal) as conn:
        run = await readable_run(conn, run_id, lock=True)
        item = await runs.get_item(conn, run_id, enrolment_id)
        if item is None:
            raise Refused("no such enrolment in this run", Refusal.NOT_FOUND)
        state = await _state(conn, run)
        check_override(state, principal, body.decision, item["reasons"])
        at = request.app.state.settings.local_now().isoformat()
        decided = {"decision": body.decision.value, "reason": body.reason}
        decided |= {"by": principal.subject, "at": at}
        await runs.set_override(conn, run_id, enrolment_id, decided)
        entry = audit.entry_of(
            principal,
            "payout_run.override",
            "payout_run_item",
            f"{run_id}/{enrolment_id}",
            item["area_code"],
            checked=item["decision"],
            **decided,
        )
        await audit.append(conn, [entry])
        return PayoutRun.model_validate(dict(await readable_run(conn, run_id)))


async def _state(conn, run) -> RunState:
    unresolved = await runs.unresolved_critical(conn, run["id"])
    return RunState(RunStatus(run["status"]), run["started_by"], unresolved)


@router.post("/{run_id}/approval", response_model=PayoutRun)
async def approve(
    request: Request, principal: Approver, run_id: UUID, body: ApprovalBody
) -> PayoutRun:
    """Approve a READY run: not by who started it, not with a critical item unanswered."""
    async with scoped(request.app.state.pool, principal) as conn:
        run = await _locked_at(conn, run_id, body.version)
        state = replace(
            await _state(conn, run), changed_to_pay=await runs.changed_to_pay(conn, run_id)
        )
        check_approval(state, principal)
        approved = await runs.approve(conn, run_id, principal.subject)
        await audited(conn, principal, run, "approve", totals=approved["totals"]["by_decision"])
    return PayoutRun.model_validate(dict(approved))


async def _locked_at(conn, run_id: UUID, version: int):
    """The run locked, if it is still at the version the caller saw (409 otherwise)."""
    run = await readable_run(conn, run_id, lock=True)
    if run["version"] != version:
        raise Refused(f"version: the run is at {run['version']}, not {version}")
    return run


@router.post("/{run_id}/cancellation", response_model=PayoutRun)
async def cancel(
    request: Request, principal: Starter, run_id: UUID, body: CancellationBody
) -> PayoutRun:
    """Set a READY run aside (it is never paid), e.g. to check its district as a whole."""
    async with scoped(request.app.state.pool, principal) as conn:
        run = await _locked_at(conn, run_id, body.version)
        check_cancel(await _state(conn, run), principal)
        at = request.app.state.settings.local_now().isoformat()
        cancellation = {"by": principal.subject, "at": at, "reason": body.reason}
        cancelled = await runs.cancel(conn, run_id, cancellation)
        await audited(conn, principal, run, "cancel", reason=body.reason)
    return PayoutRun.model_validate(dict(cancelled))


@router.get("/{run_id}/payout-file", response_class=Response)
async def payout_file(
    request: Request,
    principal: Approver,
    run_id: UUID,
    format: Annotated[str, Query(pattern=FORMAT)] = "xlsx",
) -> Response:
    """One row per enrolment to pay with the account and amount that were checked and approved
    (the account full for a payment officer), an enrolment changed since marked; the first
    export makes the run EXPORTED. Watermarked and audited; streamed (XLSX: at most
    API_MAX_XLSX_ROWS rows, 422 beyond)."""
    async with scoped(request.app.state.pool, principal) as conn:
        run = await readable_run(conn, run_id, lock=True)
        check_export(RunStatus(run["status"]))
        await audit_export(request, conn, principal, run, PAYOUT_FILE, format)
        await runs.mark_exported(conn, run_id, principal.subject)
    return run_file(request, principal, run, PAYOUT_FILE, format)


@router.get("/{run_id}/exceptions", response_class=Response)
async def exceptions_file(
    request: Request,
    principal: Reader,
    run_id: UUID,
    format: Annotated[str, Query(pattern=FORMAT)] = "xlsx",
) -> Response:
    """The held and stopped enrolments with their reasons; watermarked and audited; streamed."""
    async with scoped(request.app.state.pool, principal) as conn:
        run = await readable_run(conn, run_id)
        await audit_export(request, conn, principal, run, EXCEPTIONS_FILE, format)
    return run_file(request, principal, run, EXCEPTIONS_FILE, format)
