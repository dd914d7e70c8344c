"""GET /v1/rules: the verification rules in force on a day, and the versions still to come."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Request

from shaobing_rules.files import RuleFiles
from shaobing_runtime.access import Principal
from shaobing_runtime.http_auth import require

from ..common.domain.roles import READ_RULE_ROLES
from .models import RulesInForce, RuleVersion

router = APIRouter(prefix="/v1/rules", tags=["rules"])
Reader = Annotated[Principal, require(*READ_RULE_ROLES)]


@router.get("", response_model=RulesInForce)
async def rules_in_force(
    request: Request, principal: Reader, on: date | None = None
) -> RulesInForce:
    """What the matcher applies on `on` (default: today in the payout calendar's zone)."""
    files: RuleFiles = request.app.state.rules
    files.refresh()
    settings = request.app.state.settings
    day = on or settings.local_now().date()
    rule_set = files.rule_set
    current = rule_set.in_force(day)
    return RulesInForce(
        on=day,
        in_force=[_version(r) for r in current],
        upcoming=[_version(r) for r in rule_set.rules if r.definition.effective_from > day],
        thresholds={
            name: {area: f"{value}" for area, value in by_area.items()}
            for name, by_area in rule_set.thresholds.items()
        },
        constants=dict(rule_set.constants),
        load_error=str(files.error) if files.error else None,
    )


def _version(rule) -> RuleVersion:
    return RuleVersion(**rule.definition.model_dump(), source=rule.source)
