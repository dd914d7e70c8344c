"""What a batch's outcomes send (as record batches) and add to the metrics."""

from __future__ import annotations

from shaobing_contracts.codec import encode
from shaobing_contracts.topics import Topic
from shaobing_runtime.record_batches import Headers, RecordBatches

from ..domain.batch import BatchResult
from ..domain.evaluation import Outcome
from . import metrics


async def add_outcome(
    outbox: RecordBatches, key: bytes, outcome: Outcome, headers: Headers = ()
) -> None:
    """Queue the outcome's alerts, notifications and their withdrawals (what is new:
    `matching.news`) and what the spouse is to be told."""
    for alert in [*outcome.raised, *outcome.withdrawn]:
        await outbox.add(Topic.ALERTS, key, encode(alert), headers=headers)
    # to the person to contact (a spouse, maybe): a withdrawal follows its notification
    for notification in [*outcome.notifications, *outcome.notifications_withdrawn]:
        to = notification.id_number.encode()
        await outbox.add(Topic.NOTIFICATIONS, to, encode(notification), headers=headers)
    for notice in outcome.spouse_notices:
        to = notice.id_number.encode()
        await outbox.add(Topic.SPOUSE_DEATHS, to, encode(notice), headers=headers)


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
