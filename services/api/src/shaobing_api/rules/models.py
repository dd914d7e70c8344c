"""What GET /v1/rules returns."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel

from shaobing_rules.definitions import RuleDefinition


class RuleVersion(RuleDefinition):
    source: str  # the file it is defined in


class RulesInForce(BaseModel):
    on: date
    in_force: list[RuleVersion]
    upcoming: list[RuleVersion]  # versions whose effective_from is after `on`
    thresholds: dict[str, dict[str, str]]  # by area-code prefix ('default' elsewhere)
    constants: dict[str, Any]
    load_error: str | None  # the files changed and no longer load: the last good set applies
