"""Rule files: validation with names, versions by effective date, thresholds by area."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import cel
import pytest
from matcher_events import (
    BENEFICIARY,
    CHILD,
    CLOCK,
    RULES,
    died,
    employed,
    joined,
    married,
    moved,
    run,
    spouse_died,
)

from shaobing_matcher.domain.variables import (
    enrolment_variables,
    facts_of,
    person_variables,
)
from shaobing_rules.definitions import FactKind
from shaobing_rules.loading import RuleSetError, load_rule_set
from shaobing_rules.scope import Scope
from shaobing_rules.variable_catalogue import ENROLMENT_EXAMPLE, FACT_EXAMPLES, PERSON_EXAMPLE

RULE = """
  - id: {id}
    version: {version}
    effective_from: {effective_from}
    fact: death
    when: '{when}'
    severity: CRITICAL
    action: STOP
    title: {{zh_cn: 死亡, en: Death}}
    explanation: {{zh_cn: "{zh}", en: "died {{{{ fact.date_of_death }}}}"}}
"""


def rule(
    id: str = "death-test",
    version: int = 1,
    effective_from: str = "2026-01-01",
    when: str = "true",
    zh: str = "死亡",
) -> str:
    return RULE.format(id=id, version=version, effective_from=effective_from, when=when, zh=zh)


def load(tmp_path: Path, *texts: str, thresholds: str = "") -> object:
    for n, text in enumerate(texts):
        (tmp_path / f"rules-{n}.yaml").write_text(thresholds + "rules:\n" + text, "utf-8")
    return load_rule_set(tmp_path)


def problems(tmp_path: Path, *texts: str, thresholds: str = "") -> str:
    with pytest.raises(RuleSetError) as raised:
        load(tmp_path, *texts, thresholds=thresholds)
    return str(raised.value)


def test_the_default_rules_load() -> None:
    assert {r.definition.id for r in RULES.in_force(date(2026, 11, 25))} >= {
        "death-of-beneficiary",
        "death-of-household-member",
        "marriage-change",
        "moved-out-of-jurisdiction",
        "registration-cancelled",
        "income-above-threshold",
        "duplicate-exclusive-programs",
    }


def test_the_highest_version_in_effect_on_a_day_is_in_force(tmp_path: Path) -> None:
    rule_set = load(
        tmp_path,
        rule(version=1, effective_from="2026-01-01")
        + rule(version=2, effective_from="2026-12-01", when="false"),
    )

    assert [r.name for r in rule_set.in_force(date(2026, 11, 30))] == ["death-test v1"]
    assert [r.name for r in rule_set.in_force(date(2026, 12, 1))] == ["death-test v2"]
    assert rule_set.in_force(date(2025, 12, 31)) == []


def test_a_threshold_is_taken_at_the_most_specific_area_prefix(tmp_path: Path) -> None:
    thresholds = 'thresholds:\n  limit:\n    default: 1\n    "31": 2\n    "3101": 3\n'

    rule_set = load(tmp_path, rule(), thresholds=thresholds)

    assert rule_set.thresholds_for("310110001001") == {"limit": 3.0}
    assert rule_set.thresholds_for("320100000000") == {"limit": 1.0}
    assert rule_set.thresholds_for("312000000000") == {"limit": 2.0}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (rule(when="fact.date_of_death >"), "death-test v1: when: Failed to parse"),
        (rule(when="fact.no_such_field == 1"), "death-test v1: when: KeyError"),
        (rule(when="1"), "death-test v1: when: gives int, not a bool"),
        (rule(zh="{{ fact.nothing }}"), "death-test v1: explanation:"),
        (rule(zh="{% if %}"), "death-test v1: explanation:"),
        (rule(id="Death Test"), "rules.0.id"),
        (rule().replace("CRITICAL", "URGENT"), "rules.0.severity"),
        (rule().replace("fact: death", "fact: rumour"), "rules.0.fact"),
        (rule() + "    colour: red\n", "rules.0.colour: Extra inputs are not permitted"),
        (rule() + rule(), "death-test v1 is also defined in rules-0.yaml"),
    ],
)
def test_a_bad_rule_is_refused_at_load_naming_file_rule_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    assert message in problems(tmp_path, text)
    assert "rules-0.yaml" in problems(tmp_path, text)


def test_a_threshold_needs_a_default_and_area_prefixes(tmp_path: Path) -> None:
    found = problems(tmp_path, rule(), thresholds='thresholds:\n  limit:\n    "3101x": 2\n')

    assert "thresholds: Value error, limit: '3101x' is neither" in found


def test_an_empty_directory_is_an_error(tmp_path: Path) -> None:
    assert "no rule files" in problems(tmp_path)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    found = problems(tmp_path, rule(id="first-bad", when="1") + rule(id="second-bad", when="("))

    assert "first-bad v1" in found and "second-bad v1" in found


def test_the_matcher_builds_exactly_the_variables_rules_are_checked_against() -> None:
    told = spouse_died(BENEFICIARY, CHILD)  # the spouse married()
    state, _, _ = run(
        [joined(), died(), married(), told, moved(), employed(), joined(joined().enrolment)]
    )
    link = next(iter(state.enrolments.values()))
    assert set(person_variables(state, CLOCK.today)) == set(PERSON_EXAMPLE)
    assert set(enrolment_variables(link)) == set(ENROLMENT_EXAMPLE)
    for kind in FactKind:
        if kind is FactKind.ENROLMENT:
            continue  # needs a second enrolment: checked below
        [fact] = facts_of(state, kind, link)
        assert set(fact.variables) == set(FACT_EXAMPLES[kind]), kind


def test_the_other_enrolment_fact_has_the_documented_fields() -> None:
    from matcher_events import enrolment

    other = joined(enrolment("TEKUN-310110-0001"))
    state, _, _ = run([joined(), other])
    link = state.enrolments["DIBAO-310110-0001"]

    [fact] = facts_of(state, FactKind.ENROLMENT, link)

    assert set(fact.variables) == set(FACT_EXAMPLES[FactKind.ENROLMENT])


def test_a_renewed_scope_keeps_what_is_shared_and_forgets_the_previous_person() -> None:
    scope = Scope({"constants": {"jurisdictions": ["310110"]}})
    scope.set(person={"age": 80}, fact={"kind": "MARRIAGE"})

    scope.renew(person={"age": 60})

    assert dict(scope) == {"constants": {"jurisdictions": ["310110"]}, "person": {"age": 60}}
    assert cel.compile('person.age == 60 && constants.jurisdictions[0] == "310110"').execute(
        scope.context
    )
    with pytest.raises(TypeError):  # null: as unusable as a variable never set
        cel.compile('fact.kind == "MARRIAGE"').execute(scope.context)
