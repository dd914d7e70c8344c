"""A condition's quick refusal: the conjuncts simple enough to check in Python before CEL.

`a && b && …` is false as soon as one conjunct is false (CEL's && is false even when another
operand is an error), so a conjunct of the shape `var.field OP literal`, `var.field` or
`!var.field`, checked on the Python values, can refuse a condition without converting the
person for CEL, which costs more than the rest of the evaluation: most residents are far from
every age a policy looks for. A guard only ever refuses: when a value is missing, or of another
type than the literal, or its variable is not a dict, it says nothing and CEL decides.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

Guard = Callable[[Mapping[str, Any]], bool]  # False: the condition cannot hold

_COMPARISON = re.compile(
    r"(?P<var>[A-Za-z_]\w*)\.(?P<field>[A-Za-z_]\w*)\s*(?P<op>==|!=|>=|<=|>|<)\s*"
    r"""(?P<literal>-?\d+|"[^"\\]*"|'[^'\\]*'|true|false)"""
)
_FLAG = re.compile(r"(?P<negated>!\s*)?(?P<var>[A-Za-z_]\w*)\.(?P<field>[A-Za-z_]\w*)")
_OPERATORS = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
_INT64 = 2**63
# (variable, field, the test of the field's value: False refuses, None says nothing)
Check = tuple[str, str, Callable[[object], bool | None]]


def guard_of(expression: str) -> Guard | None:
    """The guard of a CEL condition, or None when no conjunct of it is simple enough."""
    checks = [check for part in _conjuncts(expression) if (check := _check_of(part))]
    if not checks:
        return None

    def guard(variables: Mapping[str, Any]) -> bool:
        for name, field, test in checks:
            value = variables.get(name)  # the matcher's variables are dicts (others: no say)
            if type(value) is dict and field in value and test(value[field]) is False:
                return False
        return True

    return guard


def _conjuncts(expression: str) -> list[str]:
    """The operands of the top-level && chain; none when the expression is not one (a top-level
    || or ?: binds looser than &&, so then no operand is necessary), or when it has a backslash
    (an escape, or a raw string: not worth reading here)."""
    if "\\" in expression:
        return []
    parts, depth, start, quote, i = [], 0, 0, "", 0
    while i < len(expression):
        if quote:  # inside a string: only its closing quote matters
            closed = expression.startswith(quote, i)
            i, quote = (i + len(quote), "") if closed else (i + 1, quote)
            continue
        char = expression[i]
        if char in "\"'":
            quote = char * 3 if expression.startswith(char * 3, i) else char
            i += len(quote)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and expression.startswith("&&", i):
            parts.append(expression[start:i].strip())
            start, i = i + 2, i + 1
        elif depth == 0 and (expression.startswith("||", i) or char == "?"):
            return []
        i += 1
    return [*parts, expression[start:].strip()]


def _check_of(conjunct: str) -> Check | None:
    if match := _COMPARISON.fullmatch(conjunct):
        literal = _literal(match["literal"])
        return match["var"], match["field"], _comparison(_OPERATORS[match["op"]], literal)
    if match := _FLAG.fullmatch(conjunct):
        wanted = not match["negated"]
        return match["var"], match["field"], lambda value: _flag(value, wanted)
    return None


def _literal(text: str) -> object:
    if text in ("true", "false"):
        return text == "true"
    if text[0] in "\"'":
        return text[1:-1]
    return int(text)


def _comparison(
    compare: Callable[[Any, Any], bool], literal: object
) -> Callable[[object], bool | None]:
    def test(value: object) -> bool | None:
        if type(value) is not type(literal):  # bool is no int here, as in CEL
            return None
        if type(value) is int and not -_INT64 <= value < _INT64:
            return None
        return compare(value, literal)

    return test


def _flag(value: object, wanted: bool) -> bool | None:
    return value is wanted if type(value) is bool else None
