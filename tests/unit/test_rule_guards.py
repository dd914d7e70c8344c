"""A condition's guard (libs/shaobing_rules/guards.py) refuses only what CEL refuses too."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from matcher_events import RULES

from shaobing_rules.guards import _conjuncts, guard_of
from shaobing_rules.rule_set import Rule
from shaobing_rules.variable_catalogue import ENROLMENT_EXAMPLE, FACT_EXAMPLES, PERSON_EXAMPLE

GUARDED = [rule for rule in (*RULES.rules, *RULES.policies) if rule.guard is not None]


@pytest.mark.parametrize(
    ("expression", "conjuncts"),
    [
        ("a.b && c.d >= 3", ["a.b", "c.d >= 3"]),
        ('x.y == "a && b" && (p.q || r.s)', ['x.y == "a && b"', "(p.q || r.s)"]),
        ('"""a" && p.age >= 80 && "b"""', ['"""a" && p.age >= 80 && "b"""']),
        ("a.b && c.d || e.f", []),  # (a.b && c.d) || e.f: neither operand is necessary
        ("a.b && c.d ? e.f : g.h", []),
        ('a.b == "\\"" && c.d', []),  # escapes are not read
    ],
)
def test_only_the_operands_of_a_top_level_and_chain_are_conjuncts(
    expression: str, conjuncts: list[str]
) -> None:
    assert _conjuncts(expression) == conjuncts


def test_a_condition_without_a_simple_conjunct_has_no_guard() -> None:
    assert guard_of('fact.kind in ["MARRIAGE"]') is None
    assert guard_of("person.age + 1 >= 80 && size(person.programs) > 0") is None


def test_the_guard_refuses_on_a_false_conjunct_and_says_nothing_on_other_types() -> None:
    guard = guard_of('p.alive && p.status == "ACTIVE" && p.age >= 80 && !p.moved')
    assert guard is not None

    assert guard({"p": {"alive": True, "status": "ACTIVE", "age": 85, "moved": False}})
    assert not guard({"p": {"alive": True, "status": "ACTIVE", "age": 30, "moved": False}})
    assert not guard({"p": {"alive": True, "status": "ACTIVE", "age": 85, "moved": True}})
    assert guard({"p": {"alive": 1, "status": None, "age": 30.0}})  # CEL decides those
    assert guard({"p": MappingProxyType({"age": 30})})  # not a dict, as the matcher's are
    assert guard({})


def test_the_shipped_age_policies_are_guarded() -> None:
    names = {rule.definition.id for rule in GUARDED}

    assert {"gaoling-upcoming", "gaoling-eligible", "senior-card"} <= names


def _value_like(example: object) -> st.SearchStrategy[Any]:
    if isinstance(example, bool):
        return st.booleans() | st.none()
    if isinstance(example, int):
        return st.integers(min_value=-2, max_value=120) | st.none()
    if isinstance(example, str):
        texts = ["ACTIVE", "MOVED_OUT", "CANCELLED", "DECEASED", "MARRIED", "DIVORCED", ""]
        return st.sampled_from([example, *texts]) | st.none()
    return st.just(example)


def _variables_like(example: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({name: _value_like(value) for name, value in example.items()})


@pytest.mark.parametrize("rule", GUARDED, ids=[rule.name for rule in GUARDED])
@given(data=st.data())
def test_what_a_guard_refuses_cel_refuses_too(rule: Rule, data: st.DataObject) -> None:
    kind = getattr(rule.definition, "fact", None)
    variables: dict[str, Any] = {
        "person": data.draw(_variables_like(PERSON_EXAMPLE)),
        "enrolment": data.draw(_variables_like(ENROLMENT_EXAMPLE)),
        "fact": data.draw(_variables_like(FACT_EXAMPLES[kind])) if kind else {},
        "constants": RULES.constants,
        "threshold": {},
        "today": "2026-11-26",
    }
    assert rule.guard is not None

    if not rule.guard(variables):
        assert dataclasses.replace(rule, guard=None).holds(variables) is False
