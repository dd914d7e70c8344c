"""The rule directory as the running services see it: re-read when a file changes.

A new version takes effect on its effective_from without a restart (RuleSet.in_force is asked
every batch); a file edited in place (a ConfigMap update) is picked up at the next check. Files
that no longer load leave the last good rule set in force, and the error is kept for the logs.
"""

from __future__ import annotations

import time
from pathlib import Path

from .loading import RuleSetError, load_rule_set


class RuleFiles:
    def __init__(self, directory: Path, *, check_every: float = 10.0) -> None:
        """Loads at once: rules that do not load at start-up stop the service (RuleSetError)."""
        self.directory, self._every = directory, check_every
        self._signature = self._scan()
        self.rule_set = load_rule_set(directory)
        self._checked = time.monotonic()
        self.error: RuleSetError | None = None

    def refresh(self) -> bool:
        """Re-read the files if they changed since the last check; True when a new set loaded."""
        if time.monotonic() - self._checked < self._every:
            return False
        self._checked = time.monotonic()
        signature = self._scan()
        if signature == self._signature:
            return False
        self._signature = signature
        try:
            self.rule_set, self.error = load_rule_set(self.directory), None
        except RuleSetError as exc:
            self.error = exc
            return False
        return True

    def _scan(self) -> tuple[tuple[str, int, int], ...]:
        return tuple(
            (p.name, p.stat().st_mtime_ns, p.stat().st_size)
            for p in sorted(self.directory.glob("*.yaml"))
        )
