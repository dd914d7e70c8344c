"""Which fields of a variable a CEL expression reads, found in its text.

Converting a Python value to CEL costs about a microsecond per string key or value (the `cel`
package tries a chain of types on each), so a scope converts only the fields the rules in
force read. Only `name.field` counts as reading a field; any other use of the variable (the
whole map, an index, a macro or method on it, `.?`) reads it whole (None), so a mistake can
only convert too much, never too little. String literals are left out first: a "person." inside
quotes reads nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_STRING = re.compile(
    r"""[rRbB]{0,2}(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')"""
)
_FIELD = re.compile(r"\s*\.\s*([A-Za-z_]\w*)(\s*\()?")


def fields_read(expression: str, variable: str) -> frozenset[str] | None:
    """The fields of `variable` the expression reads (empty: none), or None if it reads more."""
    text = _STRING.sub('""', expression)
    fields: set[str] = set()
    for use in re.finditer(rf"(?<![\w.]){re.escape(variable)}\b", text):
        access = _FIELD.match(text, use.end())
        if access is None or access.group(2) is not None:  # the variable itself, or a method
            return None
        fields.add(access.group(1))
    return frozenset(fields)


def union(reads: Iterable[frozenset[str] | None]) -> frozenset[str] | None:
    """What several expressions read together (None: the whole variable)."""
    fields: set[str] = set()
    for read in reads:
        if read is None:
            return None
        fields |= read
    return frozenset(fields)
