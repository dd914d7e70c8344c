"""Grafana dashboards as code (grafana-foundation-sdk, the Grafana 11.6 build): Overview, Source
feeds, Alert queue and Payout. `python -m shaobing_dev.dashboards` writes their JSON to
deploy/dashboards/ (checked in; a test fails on drift, validates them against Grafana's schemas
and runs every query against the live services)."""

from __future__ import annotations

import json
from pathlib import Path

from grafana_foundation_sdk.builders import common, dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as mc
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from .stack import ROOT

OUT = ROOT / "deploy" / "dashboards"
SOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
Query = tuple[str, str]  # (PromQL, legend)


def _target(expr: str, legend: str, ref: str) -> prometheus.Dataquery:
    return prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref)


def _series(title: str, unit: str, *queries: Query, width: int = 12) -> timeseries.Panel:
    legend = (
        common.VizLegendOptions()
        .display_mode(mc.LegendDisplayMode.LIST)
        .placement(mc.LegendPlacement.BOTTOM)
        .show_legend(True)
        .calcs([])
    )
    tooltip = common.VizTooltipOptions().mode(mc.TooltipDisplayMode.MULTI).sort(mc.SortOrder.NONE)
    panel = (
        timeseries.Panel()
        .title(title)
        .unit(unit)
        .datasource(SOURCE)
        .height(8)
        .span(width)
        .legend(legend)
        .tooltip(tooltip)
    )
    for number, (expr, legend) in enumerate(queries):
        panel = panel.with_target(_target(expr, legend, chr(ord("A") + number)))
    return panel


def _stat(title: str, unit: str, expr: str, legend: str = "", width: int = 6) -> stat.Panel:
    return (
        stat.Panel()
        .title(title)
        .unit(unit)
        .datasource(SOURCE)
        .height(4)
        .span(width)
        .with_target(_target(expr, legend, "A"))
        .graph_mode(mc.BigValueGraphMode.AREA)
        .color_mode(mc.BigValueColorMode.VALUE)
        .justify_mode(mc.BigValueJustifyMode.AUTO)
        .text_mode(mc.BigValueTextMode.AUTO)
        .wide_layout(True)
        .show_percent_change(False)
        .percent_change_color_mode(mc.PercentChangeColorMode.STANDARD)
        .orientation(mc.VizOrientation.AUTO)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )


def _board(uid: str, title: str, description: str) -> Dashboard:
    source = dashboard.DatasourceVariable("datasource").label("Prometheus").type("prometheus")
    return (
        Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["shaobing"])
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("browser")
        .with_variable(source)
    )


def overview() -> Dashboard:
    return (
        _board("shaobing-overview", "Shaobing · Overview", "Health, rates, lag and errors")
        .with_panel(_stat("Services up", "none", 'sum(up{job=~"shaobing-.*"})'))
        .with_panel(
            _stat("Dependencies down", "none", "count(shaobing_dependency_up == 0) or vector(0)")
        )
        .with_panel(_stat("Max lag (s)", "s", "max(shaobing_consumer_lag_seconds)"))
        .with_panel(_stat("Open alerts", "none", "sum(shaobing_alerts_open)"))
        .with_panel(
            _series(
                "HTTP requests by service",
                "reqps",
                ('sum by (job) (rate(http_requests_total{job=~"shaobing-.*"}[5m]))', "{{job}}"),
                (
                    'sum by (job) (rate(http_requests_total{job=~"shaobing-.*",status=~"5.."}[5m])) or sum by (job) (0 * rate(http_requests_total{job=~"shaobing-.*"}[5m]))',
                    "{{job}} 5xx",
                ),
            )
        )
        .with_panel(
            _series(
                "Events through the pipeline",
                "ops",
                ("sum(rate(shaobing_event_log_published_total[5m]))", "published"),
                ("sum by (type) (rate(shaobing_matcher_events_total[5m]))", "matched {{type}}"),
                ("sum by (outcome) (rate(shaobing_alerts_stored_total[5m]))", "alerts {{outcome}}"),
            )
        )
        .with_panel(
            _series(
                "Consumer lag",
                "short",
                ("sum by (group, topic) (shaobing_consumer_lag_messages)", "{{group}} {{topic}}"),
            )
        )
        .with_panel(
            _series(
                "Latency to the stored alert",
                "s",
                (
                    "histogram_quantile(0.5, sum by (le) (rate(shaobing_ingest_to_alert_seconds_bucket[15m])))",
                    "p50",
                ),
                (
                    "histogram_quantile(0.99, sum by (le) (rate(shaobing_ingest_to_alert_seconds_bucket[15m])))",
                    "p99",
                ),
                (
                    "histogram_quantile(0.5, sum by (le) (rate(shaobing_source_to_alert_seconds_bucket[15m])))",
                    "p50 from the source's record",
                ),
            )
        )
        .with_panel(
            _series(
                "Rules and policies: conditions evaluated, alerts raised, people notified",
                "ops",
                (
                    "sum by (rule_id) (rate(shaobing_matcher_rule_evaluations_total[5m]))",
                    "evaluated {{rule_id}}",
                ),
                (
                    "sum by (rule_id) (rate(shaobing_matcher_alerts_raised_total[5m]))",
                    "raised {{rule_id}}",
                ),
                (
                    "sum by (policy_id) (rate(shaobing_matcher_notifications_sent_total[5m]))",
                    "notified {{policy_id}}",
                ),
            )
        )
        .with_panel(
            _series(
                "Errors",
                "ops",
                (
                    "sum by (rule_id) (rate(shaobing_matcher_rule_failures_total[15m]))",
                    "rule {{rule_id}}",
                ),
                (
                    "sum by (topic) (rate(shaobing_matcher_dead_letters_total[15m]))",
                    "matcher dead letters {{topic}}",
                ),
                ("sum(rate(shaobing_alerts_rejected_messages_total[15m]))", "alerts rejected"),
            )
        )
    )


def source_feeds() -> Dashboard:
    return (
        _board(
            "shaobing-feeds", "Shaobing · Source feeds", "Per source: events, dead letters, silence"
        )
        .with_panel(
            _series(
                "Since the last change (a silent feed looks like nothing happening)",
                "s",
                (
                    "time() - max by (source) (shaobing_ingest_last_event_timestamp_seconds)",
                    "{{source}}",
                ),
                width=24,
            )
        )
        .with_panel(
            _series(
                "Items by outcome",
                "ops",
                (
                    "sum by (source, outcome) (rate(shaobing_ingest_items_total[5m]))",
                    "{{source}} {{outcome}}",
                ),
            )
        )
        .with_panel(
            _series(
                "Dead letters by reason",
                "ops",
                (
                    'sum by (source, reason) (rate(shaobing_ingest_items_total{outcome="dead_lettered"}[15m])) or sum by (source) (0 * rate(shaobing_ingest_items_total[15m]))',
                    "{{source}} {{reason}}",
                ),
            )
        )
    )


def alert_queue() -> Dashboard:
    return (
        _board(
            "shaobing-queue",
            "Shaobing · Alert queue",
            "Open and overdue alerts, clearing, validity",
        )
        .with_panel(_stat("Open", "none", "sum(shaobing_alerts_open)"))
        .with_panel(_stat("Overdue", "none", "sum(shaobing_alerts_overdue)"))
        .with_panel(_stat("Escalated", "none", "sum(shaobing_alerts_escalated)"))
        .with_panel(
            _stat("Notifications to contact", "none", 'sum(shaobing_notifications{status="NEW"})')
        )
        .with_panel(
            _series(
                "Open by area and severity",
                "short",
                ("sum by (area, severity) (shaobing_alerts_open)", "{{area}} {{severity}}"),
            )
        )
        .with_panel(
            _series(
                "Overdue by area",
                "short",
                ("sum by (area) (shaobing_alerts_overdue)", "{{area}}"),
            )
        )
        .with_panel(
            _series(
                "Time to a decision (p50)",
                "s",
                (
                    "histogram_quantile(0.5, sum by (le, severity) (rate(shaobing_alert_time_to_decision_seconds_bucket[1d])))",
                    "{{severity}}",
                ),
            )
        )
        .with_panel(
            _series(
                "Validity per rule: share confirmed of decided",
                "percentunit",
                (
                    'sum by (rule_id) (shaobing_alerts_decided{status="CONFIRMED"}) / sum by (rule_id) (shaobing_alerts_decided{status=~"CONFIRMED|DISMISSED"})',
                    "{{rule_id}}",
                ),
            )
        )
    )


def payout() -> Dashboard:
    return (
        _board("shaobing-payout", "Shaobing · Payout", "Payout runs, decisions and amounts")
        .with_panel(
            _stat("Runs ready", "none", 'sum(shaobing_payout_runs{status="READY"}) or vector(0)')
        )
        .with_panel(
            _stat(
                "Runs failed (24 h)",
                "none",
                'sum(increase(shaobing_payout_runs_total{outcome="failed"}[1d])) or vector(0)',
            )
        )
        .with_panel(
            _stat(
                "Critical holds unanswered",
                "none",
                "sum(shaobing_payout_latest_run_unresolved_critical) or vector(0)",
            )
        )
        .with_panel(
            _stat(
                "Run time (p90)",
                "s",
                "histogram_quantile(0.9, sum by (le) (rate(shaobing_payout_run_duration_seconds_bucket[1d])))",
            )
        )
        .with_panel(
            _series(
                "Latest run per area: amount by decision",
                "currencyCNY",
                (
                    "sum by (area, decision) (shaobing_payout_latest_run_amount_yuan)",
                    "{{area}} {{decision}}",
                ),
                width=24,
            )
        )
        .with_panel(
            _series(
                "Runs by status",
                "short",
                ("sum by (status) (shaobing_payout_runs)", "{{status}}"),
            )
        )
    )


BOARDS = {
    "overview": overview,
    "source-feeds": source_feeds,
    "alert-queue": alert_queue,
    "payout": payout,
}


def rendered() -> dict[Path, str]:
    return {
        OUT / f"{name}.json": json.dumps(
            json.loads(JSONEncoder(sort_keys=True, indent=2).encode(build().build())),
            indent=2,
            sort_keys=True,
            ensure_ascii=False,
        )
        + "\n"
        for name, build in BOARDS.items()
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for path, text in rendered().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
