"""What one batch of alerts.v1 messages comes to, per alert id. Pure.

The matcher sends the whole current picture after every event, in order on the person's
partition, so per alert id the last message of the batch decides: raised (stored, or restored if
it had been withdrawn) or withdrawn. An alert raised and withdrawn within one batch is still
stored, then withdrawn: its history (it was raised on facts later retracted) is kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID

from shaobing_contracts.alert import AlertRaised, AlertWithdrawn

Message = AlertRaised | AlertWithdrawn


@dataclass
class Settled:
    raised: list[tuple[AlertRaised, str | None]] = field(default_factory=list)  # with correlation
    withdrawn: list[AlertWithdrawn] = field(default_factory=list)


def settle(messages: Iterable[tuple[Message, str | None]]) -> Settled:
    """Messages in offset order, each with its correlation id."""
    latest: dict[UUID, tuple[Message, str | None]] = {}
    last_raise: dict[UUID, tuple[AlertRaised, str | None]] = {}
    for message, correlation in messages:
        latest.pop(message.id, None)  # keep the order of the last messages
        latest[message.id] = (message, correlation)
        if isinstance(message, AlertRaised):
            last_raise[message.id] = (message, correlation)
    settled = Settled()
    for alert_id, (message, correlation) in latest.items():
        if isinstance(message, AlertRaised):
            settled.raised.append((message, correlation))
            continue
        if alert_id in last_raise:
            settled.raised.append(last_raise[alert_id])
        settled.withdrawn.append(message)
    return settled
