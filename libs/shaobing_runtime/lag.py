"""Consumer lag, the same two gauges for every consumer: messages behind the partition's end, and
seconds behind (the age of the last message processed while there is more to process; 0 when
caught up, so an idle feed does not look like a stuck consumer)."""

from __future__ import annotations

import time

from prometheus_client import Gauge

LAG_MESSAGES = Gauge(
    "shaobing_consumer_lag_messages",
    "Messages between the consumer's position and the end of the partition",
    ["group", "topic", "partition"],
)
LAG_SECONDS = Gauge(
    "shaobing_consumer_lag_seconds",
    "Age of the last message processed while more are waiting; 0 when caught up",
    ["group", "topic", "partition"],
)


def record_lag(
    group: str,
    topic: str,
    partition: int,
    *,
    end: int | None,
    position: int | None,
    last_timestamp_ms: int | None,
) -> None:
    """Set both gauges for one partition; unknown end or position leaves them as they were."""
    if end is None or position is None:
        return
    behind = max(end - position, 0)
    labels = (group, topic, str(partition))
    LAG_MESSAGES.labels(*labels).set(behind)
    age = time.time() - last_timestamp_ms / 1000 if behind and last_timestamp_ms else 0.0
    LAG_SECONDS.labels(*labels).set(max(age, 0.0))
