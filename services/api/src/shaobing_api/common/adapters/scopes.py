"""The caller's areas as the patterns every scoped query filters on: no scope, no rows."""

from __future__ import annotations

from collections.abc import Sequence


def scope_patterns(scopes: Sequence[str]) -> list[str]:
    """Each area-code prefix as a LIKE pattern for itself and everything below it."""
    return [f"{s}%" for s in scopes]
