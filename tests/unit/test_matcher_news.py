"""What the matcher sends is what changed since the person's state was stored (`news` in
domain/matching.py): an alert once while its facts hold, its withdrawal once, a notification
once; the daily sweep likewise, or everything that holds when asked to resend."""

from __future__ import annotations

from datetime import date, timedelta

from matcher_events import (
    BENEFICIARY,
    CLOCK,
    RULES,
    death_retracted,
    died,
    joined,
    moved,
    pension_started,
    records,
    registered,
)

from shaobing_contracts.id_number import make_id_number
from shaobing_matcher.domain.batch import decode_state, match_batch
from shaobing_matcher.domain.clock import Clock
from shaobing_matcher.domain.evaluation import Outcome, RuleBook
from shaobing_matcher.domain.matching import swept
from shaobing_matcher.domain.person import PersonState

BOOK = RuleBook.on(RULES, CLOCK)
TURNING_80_SOON = make_id_number("310110", date(1946, 12, 10), 5)  # 80 in 15 days
LOW_PENSION = "500.00"  # below every local standard: changes the state, raises nothing


class Person:
    """One person's batches through the hot path, each over the state the one before stored."""

    def __init__(self, id_number: str = BENEFICIARY) -> None:
        self.id_number, self.stored = id_number, dict[bytes, bytes]()

    def batch(self, *events) -> Outcome:
        result = match_batch(records(events, self.id_number), self._read, BOOK, CLOCK)
        self.stored.update(result.states)
        [matched] = result.matched
        return matched.outcome

    @property
    def state(self) -> PersonState:
        return decode_state(self.stored[self.id_number.encode()])

    def _read(self, keys: list[bytes]) -> list[bytes | None]:
        return [self.stored.get(k) for k in keys]


def sent(outcome: Outcome) -> set[tuple[str, str]]:
    return {
        *(("raised", a.rule_id) for a in outcome.raised),
        *(("withdrawn", w.rule_id) for w in outcome.withdrawn),
        *(("notified", n.policy_id) for n in outcome.notifications),
    }


def test_an_alert_and_a_notification_are_sent_once_while_their_facts_hold() -> None:
    person = Person()

    first = person.batch(registered(), joined(), died())
    later = person.batch(pension_started(amount=LOW_PENSION))

    assert sent(first) == {("raised", "death-of-beneficiary"), ("notified", "funeral-subsidy")}
    assert sent(later) == set()
    assert [r.rule_id for r in person.state.raised.values()] == ["death-of-beneficiary"]
    assert person.state.notified == [str(n.id) for n in first.notifications]


def test_a_withdrawal_is_sent_once_and_an_alert_raised_again_is_sent_again() -> None:
    person = Person()
    person.batch(registered(), joined(), died())

    retracted = person.batch(death_retracted())
    later = person.batch(pension_started(amount=LOW_PENSION))
    died_again = person.batch(died())

    assert sent(retracted) == {
        ("withdrawn", "death-of-beneficiary"),
        *(("notified", policy) for policy in ("gaoling-eligible", "senior-card")),  # alive, 86
    }
    assert sent(later) == set()
    assert sent(died_again) == {("raised", "death-of-beneficiary")}  # the alert opens again


def test_a_notification_still_due_after_a_change_is_not_sent_again() -> None:
    person = Person(TURNING_80_SOON)

    first = person.batch(registered(TURNING_80_SOON))
    moved_within = person.batch(moved(TURNING_80_SOON, to_area="310110005001"))

    assert sent(first) == {("notified", "gaoling-upcoming"), ("notified", "senior-card")}
    assert sent(moved_within) == set()


def test_the_sweep_sends_what_a_day_brings_and_everything_only_when_asked_to_resend() -> None:
    person = Person(TURNING_80_SOON)
    person.batch(registered(TURNING_80_SOON))
    after_birthday = Clock(
        now=CLOCK.now + timedelta(days=20), today=date(2026, 12, 15), cutoff_day=20
    )
    book = RuleBook.on(RULES, after_birthday)

    same_day = swept(person.state, BOOK, CLOCK)
    birthday = swept(person.state, book, after_birthday)
    resent = swept(birthday.state, book, after_birthday, resend=True)

    assert sent(same_day) == set() and same_day.state == person.state
    assert sent(birthday) == {("notified", "gaoling-eligible")}
    assert len(birthday.state.notified) == 3  # upcoming, eligible and the senior card
    assert sent(resent) == {("notified", "gaoling-eligible"), ("notified", "senior-card")}
    assert resent.state == birthday.state
