"""One batch of alerts.v1 (or notifications.v1) messages: per id, the last word decides."""

from __future__ import annotations

from test_contracts import (
    alert_raised,
    alert_withdrawn,
    notification_raised,
    notification_withdrawn,
)

from shaobing_alerts.domain.last_word import last_word


def test_the_last_message_of_an_alert_decides() -> None:
    raised, withdrawn = alert_raised(), alert_withdrawn()

    again = last_word([(withdrawn, "c1"), (raised, "c2")])

    assert again.raised == [(raised, "c2")] and again.withdrawn == []


def test_an_alert_raised_and_withdrawn_in_one_batch_is_stored_then_withdrawn() -> None:
    raised, withdrawn = alert_raised(), alert_withdrawn()

    settled = last_word([(raised, "c1"), (raised, "c2"), (withdrawn, "c3")])

    assert settled.raised == [(raised, "c2")]
    assert settled.withdrawn == [withdrawn]


def test_a_withdrawal_alone_only_withdraws() -> None:
    settled = last_word([(alert_withdrawn(), None)])
    assert (settled.raised, len(settled.withdrawn)) == ([], 1)


def test_a_notification_raised_and_withdrawn_in_one_batch_is_stored_then_withdrawn() -> None:
    raised, withdrawn = notification_raised(), notification_withdrawn()

    settled = last_word([(raised, None), (withdrawn, None)])
    again = last_word([(withdrawn, None), (raised, None)])

    assert (settled.raised, settled.withdrawn) == ([(raised, None)], [withdrawn])
    assert (again.raised, again.withdrawn) == ([(raised, None)], [])  # restored
