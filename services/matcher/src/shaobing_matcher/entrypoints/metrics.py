"""The matcher's Prometheus metrics, and what an outcome adds to them."""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from prometheus_client import Counter, Gauge

from shaobing_rules.rule_set import RuleSet

from ..domain.evaluation import Outcome

log = structlog.get_logger()
EVENTS = Counter("shaobing_matcher_events_total", "Events processed by the matcher", ["type"])
ALERTS = Counter("shaobing_matcher_alerts_raised_total", "Alerts emitted", ["rule_id"])
WITHDRAWN = Counter(
    "shaobing_matcher_alerts_withdrawn_total", "Alert withdrawals emitted", ["rule_id"]
)
RULE_FAILURES = Counter(
    "shaobing_matcher_rule_failures_total", "Rule evaluations that failed", ["rule_id"]
)
EVALUATIONS = Counter(
    "shaobing_matcher_rule_evaluations_total",
    "Rule conditions evaluated (per enrolment and fact)",
    ["rule_id"],
)
NOTIFIED = Counter(
    "shaobing_matcher_notifications_sent_total",
    "Notifications sent (a repeat only after a crash or a resend sweep)",
    ["policy_id"],
)
UNNOTIFIED = Counter(
    "shaobing_matcher_notifications_withdrawn_total",
    "Notifications withdrawn (a change of the person's facts ended them)",
    ["policy_id"],
)
TICKS = Counter(
    "shaobing_matcher_sweeps_total", "Sweeps of the rules and policies over every person done"
)
SWEPT_AT = Gauge(
    "shaobing_matcher_sweep_completed_timestamp_seconds",
    "When this worker last finished a sweep of its partitions (Unix time; 0: none since start)",
)
FAILED = Counter(
    "shaobing_matcher_dead_letters_total", "Events the matcher dead-lettered", ["topic"]
)


def declare(rule_set: RuleSet, topics: Iterable[str]) -> None:
    """Every known label set from the start: a failure counter that exists at 0 is a flat line
    on the dashboards and something rate() can see rise, not a missing series."""
    for rule in rule_set.rules:
        RULE_FAILURES.labels(rule.definition.id)
        EVALUATIONS.labels(rule.definition.id)
    for topic in topics:
        FAILED.labels(topic)


def count_outcome(outcome: Outcome) -> None:
    """What was sent for one person, and the rules that failed on them."""
    for alert in outcome.raised:
        ALERTS.labels(alert.rule_id).inc()
    for withdrawal in outcome.withdrawn:
        WITHDRAWN.labels(withdrawal.rule_id).inc()
    for notification in outcome.notifications:
        NOTIFIED.labels(notification.policy_id).inc()
    for withdrawal in outcome.notifications_withdrawn:
        UNNOTIFIED.labels(withdrawal.policy_id).inc()
    for failure in outcome.failures:
        RULE_FAILURES.labels(failure.rule_id).inc()
        log.error("rule_failed", error=str(failure))
    for rule_id, count in outcome.evaluated.items():
        EVALUATIONS.labels(rule_id).inc(count)
