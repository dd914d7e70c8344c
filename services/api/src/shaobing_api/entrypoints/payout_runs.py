"""/v1/payout-runs: the pre-payment check — start, watch, review, override, approve, export."""

from __future__ import annotations

import uuid
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Request, Response

from shaobing_runtime import audit
from shaobing_runtime.access import Principal
from shaobing_runtime.database import scoped
from shaobing_runtime.http_auth import require
from shaobing_runtime.paging import CursorSeq, CursorText, encode_cursor, encode_text_cursor

from ..adapters import payout_queries as runs
from ..adapters.payout_store import changes, start_run
from ..adapters.read_audit import record_list_read
from ..domain.payout import (
    APPROVE_ROLES,
    READ_ROLES,
    START_ROLES,
    Decision,
    RunRefused,
    RunState,
    RunStatus,
    check_approval,
    check_export,
    check_override,
)
from . import payout_execution
from .downloads import FORMAT
from .payout_views import (
    ApprovalBody,
    ChangePage,
    ItemPage,
    OverrideBody,
    PayoutRun,
    RunPage,
    StartBody,
    item_public,
)
from .run_files import EXCEPTIONS_FILE, PAYOUT_FILE, audit_export, run_file

router = APIRouter(prefix="/v1/payout-runs", tags=["payout runs"])
Starter = Annotated[Principal, require(*START_ROLES)]
Reader = Annotated[Principal, require(*READ_ROLES)]
Approver = Annotated[Principal, require(*APPROVE_ROLES)]
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.post("", response_model=PayoutRun, status_code=202)
async def start(request: Request, principal: Starter, body: StartBody) -> PayoutRun:
    """Check every ACTIVE enrolment of the area for the month; watch `rows_checked` grow.

    A re-run of a month supersedes its READY run and lists what changed; an approved month is
    final (409), as is one already running.
    """
    if not principal.covers(body.area):
        raise HTTPException(404, "area: not one of yours")
    async with scoped(request.app.state.pool, principal) as conn:
        run = await start_run(
            conn,
            run_id=uuid.uuid4(),
            month=body.month,
            area=body.area,
            started_by=principal.subject,
        )
        if run is None:
            raise HTTPException(409, f"{body.month} of {body.area} is running or approved")
        details = {"month": body.month, "rows_total": run["rows_total"]}
        entry = audit.entry_of(
            principal, "payout_run.start", "payout_run", str(run["id"]), body.area, **details
        )
        await audit.append(conn, [entry])
    payout_execution.start(request.app.state, run)
    return PayoutRun.model_validate(dict(run))


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


async def readable_run(conn, run_id: UUID, *, lock: bool = False):
    """The run, or 404 when it does not exist or lies outside the caller's areas."""
    row = await runs.get_run(conn, run_id, lock=lock)
    if row is None:
        raise HTTPException(404, "payout run not found")
    return row


@router.get("/{run_id}/items", response_model=ItemPage)
async def items(
    request: Request,
    principal: Reader,
    run_id: UUID,
    decision: Decision | None = None,
    program: Annotated[str | None, Query(max_length=32)] = None,
    critical: bool | None = None,
    limit: Limit = 100,
    after: CursorText = "",
) -> ItemPage:
    """Each enrolment's decision with its reasons and amount, by enrolment_id."""
    async with scoped(request.app.state.pool, principal) as conn:
        await readable_run(conn, run_id)
        rows = await runs.list_items(
            conn,
            run_id,
            decision=decision,
            program=program,
            critical=critical,
            after=after,
            limit=limit + 1,
        )
        page = rows[:limit]
        listed = [r["enrolment_id"] for r in page]
        query = {"run_id": run_id, "decision": decision, "program": program, "critical": critical}
        await record_list_read(conn, principal, "payout_item", listed, **query)
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
    """The approver's explicit decision for one enrolment, with why; recorded in the audit."""
    async with scoped(request.app.state.pool, principal) as conn:
        run = await readable_run(conn, run_id, lock=True)
        _allowed(check_override, await _state(conn, run), principal)
        at = request.app.state.settings.local_now().isoformat()
        decided = {"decision": body.decision.value, "reason": body.reason}
        decided |= {"by": principal.subject, "at": at}
        item = await runs.set_override(conn, run_id, enrolment_id, decided)
        if item is None:
            raise HTTPException(404, "no such enrolment in this run")
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


def _allowed(check, *args) -> None:
    try:
        check(*args)
    except RunRefused as exc:
        raise HTTPException(exc.status, exc.reason) from exc


@router.post("/{run_id}/approval", response_model=PayoutRun)
async def approve(
    request: Request, principal: Approver, run_id: UUID, body: ApprovalBody
) -> PayoutRun:
    """Approve a READY run: not by who started it, not with a critical item unanswered."""
    async with scoped(request.app.state.pool, principal) as conn:
        run = await readable_run(conn, run_id, lock=True)
        if run["version"] != body.version:
            raise HTTPException(409, f"version: the run is at {run['version']}, not {body.version}")
        _allowed(check_approval, await _state(conn, run), principal)
        approved = await runs.approve(conn, run_id, principal.subject)
        entry = audit.entry_of(
            principal,
            "payout_run.approve",
            "payout_run",
            str(run_id),
            run["area"],
            month=run["month"],
            totals=approved["totals"]["by_decision"],
        )
        await audit.append(conn, [entry])
    return PayoutRun.model_validate(dict(approved))


@router.get("/{run_id}/payout-file", response_class=Response)
async def payout_file(
    request: Request,
    principal: Approver,
    run_id: UUID,
    format: Annotated[str, Query(pattern=FORMAT)] = "xlsx",
) -> Response:
    """One row per enrolment to pay, the account full for a payment officer; the first export
    makes the run EXPORTED. Watermarked and audited; streamed (XLSX: at most API_MAX_XLSX_ROWS
    rows, 422 beyond)."""
    async with scoped(request.app.state.pool, principal) as conn:
        run = await readable_run(conn, run_id, lock=True)
        _allowed(check_export, RunStatus(run["status"]))
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
