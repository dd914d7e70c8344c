"""Ordering of the alert queue: most severe first."""

from __future__ import annotations

from shaobing_contracts.alert import Severity

SEVERITY_RANK: dict[Severity, int] = {
    Severity.CRITICAL: 0,
    Severity.HIGH: 1,
    Severity.MEDIUM: 2,
    Severity.LOW: 3,
}
