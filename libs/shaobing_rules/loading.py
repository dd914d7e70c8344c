"""Rule files (YAML) into a RuleSet, every problem reported with its file, rule and field."""

from __future__ import annotations

from pathlib import Path

import yaml
from jinja2 import TemplateError
from pydantic import ValidationError

from .definitions import PolicyScope, RuleFile
from .rule_set import Rule, RuleFailed, RuleSet
from .variable_catalogue import example_variables


class RuleSetError(ValueError):
    """The rule files cannot be used; the message lists every problem found."""


def load_rule_set(directory: Path) -> RuleSet:
    """Every `*.yaml` of `directory`, validated and compiled; raises RuleSetError."""
    problems: list[str] = []
    files = {path.name: _read(path, problems) for path in sorted(directory.glob("*.yaml"))}
    if not files and not problems:
        problems.append(f"{directory}: no rule files (*.yaml)")
    thresholds = {k: v for f in files.values() if f for k, v in f.thresholds.items()}
    constants = {k: v for f in files.values() if f for k, v in f.constants.items()}
    rules = _all_compiled([(n, d) for n, f in files.items() if f for d in f.rules], problems)
    policies = _all_compiled([(n, d) for n, f in files.items() if f for d in f.policies], problems)
    rule_set = RuleSet(tuple(rules), thresholds, constants, tuple(policies))
    problems += _duplicates(rules) + _duplicates(policies) + _failures_on_examples(rule_set)
    if problems:
        raise RuleSetError("invalid rules:\n" + "\n".join(f"- {p}" for p in problems))
    return rule_set


def _read(path: Path, problems: list[str]) -> RuleFile | None:
    try:
        return RuleFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except yaml.YAMLError as exc:
        problems.append(f"{path.name}: not YAML: {exc}")
    except ValidationError as exc:
        problems += [
            f"{path.name}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        ]
    return None


def _all_compiled(definitions: list, problems: list[str]) -> list[Rule]:
    compiled = [_compiled(d, source, problems) for source, d in definitions]
    return [rule for rule in compiled if rule is not None]


def _compiled(definition, source: str, problems: list[str]) -> Rule | None:
    where = f"{source}: {definition.id} v{definition.version}"
    try:
        return Rule.compile(definition, source)
    except ValueError as exc:  # CEL: the message quotes the expression (when or period)
        problems.append(f"{where}: {exc}")
    except TemplateError as exc:
        problems.append(f"{where}: explanation: {exc}")
    return None


def _duplicates(rules: list[Rule]) -> list[str]:
    seen: dict[tuple[str, int], str] = {}
    problems = []
    for rule in rules:
        key = (rule.definition.id, rule.definition.version)
        if key in seen:
            problems.append(f"{rule.source}: {rule.name} is also defined in {seen[key]}")
        seen[key] = rule.source
    return problems


def _failures_on_examples(rule_set: RuleSet) -> list[str]:
    """Run every condition, period and template once on example values: unknown fields fail
    here, not on the first real person."""
    thresholds = rule_set.thresholds_for("310110001001")
    constants = dict(rule_set.constants)
    problems = []
    for rule in (*rule_set.rules, *rule_set.policies):
        d = rule.definition
        per_enrolment = getattr(d, "scope", PolicyScope.ENROLMENT) is PolicyScope.ENROLMENT
        variables = example_variables(d.fact, thresholds, constants, per_enrolment=per_enrolment)
        try:
            rule.holds(variables)
            rule.explain(variables)
            if rule.period_expression is not None:
                rule.period(variables)
        except RuleFailed as exc:
            problems.append(f"{rule.source}: {exc}")
    return problems
