"""What a batch's outcomes send and add to the metrics."""

from __future__ import annotations

from collections.abc import Iterator

from shaobing_contracts.codec import encode
from shaobing_contracts.topics import Topic

from ..adapters.stream_step import Output, Processed
from ..domain.batch import BatchResult, Headers
from ..domain.evaluation import Outcome
from . import metrics


def to_deliver(result: BatchResult) -> Processed[BatchResult]:
    """What the batch's persons send and store (the states that changed)."""
    outputs = [out for m in result.matched for out in outcome_outputs(m.key, m.outcome, m.headers)]
    return Processed(result, outputs, result.failed, result.states)


def outcome_outputs(key: bytes, outcome: Outcome, headers: Headers = ()) -> Iterator[Output]:
    """The outcome's alerts, notifications and their withdrawals (what is new:
    `matching.news`) and what the spouse is to be told."""
    for alert in [*outcome.raised, *outcome.withdrawn]:
        yield Output(Topic.ALERTS, key, encode(alert), headers)
    # to the person to contact (a spouse, maybe): a withdrawal follows its notification
    for notification in [*outcome.notifications, *outcome.notifications_withdrawn]:
        to = notification.id_number.encode()
        yield Output(Topic.NOTIFICATIONS, to, encode(notification), headers)
    for notice in outcome.spouse_notices:
        yield Output(Topic.SPOUSE_DEATHS, notice.id_number.encode(), encode(notice), headers)


def sent_for(outcome: Outcome) -> int:
    """How many alerts, notifications and withdrawals of either the outcome sends."""
    alerts = len(outcome.raised) + len(outcome.withdrawn)
    return alerts + len(outcome.notifications) + len(outcome.notifications_withdrawn)


def count_result(result: BatchResult) -> None:
    """The events processed, what was sent for them and what was dead-lettered."""
    for event_type, n in result.processed.items():
        metrics.EVENTS.labels(event_type).inc(n)
    for matched in result.matched:
        metrics.count_outcome(matched.outcome)
    for record, _ in result.failed:
        metrics.FAILED.labels(record.topic).inc()
