"""The alert pages (zh-CN first, English with ?lang=en), server-rendered: the queue, one alert."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from shaobing_contracts.alert import Severity
from shaobing_contracts.enrolment import Program
from shaobing_runtime.access import Principal
from shaobing_runtime.database import scoped
from shaobing_runtime.http_auth import require

from ..common.adapters.read_audit import record_list_read
from ..common.domain.roles import READ_ALERT_ROLES
from ..common.pages import Lang, templates_of
from .adapters.alert_queries import queue, queue_counts, timeline
from .domain.workflow import ActionTaken, DismissReason
from .models import alert_public, queue_item
from .queue_view import View
from .service import readable_alert

router = APIRouter(include_in_schema=False)
templates = templates_of(__file__)

LABELS = {
    "zh": {
        "title": "电子哨兵 · 预警队列",
        "empty": "暂无预警",
        "refresh": "每 5 秒自动刷新",
        "cols": [
            "严重程度",
            "建议措施",
            "状态",
            "项目",
            "受益人",
            "区划",
            "应处理日期",
            "多发金额",
            "说明",
        ],
        "all": "全部",
        "filter": "筛选",
        "undecided": "待处理（全部）",
        "program": "项目",
        "area": "区划",
        "due_by": "截止不晚于",
        "overdue": "仅逾期",
        "late": "逾期",
        "escalated": "已升级至主管",
        "total": "待处理",
        "export": "导出",
        "days": "剩余天数",
        "signed_in": "当前用户",
        "alert": "预警",
        "back": "返回队列",
        "rule": "规则",
        "enrolment": "待遇",
        "person": "人员",
        "due": "应处理日期",
        "days_left": "天",
        "overpaid": "多发月数 · 金额",
        "claimed_by": "认领人",
        "assignee": "分派给",
        "claim": "认领",
        "confirm": "确认",
        "dismiss": "排除",
        "release": "退回队列",
        "comment": "备注",
        "recover": "追回金额",
        "text": "说明",
        "evidence": "证据",
        "timeline": "处理记录",
    },
    "en": {
        "title": "Electronic sentinel · alert queue",
        "empty": "No alerts",
        "refresh": "Refreshes every 5 s",
        "cols": [
            "Severity",
            "Action",
            "Status",
            "Program",
            "Beneficiary",
            "Area",
            "Due",
            "Overpaid",
            "Explanation",
        ],
        "all": "All",
        "filter": "Filter",
        "undecided": "Undecided (all)",
        "program": "Program",
        "area": "Area",
        "due_by": "Due by",
        "overdue": "Overdue only",
        "late": "Overdue",
        "escalated": "Escalated to supervisors",
        "total": "Undecided",
        "export": "Export",
        "days": "Days left",
        "signed_in": "Signed in as",
        "alert": "Alert",
        "back": "Back to the queue",
        "rule": "Rule",
        "enrolment": "Enrolment",
        "person": "Person",
        "due": "Due",
        "days_left": "days left",
        "overpaid": "Months · amount overpaid",
        "claimed_by": "Claimed by",
        "assignee": "assigned to",
        "claim": "Claim",
        "confirm": "Confirm",
        "dismiss": "Dismiss",
        "release": "Release",
        "comment": "Comment",
        "recover": "Amount to recover",
        "text": "Note",
        "evidence": "Evidence",
        "timeline": "Timeline",
    },
}


@router.get("/ui/alerts", response_class=HTMLResponse)
async def queue_page(
    request: Request,
    principal: Annotated[Principal, require(*READ_ALERT_ROLES)],
    view: View,
    lang: Lang = "zh",
) -> HTMLResponse:
    """The work queue with the api's filters and counts; escalated alerts stand out."""
    async with scoped(request.app.state.pool, principal) as conn:
        rows = await queue(
            conn, scopes=principal.areas, where=view.where, limit=200, after_seq=None
        )
        counts = await queue_counts(
            conn, scopes=principal.areas, where=view.where, today=view.today
        )
        await record_list_read(conn, principal, "alert", rows, **view.shown)
    request.app.state.rules.refresh()
    rule_set = request.app.state.rules.rule_set
    return templates.TemplateResponse(
        request,
        "queue.html",
        {
            "alerts": [queue_item(r, principal, view.today) for r in rows],
            "counts": _totals(counts),
            "t": LABELS[lang],
            "lang": lang,
            "principal": principal,
            "filter": view.where,
            "query": urlencode({k: v for k, v in view.shown.items()}),
            "severities": list(Severity),
            "programs": list(Program),
            "rule_ids": sorted({r.definition.id for r in rule_set.in_force(view.today)}),
        },
    )


def _totals(counts: list) -> dict:
    totals = {"alerts": 0, "overdue": 0, "escalated": 0}
    by_severity = {s.value: 0 for s in Severity}
    for row in counts:
        for key in totals:
            totals[key] += row[key]
        by_severity[row["severity"]] += row["alerts"]
    return totals | {"by_severity": by_severity}


@router.get("/ui/alerts/{alert_id}", response_class=HTMLResponse)
async def alert_page(
    request: Request,
    principal: Annotated[Principal, require(*READ_ALERT_ROLES)],
    alert_id: UUID,
    lang: Lang = "zh",
) -> HTMLResponse:
    """One alert: explanation, evidence, timeline and the steps (keys c, f, d, r)."""
    async with scoped(request.app.state.pool, principal) as conn:
        row = await readable_alert(conn, principal, alert_id)
        events = await timeline(conn, alert_id)
    today = request.app.state.settings.local_now().date()
    return templates.TemplateResponse(
        request,
        "alert.html",
        {
            "a": alert_public(row, principal),
            "days_left": (row["due_date"] - today).days,
            "timeline": events,
            "t": LABELS[lang],
            "lang": lang,
            "actions_taken": list(ActionTaken),
            "reasons": list(DismissReason),
        },
    )
