"""How a service's background loop (a consumer, the relay) is doing, for readiness and metrics:
failing since when and why, whether the failure passes by itself (a dependency away), whether
the loop ended (it never should), and the pause before the next attempt."""

from __future__ import annotations

import time
from dataclasses import dataclass

UNREADY_AFTER = 10.0  # seconds of failing before readiness says so (one retry is not news)


class Degraded(Exception):
    """A readiness check's finding that does not make the service unready: it still does its
    job (e.g. accepts durably while the broker is away), and says what is wrong."""


@dataclass
class LoopHealth:
    failing_since: float | None = None  # monotonic
    error: str = ""
    passes: bool = False  # whether the last failure is of a kind that ends by itself
    stopped: str = ""  # why the loop ended
    failures: int = 0

    def succeeded(self) -> None:
        self.failing_since, self.error, self.passes, self.failures = None, "", False, 0

    def failed(self, exc: BaseException, *, passes: bool) -> float:
        """Note a failure; returns the pause before trying again (0.5 s, doubling, 5 s at most)."""
        if self.failing_since is None:
            self.failing_since = time.monotonic()
        self.error, self.passes = f"{type(exc).__name__}: {exc}"[:300], passes
        self.failures += 1
        return min(0.5 * 2 ** min(self.failures - 1, 4), 5.0)  # 2**1024: no float holds it

    def failing_for(self) -> float:
        return 0.0 if self.failing_since is None else time.monotonic() - self.failing_since

    def problem(self) -> str | None:
        """Why the loop cannot do its job now (ended, or failing for a while), or None."""
        if self.stopped:
            return f"stopped: {self.stopped}"
        failing = self.failing_for()
        if failing >= UNREADY_AFTER:
            return f"failing for {failing:.0f} s: {self.error}"
        return None
