"""Compiled rules and the set in force on a day: conditions in CEL, explanations as templates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import cel
from jinja2 import StrictUndefined, Template
from jinja2.sandbox import SandboxedEnvironment

from .definitions import RuleDefinition

_TEMPLATES = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


class RuleFailed(Exception):
    """A condition or template failed on real values; the message names the rule."""

    def __init__(self, rule_id: str, message: str) -> None:
        super().__init__(message)
        self.rule_id = rule_id


@dataclass(frozen=True)
class Rule:
    definition: RuleDefinition
    source: str  # the file it came from
    condition: cel.Program = field(repr=False)
    templates: tuple[Template, Template] = field(repr=False)  # zh_cn, en

    @classmethod
    def compile(cls, definition: RuleDefinition, source: str) -> Rule:
        """Raises ValueError (CEL) or jinja2.TemplateSyntaxError naming nothing: see loading."""
        texts = definition.explanation
        return cls(
            definition,
            source,
            cel.compile(definition.when),
            (_TEMPLATES.from_string(texts.zh_cn), _TEMPLATES.from_string(texts.en)),
        )

    @property
    def name(self) -> str:
        return f"{self.definition.id} v{self.definition.version}"

    def holds(self, variables: Mapping[str, Any]) -> bool:
        try:
            result = self.condition.execute(dict(variables))
        except Exception as exc:  # cel raises KeyError, TypeError, ValueError, RuntimeError
            raise self._failed(f"when: {type(exc).__name__}: {exc}") from exc
        if not isinstance(result, bool):
            raise self._failed(f"when: gives {type(result).__name__}, not a bool")
        return result

    def explain(self, variables: Mapping[str, Any]) -> tuple[str, str]:
        """The explanation in zh-CN and English."""
        try:
            return self.templates[0].render(variables), self.templates[1].render(variables)
        except Exception as exc:
            raise self._failed(f"explanation: {exc}") from exc

    def _failed(self, problem: str) -> RuleFailed:
        return RuleFailed(self.definition.id, f"{self.name}: {problem}")


@dataclass(frozen=True)
class RuleSet:
    """Every version of every rule, with the thresholds and constants the rules read."""

    rules: tuple[Rule, ...] = ()
    thresholds: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)
    constants: Mapping[str, Any] = field(default_factory=dict)

    def in_force(self, day: date) -> list[Rule]:
        """Per rule id, the highest version whose effective_from is on or before `day`."""
        current: dict[str, Rule] = {}
        for rule in self.rules:
            d = rule.definition
            if d.effective_from <= day and (
                d.id not in current or d.version > current[d.id].definition.version
            ):
                current[d.id] = rule
        return sorted(current.values(), key=lambda r: r.definition.id)

    def thresholds_for(self, area_code: str) -> dict[str, float]:
        """Each threshold at its most specific area prefix of `area_code` (else its default)."""
        thresholds = self.thresholds.items()
        return {name: float(_most_specific(by_area, area_code)) for name, by_area in thresholds}


def _most_specific(by_area: Mapping[str, Decimal], area_code: str) -> Decimal:
    prefixes = [p for p in by_area if p != "default" and area_code.startswith(p)]
    return by_area[max(prefixes, key=len)] if prefixes else by_area["default"]
