"""The monthly payout calendar: cut-off dates and months already paid."""

from __future__ import annotations

from calendar import monthrange
from datetime import date
from decimal import Decimal


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def cutoff_of(index: int, cutoff_day: int) -> date:
    """The payout cut-off date of the month with this index (the month's last day at most)."""
    start = _month_start(index)
    return start.replace(day=min(cutoff_day, monthrange(start.year, start.month)[1]))


def next_cutoff(today: date, cutoff_day: int) -> date:
    """The first cut-off on or after today: the due date of anything raised today."""
    this_month = cutoff_of(month_index(today), cutoff_day)
    return this_month if today <= this_month else cutoff_of(month_index(today) + 1, cutoff_day)


def months_paid_after(
    event_date: date, *, known_on: date, start_month: str, cutoff_day: int
) -> int:
    """Months after the event's month already paid out (cut-off passed) before it was known.

    A month is owed to someone alive at its start; payment for month M leaves on M's cut-off.
    """
    first = max(month_index(event_date) + 1, _start_index(start_month))
    last = month_index(known_on) - (
        0 if known_on >= cutoff_of(month_index(known_on), cutoff_day) else 1
    )
    return max(0, last - first + 1)


def _start_index(start_month: str) -> int:
    year, month = start_month.split("-")
    return int(year) * 12 + int(month) - 1


def overpaid_amount(months: int, monthly_amount: Decimal) -> Decimal:
    return (monthly_amount * months).quantize(Decimal("0.01"))
