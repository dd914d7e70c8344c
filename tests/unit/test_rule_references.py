"""Only what the rules read reaches CEL: the fields an expression reads, found in its text, and a
scope that converts a variable when a program reading it runs, in those fields only."""

from __future__ import annotations

import cel
import pytest

from shaobing_rules.references import fields_read, union
from shaobing_rules.rule_set import fields_read_by
from shaobing_rules.scope import Scope


@pytest.mark.parametrize(
    ("expression", "fields"),
    [
        ("person.age >= 80 && person.alive", {"age", "alive"}),
        ("person . age >= 80", {"age"}),
        ("constants.jurisdictions.exists(j, person.area_code.startsWith(j))", {"area_code"}),
        ("enrolment.program == fact.program", set()),  # not read at all
        ("other.person.age > 1", set()),  # a field named person is not the variable
        ("persona.age > 1", set()),
        ('"person.age" == fact.kind', set()),  # inside a string: read by nobody
        ("'it\\'s' == person.gender", {"gender"}),
        ('r"\\d" == person.birth_date', {"birth_date"}),
        ('"""person.x""" == person.gender', {"gender"}),
    ],
)
def test_the_fields_an_expression_reads_are_found_in_its_text(
    expression: str, fields: set[str]
) -> None:
    assert fields_read(expression, "person") == fields


@pytest.mark.parametrize(
    "expression",
    [
        "size(person) > 3",  # the whole map
        'person["age"] >= 80',  # by index
        '"age" in person',
        "person.exists(k, k == 'age')",  # a macro or method on the map itself
        "person.?age.orValue(0) > 1",  # optional field syntax
        "[1].exists(person, person > 0)",  # the name bound by a comprehension
        "person.age > 1 && person",
    ],
)
def test_any_other_use_of_the_variable_reads_all_of_it(expression: str) -> None:
    assert fields_read(expression, "person") is None


def test_fields_read_together_are_the_union_unless_one_reads_the_whole() -> None:
    assert union([frozenset({"a"}), frozenset(), frozenset({"b"})]) == {"a", "b"}
    assert union([frozenset({"a"}), None]) is None


def test_the_rules_in_force_read_the_person_in_the_fields_their_conditions_name() -> None:
    from matcher_events import CLOCK, RULES

    rules = [*RULES.in_force(CLOCK.today), *RULES.policies_in_force(CLOCK.today)]
    read = fields_read_by(rules)

    assert {"age", "alive", "area_code", "programs"} <= read["person"]
    assert "masked_id" not in read["person"]  # only explanations show it
    assert read["threshold"] == {"pension_reassess", "contribution_base_reassess"}


def test_a_scope_gives_cel_only_the_fields_read_and_a_template_all_of_them() -> None:
    scope = Scope({"today": "2026-11-26"}, {"person": frozenset({"age"})})
    scope.set(person={"age": 80, "masked_id": "310110********0021"})

    context = scope.context_for({"person"})

    assert cel.compile("person.age == 80").execute(context) is True
    assert cel.compile('"masked_id" in person').execute(context) is False
    assert scope["person"]["masked_id"] == "310110********0021"


def test_a_scope_converts_a_variable_only_when_a_program_reads_it() -> None:
    scope = Scope({})
    scope.set(person={"age": 80}, fact={"day": object()})  # not convertible to CEL

    context = scope.context_for({"person"})

    assert cel.compile("person.age").execute(context) == 80
    with pytest.raises(ValueError, match="fact"):
        scope.context_for({"fact"})


def test_a_variable_cleared_by_renew_is_null_when_read_even_if_never_converted() -> None:
    scope = Scope({})
    scope.set(person={"age": 80}, fact={"kind": "MARRIAGE"})  # the fact never read
    scope.renew(person={"age": 60})

    context = scope.context_for({"person", "fact"})

    assert cel.compile("person.age").execute(context) == 60
    assert cel.compile("fact == null").execute(context) is True
