"""The notifications page (zh-CN first, English with ?lang=en): whom to contact, and the steps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from shaobing_contracts.notification import NotificationStatus
from shaobing_runtime.access import Principal
from shaobing_runtime.database import scoped
from shaobing_runtime.http_auth import require

from ..common.adapters.read_audit import record_list_read
from ..common.domain.roles import READ_ALERT_ROLES
from ..common.pages import Blank, Lang, templates_of
from .adapters.notification_queries import NotificationFilter, list_notifications
from .models import notification_public

router = APIRouter(include_in_schema=False)
templates = templates_of(__file__)

LABELS = {
    "zh": {
        "notifications": "政策找人 · 待联系",
        "queue": "预警队列",
        "filter": "筛选",
        "none": "暂无",
        "contact": "已联系",
        "applied": "已申请",
        "declined": "不申请",
        "not_eligible": "不符合条件",
        "withdrawn": "已撤回",
        "current": "全部（不含已撤回）",
    },
    "en": {
        "notifications": "Policy finds the person · to contact",
        "queue": "Alert queue",
        "filter": "Filter",
        "none": "Nobody",
        "contact": "Contacted",
        "applied": "Applied",
        "declined": "Declined",
        "not_eligible": "Not eligible",
        "withdrawn": "Withdrawn",
        "current": "All but withdrawn",
    },
}

# The steps a case worker can take from each status (reopen is a supervisor's, via the api).
NOTIFICATION_STEPS = {
    "NEW": ["contact", "not_eligible"],
    "CONTACTED": ["applied", "declined", "not_eligible"],
}


@router.get("/ui/notifications", response_class=HTMLResponse)
async def notifications_page(
    request: Request,
    principal: Annotated[Principal, require(*READ_ALERT_ROLES)],
    status: Annotated[NotificationStatus | None, Blank] = None,
    benefit: Annotated[str | None, Blank] = None,
    lang: Lang = "zh",
) -> HTMLResponse:
    """Whom to contact about which benefit, with the lifecycle steps as buttons."""
    where = NotificationFilter(status=status, benefit=benefit.upper() if benefit else None)
    async with scoped(request.app.state.pool, principal) as conn:
        rows = await list_notifications(
            conn, scopes=principal.areas, where=where, limit=200, before_seq=None
        )
        await record_list_read(conn, principal, "notification", rows, **vars(where))
    return templates.TemplateResponse(
        request,
        "notifications.html",
        {
            "items": [notification_public(r, principal) for r in rows],
            "t": LABELS[lang],
            "lang": lang,
            "status": status,
            "benefit": benefit,
            "statuses": list(NotificationStatus),
            "steps": {s: NOTIFICATION_STEPS.get(s, []) for s in NotificationStatus},
        },
    )
