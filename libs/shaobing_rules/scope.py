"""The variables of one evaluation, converted for CEL only when a program reads them.

Converting Python values to CEL is most of the cost of a condition (about a microsecond per
string key or value, against about 1 µs to run a condition on a prepared context), so the
matcher keeps one scope per rule book: what is shared (constants, today) is converted once, and
for each person it replaces only what changes: the person, the enrolment, then each fact. A
variable is converted when a program that reads it runs (`context_for`), not when it is set, and
only in the fields the rules in force read (`fields`): a variable no condition reads is never
converted, and a person's masked ID, which only explanations show, never reaches CEL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import cel


class Scope(Mapping[str, Any]):
    def __init__(
        self, variables: Mapping[str, Any], fields: Mapping[str, frozenset[str]] | None = None
    ) -> None:
        """`fields`: per variable, the only fields conditions read (others: all of it)."""
        self._values = dict(variables)
        self._shared = frozenset(self._values)  # kept by renew()
        self._fields = dict(fields or {})
        self._context = cel.Context(variables={n: self._converted(n) for n in self._values})
        self._stale: set[str] = set()  # set or cleared since the context last had them

    @property
    def context(self) -> cel.Context:
        """The CEL context with every variable up to date."""
        return self.context_for(list(self._stale))

    def context_for(self, names: Iterable[str]) -> cel.Context:
        """The CEL context with the variables `names` up to date (a cleared one: null)."""
        for name in self._stale.intersection(names):
            self._stale.discard(name)
            value = self._converted(name) if name in self._values else None
            self._context.add_variable(name, value)
        return self._context

    def renew(self, **variables: Any) -> Scope:
        """The same context for another subject: every variable set since construction is
        cleared (null to CEL, absent to templates: reading it fails as if never set), then
        `variables` are set; returns the scope."""
        for name in [n for n in self._values if n not in self._shared]:
            del self._values[name]
            self._stale.add(name)
        return self.set(**variables)

    def set(self, **changes: Any) -> Scope:
        """Replace some variables (in place); returns the scope."""
        self._values.update(changes)
        self._stale.update(changes)
        return self

    def _converted(self, name: str) -> Any:
        value, fields = self._values[name], self._fields.get(name)
        if fields is None or not isinstance(value, dict):
            return value
        return {field: value[field] for field in fields if field in value}

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def get(self, name: str, default: Any = None) -> Any:  # Mapping's, without its Python layers
        return self._values.get(name, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)
