"""What the business looks like, for the dashboards and the alert rules: open and overdue alerts,
decisions per rule (validity), notifications by outcome, payout runs and their amounts. Read
from the database every 30 s by one task (unscoped: counts only, no record leaves) and served
from memory on every scrape. Areas are cut to the city (4 digits): bounded label values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from shaobing_runtime.periodic import every

from .adapters.business_figures import read_figures


class BusinessMetrics(Collector):
    def __init__(self) -> None:
        self._families: list[GaugeMetricFamily] = []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._families

    def update(self, rows: dict[str, list]) -> None:
        self._families = _families(rows)


def _gauge(name: str, documentation: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=labels)


def _families(rows: dict[str, list]) -> list[GaugeMetricFamily]:
    open_ = _gauge("shaobing_alerts_open", "Undecided alerts", ["severity", "program", "area"])
    overdue = _gauge("shaobing_alerts_overdue", "Undecided alerts past due", ["severity", "area"])
    escalated = _gauge("shaobing_alerts_escalated", "Undecided alerts escalated", ["area"])
    for r in rows["open"]:
        open_.add_metric([r["severity"], r["program"], r["area"]], r["n"])
        overdue.add_metric([r["severity"], r["area"]], r["overdue"])
        escalated.add_metric([r["area"]], r["escalated"])
    decided = _gauge(
        "shaobing_alerts_decided",
        "Alerts by final status and rule (validity)",
        ["rule_id", "status"],
    )
    for r in rows["decided"]:
        decided.add_metric([r["rule_id"], r["status"]], r["n"])
    notified = _gauge(
        "shaobing_notifications", "Notifications by policy and status", ["policy_id", "status"]
    )
    for r in rows["notifications"]:
        notified.add_metric([r["policy_id"], r["status"]], r["n"])
    runs = _gauge("shaobing_payout_runs", "Payout runs by status", ["status"])
    for r in rows["runs"]:
        runs.add_metric([r["status"]], r["n"])
    return [open_, overdue, escalated, decided, notified, runs, *_amounts(rows["latest_runs"])]


def _amounts(latest: list) -> list[GaugeMetricFamily]:
    amount = _gauge(
        "shaobing_payout_latest_run_amount_yuan",
        "The latest checked run per area: amount by decision",
        ["area", "month", "status", "decision"],
    )
    critical = _gauge(
        "shaobing_payout_latest_run_unresolved_critical",
        "The latest checked run per area: critical holds without an override",
        ["area", "month", "status"],
    )
    for r in latest:
        totals: dict[str, Any] = r["totals"] or {}
        for decision, cell in (totals.get("by_decision") or {}).items():
            amount.add_metric([r["area"], r["month"], r["status"], decision], float(cell["amount"]))
        critical.add_metric(
            [r["area"], r["month"], r["status"]], totals.get("unresolved_critical", 0)
        )
    return [amount, critical]


COLLECTOR = BusinessMetrics()
REGISTRY.register(COLLECTOR)


async def refresh_forever(state: Any, every_seconds: float = 30) -> None:
    """Re-read the figures every `every_seconds`; a failed read keeps the last ones."""

    async def refresh() -> None:
        async with state.pool.acquire() as conn:
            rows = await read_figures(conn, state.settings.local_now().date())
        COLLECTOR.update(rows)

    await every(every_seconds, refresh, name="business_metrics")
