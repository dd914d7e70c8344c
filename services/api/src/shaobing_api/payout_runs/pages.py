"""The payout-run pages (zh-CN first, English with ?lang=en): start a run, watch it, review the
held and stopped enrolments with their reasons, override, approve, export, print the summary."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from shaobing_runtime.access import Principal
from shaobing_runtime.database import scoped
from shaobing_runtime.http_auth import require

from ..common.adapters.read_audit import record_list_read
from ..common.pages import Lang, templates_of
from .adapters import payout_queries as runs
from .domain.payout_run import APPROVE_ROLES, READ_ROLES, START_ROLES, Decision
from .models import PayoutRun, item_public
from .service import readable_run

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, require(*READ_ROLES)]
SHOWN_EXCEPTIONS = 500
templates = templates_of(__file__)

LABELS: dict[str, dict[str, Any]] = {
    "zh": {
        "title": "发放前核查",
        "runs": "核查批次",
        "start": "开始核查",
        "month": "发放月份",
        "area": "区划",
        "status": "状态",
        "progress": "进度",
        "started_by": "发起人",
        "decisions": {"PAY": "正常发放", "HOLD": "暂缓发放", "STOP": "停止发放"},
        "enrolments": "人数",
        "amount": "金额",
        "to_recover": "待追回",
        "critical": "待人工决定的重大预警",
        "changed_since_check": "核查后又有变更的待遇（按核查时的账户和金额发放；审批前请重新核查）",
        "cancelled": "已取消",
        "changes": "与上次核查相比",
        "added": "新增",
        "removed": "减少",
        "changed": "变化",
        "exceptions": "暂缓与停发名单",
        "enrolment": "待遇",
        "reasons": "原因",
        "override": "人工决定",
        "why": "理由",
        "save": "保存",
        "approve": "审批通过",
        "exports": "导出",
        "payout_file": "发放文件",
        "held_list": "暂缓/停发名单",
        "summary": "月度汇总（可打印）",
        "by_program": "按项目",
        "by_street": "按街道",
        "none": "无",
        "more": "仅显示前 500 条，完整名单请导出",
        "signature": "审核人签字",
        "print": "打印",
    },
    "en": {
        "title": "Pre-payment check",
        "runs": "Payout runs",
        "start": "Start a run",
        "month": "Month",
        "area": "Area",
        "status": "Status",
        "progress": "Progress",
        "started_by": "Started by",
        "decisions": {"PAY": "Pay", "HOLD": "Hold", "STOP": "Stop"},
        "enrolments": "Enrolments",
        "amount": "Amount",
        "to_recover": "To recover",
        "critical": "Critical alerts awaiting a decision",
        "changed_since_check": "Enrolments changed since the check (paid as checked; start the "
        "month again before approving)",
        "cancelled": "Cancelled",
        "changes": "Since the previous run",
        "added": "added",
        "removed": "removed",
        "changed": "changed",
        "exceptions": "Held and stopped",
        "enrolment": "Enrolment",
        "reasons": "Reasons",
        "override": "Override",
        "why": "Why",
        "save": "Save",
        "approve": "Approve",
        "exports": "Exports",
        "payout_file": "Payout file",
        "held_list": "Held/stopped list",
        "summary": "Monthly summary (printable)",
        "by_program": "By programme",
        "by_street": "By street",
        "none": "None",
        "more": "The first 500 are shown; export for the whole list",
        "signature": "Approved by (signature)",
        "print": "Print",
    },
}


@router.get("/ui/payout-runs", response_class=HTMLResponse)
async def runs_page(request: Request, principal: Reader, lang: Lang = "zh") -> HTMLResponse:
    """The runs in the caller's areas and, for those who may, a form to start one."""
    async with scoped(request.app.state.pool, principal) as conn:
        rows = await runs.list_runs(conn, month=None, limit=100, before=None)
    today = request.app.state.settings.local_now().date()
    next_month = f"{today.year + today.month // 12}-{today.month % 12 + 1:02d}"
    return templates.TemplateResponse(
        request,
        "payout_runs.html",
        {
            "runs": [PayoutRun.model_validate(dict(r)) for r in rows],
            "t": LABELS[lang],
            "lang": lang,
            "principal": principal,
            "may_start": principal.role in START_ROLES,
            "month": next_month,
            "zone": ZoneInfo(request.app.state.settings.timezone),
        },
    )


@router.get("/ui/payout-runs/{run_id}", response_class=HTMLResponse)
async def run_page(
    request: Request, principal: Reader, run_id: UUID, lang: Lang = "zh"
) -> HTMLResponse:
    """One run: progress while it runs, then totals, changes, the exceptions and the steps."""
    return await _render(request, principal, run_id, lang, "payout_run.html")


@router.get("/ui/payout-runs/{run_id}/summary", response_class=HTMLResponse)
async def summary_page(
    request: Request, principal: Reader, run_id: UUID, lang: Lang = "zh"
) -> HTMLResponse:
    """One printable page: the month's figures and the decisions by programme and street."""
    return await _render(request, principal, run_id, lang, "payout_summary.html")


async def _render(
    request: Request, principal: Principal, run_id: UUID, lang: str, template: str
) -> HTMLResponse:
    async with scoped(request.app.state.pool, principal) as conn:
        run = PayoutRun.model_validate(dict(await readable_run(conn, run_id)))
        first = runs.exception_rows(conn, run_id, size=SHOWN_EXCEPTIONS + 1)
        exceptions = await anext(first, [])  # the first of them only, however many there are
        shown = exceptions[:SHOWN_EXCEPTIONS]
        await record_list_read(conn, principal, "payout_item", shown, "enrolment_id", run_id=run_id)
    items = [item_public(r, principal) for r in shown]
    return templates.TemplateResponse(
        request,
        template,
        {
            "run": run,
            "items": items,
            "more": len(exceptions) > SHOWN_EXCEPTIONS,
            "t": LABELS[lang],
            "lang": lang,
            "principal": principal,
            "may_approve": principal.role in APPROVE_ROLES,
            "decisions": list(Decision),
            "chart": _chart(run.totals or {}),
            "zone": ZoneInfo(request.app.state.settings.timezone),
        },
    )


def _chart(totals: dict) -> dict[str, list[dict]]:
    """Stacked bars per programme and per street: each decision's share of the row's count."""
    chart = {}
    for group in ("by_program", "by_street"):
        rows = []
        for name, cells in sorted((totals.get(group) or {}).items()):
            total = sum(c["enrolments"] for c in cells.values()) or 1
            shares = {d: cells.get(d, {"enrolments": 0})["enrolments"] / total for d in Decision}
            rows.append({"name": name, "total": total, "shares": shares, "cells": cells})
        chart[group] = rows
    return chart
