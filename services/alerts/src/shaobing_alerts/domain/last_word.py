"""What one batch of alerts.v1 (or notifications.v1) messages comes to, per id. Pure.

The matcher sends each change of an alert or notification (raised, withdrawn, raised again) in
order on the person's partition, so per id the last message of the batch decides: raised
(stored, or restored if it had been withdrawn) or withdrawn. One raised and withdrawn within one
batch is still stored, then withdrawn: its history (it was raised on facts later retracted) is
kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID

from shaobing_contracts.alert import AlertRaised, AlertWithdrawn
from shaobing_contracts.notification import NotificationRaised, NotificationWithdrawn

Raised = AlertRaised | NotificationRaised
Message = Raised | AlertWithdrawn | NotificationWithdrawn


@dataclass
class LastWord:
    raised: list[tuple[Raised, str | None]] = field(default_factory=list)  # with correlation
    withdrawn: list[AlertWithdrawn | NotificationWithdrawn] = field(default_factory=list)


def last_word(messages: Iterable[tuple[Message, str | None]]) -> LastWord:
    """Messages of one topic in offset order, each with its correlation id."""
    latest: dict[UUID, tuple[Message, str | None]] = {}
    last_raise: dict[UUID, tuple[Raised, str | None]] = {}
    for message, correlation in messages:
        latest.pop(message.id, None)  # keep the order of the last messages
        latest[message.id] = (message, correlation)
        if isinstance(message, Raised):
            last_raise[message.id] = (message, correlation)
    settled = LastWord()
    for message_id, (message, correlation) in latest.items():
        if isinstance(message, Raised):
            settled.raised.append((message, correlation))
            continue
        if message_id in last_raise:
            settled.raised.append(last_raise[message_id])
        settled.withdrawn.append(message)
    return settled
