"""Compiled rules and policies, and the set in force on a day.

Conditions (and a policy's period) are CEL, explanations jinja2 templates in a sandbox.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import cel
from jinja2 import StrictUndefined, Template
from jinja2.sandbox import SandboxedEnvironment

from .definitions import PolicyDefinition, RuleDefinition
from .guards import Guard, guard_of
from .references import fields_read, union
from .scope import Scope
from .variable_catalogue import VARIABLE_NAMES

_TEMPLATES = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
Definition = RuleDefinition | PolicyDefinition


class RuleFailed(Exception):
    """A condition or template failed on real values; the message names the rule."""

    def __init__(self, rule_id: str, message: str) -> None:
        super().__init__(message)
        self.rule_id = rule_id


@dataclass(frozen=True)
class Rule:
    """A compiled rule or policy (a policy also has a period)."""

    definition: Definition
    source: str  # the file it came from
    condition: cel.Program = field(repr=False)
    templates: tuple[Template, Template] = field(repr=False)  # zh_cn, en
    period_expression: cel.Program | None = field(default=None, repr=False)
    reads: frozenset[str] = frozenset()  # the variables its condition and period read
    fields: Mapping[str, frozenset[str] | None] = field(default_factory=dict, repr=False)
    guard: Guard | None = field(default=None, repr=False)  # refuses before CEL: guards.py

    @classmethod
    def compile(cls, definition: Definition, source: str) -> Rule:
        """Raises ValueError (CEL) or jinja2.TemplateSyntaxError: loading names the rule."""
        texts = definition.explanation
        period = getattr(definition, "period", None)
        condition, period_expression = _cel("when", definition.when), None
        if period:
            period_expression = _cel("period", period)
        expressions = [p for p in (condition, period_expression) if p is not None]
        return cls(
            definition,
            source,
            condition,
            (_template(texts.zh_cn), _template(texts.en)),
            period_expression,
            frozenset(name for p in expressions for name in p.variables()),
            {
                name: union(fields_read(p.source, name) for p in expressions)
                for name in VARIABLE_NAMES
            },
            guard_of(definition.when),
        )

    @property
    def name(self) -> str:
        return f"{self.definition.id} v{self.definition.version}"

    def holds(self, variables: Mapping[str, Any]) -> bool:
        if self.guard is not None and not self.guard(variables):
            return False
        result = self._run(self.condition, variables, "when")
        if not isinstance(result, bool):
            raise self._failed(f"when: gives {type(result).__name__}, not a bool")
        return result

    def period(self, variables: Mapping[str, Any]) -> str:
        """A policy's period: one notification per person, policy and period."""
        if self.period_expression is None:
            raise self._failed("period: a rule has none")
        result = self._run(self.period_expression, variables, "period")
        if not isinstance(result, str) or not result:
            raise self._failed(f"period: gives {type(result).__name__}, not a non-empty string")
        return result

    def explain(self, variables: Mapping[str, Any]) -> tuple[str, str]:
        """The explanation in zh-CN and English."""
        values = dict(variables)  # a Scope read once, not once per template
        try:
            return self.templates[0].render(values), self.templates[1].render(values)
        except Exception as exc:
            raise self._failed(f"explanation: {exc}") from exc

    def _run(self, program: cel.Program, variables: Mapping[str, Any], what: str) -> object:
        if isinstance(variables, Scope):
            context: cel.Context | dict[str, Any] = variables.context_for(self.reads)
        else:
            context = dict(variables)
        try:
            return program.execute(context)
        except Exception as exc:  # cel raises KeyError, TypeError, ValueError, RuntimeError
            raise self._failed(f"{what}: {type(exc).__name__}: {exc}") from exc

    def _failed(self, problem: str) -> RuleFailed:
        return RuleFailed(self.definition.id, f"{self.name}: {problem}")


def fields_read_by(rules: Sequence[Rule]) -> dict[str, frozenset[str]]:
    """Per variable, the fields the rules' conditions and periods read (a variable some rule
    reads whole is left out)."""
    read = {name: union(rule.fields[name] for rule in rules) for name in VARIABLE_NAMES}
    return {name: fields for name, fields in read.items() if fields is not None}


def _template(source: str) -> Template:
    template = _TEMPLATES.from_string(source)
    # jinja copies a template's globals into every render; as its ChainMap they are read key by
    # key in Python, as a dict in C: a render takes 3 µs instead of 7
    template.globals = dict(template.globals)
    return template


def _cel(field_name: str, expression: str) -> cel.Program:
    try:
        return cel.compile(expression)
    except ValueError as exc:
        raise ValueError(f"{field_name}: {exc}") from exc


@dataclass(frozen=True)
class RuleSet:
    """Every version of every rule and policy, with the thresholds and constants they read."""

    rules: tuple[Rule, ...] = ()
    thresholds: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)
    constants: Mapping[str, Any] = field(default_factory=dict)
    policies: tuple[Rule, ...] = ()

    def in_force(self, day: date) -> list[Rule]:
        """The verification rules in force on `day`."""
        return _in_force(self.rules, day)

    def policies_in_force(self, day: date) -> list[Rule]:
        return _in_force(self.policies, day)

    def thresholds_for(self, area_code: str) -> dict[str, float]:
        """Each threshold at its most specific area prefix of `area_code` (else its default)."""
        thresholds = self.thresholds.items()
        return {name: float(_most_specific(by_area, area_code)) for name, by_area in thresholds}


def _in_force(rules: Sequence[Rule], day: date) -> list[Rule]:
    """Per id, the highest version whose effective_from is on or before `day`."""
    current: dict[str, Rule] = {}
    for rule in rules:
        d = rule.definition
        if d.effective_from <= day and (
            d.id not in current or d.version > current[d.id].definition.version
        ):
            current[d.id] = rule
    return sorted(current.values(), key=lambda r: r.definition.id)


def _most_specific(by_area: Mapping[str, Decimal], area_code: str) -> Decimal:
    prefixes = [p for p in by_area if p != "default" and area_code.startswith(p)]
    return by_area[max(prefixes, key=len)] if prefixes else by_area["default"]
