"""The variables of one evaluation, converted for CEL once and changed piece by piece.

Converting Python values to CEL is most of the cost of a condition (about 60 µs for a rule's
variables as a dict against 0.3 µs on a prepared context), so the matcher keeps one scope per
rule book: what is shared (constants, today) is converted once, and for each person it replaces
only what changes: the person, the enrolment, then each fact.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import cel


class Scope(Mapping[str, Any]):
    def __init__(self, variables: Mapping[str, Any]) -> None:
        self._values = dict(variables)
        self._shared = frozenset(self._values)  # kept by renew()
        self.context = cel.Context(variables=self._values)

    def renew(self, **variables: Any) -> Scope:
        """The same context for another subject: every variable set since construction is
        cleared (null to CEL, absent to templates: reading it fails as if never set), then
        `variables` are set; returns the scope."""
        for name in [n for n in self._values if n not in self._shared]:
            del self._values[name]
            self.context.add_variable(name, None)
        return self.set(**variables)

    def set(self, **changes: Any) -> Scope:
        """Replace some variables (in place); returns the scope."""
        for name, value in changes.items():
            self._values[name] = value
            self.context.add_variable(name, value)
        return self

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)
