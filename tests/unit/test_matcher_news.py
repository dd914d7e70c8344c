"""What the matcher sends is what changed since the person's state was stored (`news` in
domain/matching.py): an alert once while its facts hold, its withdrawal once, a notification
once and its withdrawal once when a change of facts ends it (never because time passed); the
daily sweep likewise, or everything that holds when asked to resend."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from matcher_events import (
    BENEFICIARY,
    CLOCK,
    HOME,
    RULES,
    SHANGHAI,
    SPOUSE,
    death_retracted,
    died,
    enrolment,
    joined,
    married,
    moved,
    pension_started,
    records,
    registered,
)

from shaobing_contracts.enrolment import EnrolmentFacts, Program
from shaobing_contracts.id_number import make_id_number
from shaobing_matcher.domain.batch import decode_state, match_batch
from shaobing_matcher.domain.clock import Clock
from shaobing_matcher.domain.evaluation import Outcome, RuleBook
from shaobing_matcher.domain.matching import swept
from shaobing_matcher.domain.person import PersonState, encode_state

BOOK = RuleBook.on(RULES, CLOCK)
TURNING_80_SOON = make_id_number("310110", date(1946, 12, 10), 5)  # 80 in 15 days
AFTER_BIRTHDAY = Clock(now=CLOCK.now + timedelta(days=20), today=date(2026, 12, 15), cutoff_day=20)
LATER = datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI)
ELSEWHERE = "310110005001"  # another community of the district
LOW_PENSION = "500.00"  # below every local standard: changes the state, raises nothing


class Person:
    """One person's batches through the hot path, each over the state the one before stored."""

    def __init__(self, id_number: str = BENEFICIARY) -> None:
        self.id_number, self.stored = id_number, dict[bytes, bytes]()

    def batch(self, *events, clock: Clock = CLOCK) -> Outcome:
        book = BOOK if clock is CLOCK else RuleBook.on(RULES, clock)
        result = match_batch(records(events, self.id_number), self._read, book, clock)
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
        *(("unnotified", w.policy_id) for w in outcome.notifications_withdrawn),
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
        ("unnotified", "funeral-subsidy"),
        *(("notified", policy) for policy in ("gaoling-eligible", "senior-card")),  # alive, 86
    }
    assert sent(later) == set()
    assert sent(died_again) == {  # the alert opens again, and so on
        ("raised", "death-of-beneficiary"),
        ("notified", "funeral-subsidy"),
        *(("unnotified", policy) for policy in ("gaoling-eligible", "senior-card")),
    }


def test_a_notification_still_due_after_a_change_is_not_sent_again() -> None:
    person = Person(TURNING_80_SOON)

    first = person.batch(registered(TURNING_80_SOON))
    moved_within = person.batch(moved(TURNING_80_SOON, to_area="310110005001"))

    assert sent(first) == {("notified", "gaoling-upcoming"), ("notified", "senior-card")}
    assert sent(moved_within) == set()


def test_the_sweep_sends_what_a_day_brings_and_everything_only_when_asked_to_resend() -> None:
    person = Person(TURNING_80_SOON)
    person.batch(registered(TURNING_80_SOON))
    after_birthday = AFTER_BIRTHDAY
    book = RuleBook.on(RULES, after_birthday)

    same_day = swept(person.state, BOOK, CLOCK)
    birthday = swept(person.state, book, after_birthday)
    resent = swept(birthday.state, book, after_birthday, resend=True)

    assert sent(same_day) == set() and same_day.state == person.state
    assert sent(birthday) == {("notified", "gaoling-eligible")}
    assert len(birthday.state.notified) == 2  # eligible and the senior card: "turning 80" lapsed
    assert sent(resent) == {("notified", "gaoling-eligible"), ("notified", "senior-card")}
    assert resent.state == birthday.state


def gaoling(person: str = BENEFICIARY, area: str = HOME) -> EnrolmentFacts:
    alone = {"beneficiary": person, "members": [person], "area": area}
    return enrolment("GAOLING-310110-0042", program=Program.GAOLING, **alone)


def test_a_notification_that_facts_end_is_withdrawn_once_and_sent_again_if_due_again() -> None:
    person = Person()  # 86
    person.batch(registered())

    enrolled = person.batch(joined(gaoling()))  # they receive the allowance already
    later = person.batch(pension_started(amount=LOW_PENSION))
    left = person.batch(joined(gaoling(), role=None, at=LATER))

    assert sent(enrolled) == {("unnotified", "gaoling-eligible")}
    [withdrawal] = enrolled.notifications_withdrawn
    assert withdrawal.id_number == BENEFICIARY and "不再" in withdrawal.reason.zh_cn
    assert sent(later) == set()
    assert sent(left) == {("notified", "gaoling-eligible")}
    assert [n.id for n in left.notifications] == [withdrawal.id]  # the same one, restored


def test_a_death_withdraws_what_was_due_to_the_living_and_calls_for_the_funeral_subsidy() -> None:
    person = Person()
    person.batch(registered(), joined())

    death = person.batch(died())

    assert sent(death) >= {
        ("unnotified", "gaoling-eligible"),
        ("unnotified", "senior-card"),
        ("notified", "funeral-subsidy"),
    }


def test_a_withdrawal_goes_to_whom_the_notification_went() -> None:
    person = Person()  # care visit v2 (in force on CLOCK's day): the spouse of 84 is told
    person.batch(registered(), married(spouse=SPOUSE), died())

    retracted = person.batch(death_retracted())

    [visit] = [w for w in retracted.notifications_withdrawn if w.policy_id.startswith("living")]
    assert visit.id_number == SPOUSE


def test_a_notification_past_its_time_is_withdrawn_neither_by_the_sweep_nor_a_change() -> None:
    person = Person(TURNING_80_SOON)
    person.batch(registered(TURNING_80_SOON))  # turning 80 in 15 days, and the senior card
    birthday = swept(person.state, RuleBook.on(RULES, AFTER_BIRTHDAY), AFTER_BIRTHDAY)
    person.stored[TURNING_80_SOON.encode()] = encode_state(birthday.state)

    moved_within = person.batch(moved(TURNING_80_SOON, ELSEWHERE), clock=AFTER_BIRTHDAY)
    enrolled = person.batch(joined(gaoling(TURNING_80_SOON, ELSEWHERE)), clock=AFTER_BIRTHDAY)

    assert sent(birthday) == {("notified", "gaoling-eligible")}
    assert sent(moved_within) == set()  # "turning 80" is past: it lapsed, not withdrawn
    assert sent(enrolled) == {("unnotified", "gaoling-eligible")}


def test_a_notification_lapsed_before_the_sweep_is_not_withdrawn_by_a_change_that_day() -> None:
    person = Person(TURNING_80_SOON)
    person.batch(registered(TURNING_80_SOON))

    enrolled = person.batch(joined(gaoling(TURNING_80_SOON)), clock=AFTER_BIRTHDAY)

    assert sent(enrolled) == set()  # "turning 80" lapsed at the birthday, "80" never sent
    assert len(person.state.notified) == 1  # the senior card; the lapsed one forgotten


def test_a_resend_sweep_sends_the_withdrawals_again_too() -> None:
    person = Person()
    person.batch(registered())
    person.batch(joined(gaoling()))

    resent = swept(person.state, BOOK, CLOCK, resend=True)

    assert sent(resent) == {("unnotified", "gaoling-eligible"), ("notified", "senior-card")}
    assert resent.state == person.state
