"""When the matcher evaluates, and the payout calendar it evaluates against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Clock:
    now: datetime
    today: date  # in the payout calendar's time zone
    cutoff_day: int
