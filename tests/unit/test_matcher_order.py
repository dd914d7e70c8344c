"""Order independence: however a person's streams interleave, the same alerts stay open
(and the same notifications are due); and what the hot path sends, only what changed, leaves
the alerts service with exactly those alerts and notifications live (not withdrawn), whatever
the order of arrival and however the events fall into batches: a notification sent before a
fact that ends it (a GAOLING enrolment after the registration of someone over 80, a death, a
move) is withdrawn.

Each source keeps its own order (one partition per person and topic); what varies in production
is how the streams of the death registry, household registration, marriage registry, social
security and enrolments interleave, so that is what hypothesis shuffles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from matcher_events import (
    BENEFICIARY,
    CLOCK,
    RULES,
    SHANGHAI,
    cancelled,
    death_retracted,
    died,
    employed,
    enrolment,
    joined,
    last_outcome,
    marriage_retracted,
    married,
    moved,
    moved_out,
    pension_started,
    records,
    registered,
    unemployed,
)

from shaobing_contracts.enrolment import EnrolmentStatus, Program
from shaobing_contracts.hukou import CancellationReason
from shaobing_matcher.domain.batch import decode_state, match_batch
from shaobing_matcher.domain.evaluation import Outcome, RuleBook
from shaobing_matcher.domain.person import PersonState

LATER = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
TEKUN = enrolment("TEKUN-310110-0001", program=Program.TEKUN)
GAOLING = enrolment("GAOLING-310110-0001", program=Program.GAOLING, members=[BENEFICIARY])

STREAMS = {
    "death": [[], [died()], [died(), death_retracted()], [died(), death_retracted(), died()]],
    "hukou": [
        [],
        [registered()],
        [registered(), moved(to_area="310115001001")],
        [registered(), moved(to_area="310110005001")],
        [registered(), moved_out()],
        [registered(), cancelled(reason=CancellationReason.DECEASED)],
    ],
    "marriage": [[], [married()], [married(), marriage_retracted()]],
    "social": [[], [pension_started()], [employed(), unemployed()], [employed()]],
    "enrolments": [
        [joined()],
        [joined(at=LATER)],
        [joined(), joined(TEKUN, at=LATER)],
        [joined(GAOLING)],  # 86: receives the allowance already
        [joined(), joined(GAOLING, at=LATER)],
        [joined(GAOLING), joined(GAOLING, role=None, at=LATER)],  # and then no longer
        [joined(), joined(enrolment(status=EnrolmentStatus.SUSPENDED), at=LATER)],
    ],
}


@st.composite
def interleavings(draw: st.DrawFn) -> tuple[list, list]:
    """(events stream after stream, the same events interleaved at random)."""
    streams = {name: draw(st.sampled_from(options)) for name, options in STREAMS.items()}
    labels = draw(st.permutations([n for n, events in streams.items() for _ in events]))
    cursors = dict.fromkeys(streams, 0)
    shuffled = []
    for name in labels:
        shuffled.append(streams[name][cursors[name]])
        cursors[name] += 1
    return [e for events in streams.values() for e in events], shuffled


@st.composite
def batched(draw: st.DrawFn, events: list) -> list[list]:
    """The events cut into batches at random, as the hot path may read them."""
    cuts = [i for i in range(1, len(events)) if draw(st.booleans())]
    return [events[a:b] for a, b in zip([0, *cuts], [*cuts, len(events)], strict=True)]


def _open(events: list) -> set[tuple]:
    """The alerts that hold and the notifications due after the last event."""
    outcome = last_outcome(events)
    alerts = {
        (a.id, a.rule_version, a.action, a.fact_key, a.overpaid_months, a.explanation)
        for a in outcome.raised
    }
    return alerts | {(n.id, n.period, n.explanation) for n in outcome.notifications}


@settings(max_examples=300, deadline=None)
@given(interleavings())
def test_the_open_alerts_do_not_depend_on_how_the_streams_interleave(pair) -> None:
    in_stream_order, shuffled = pair

    assert _open(shuffled) == _open(in_stream_order)


@dataclass
class Downstream:
    """What the alerts service holds after the hot path's messages: the alerts (with their
    enrolment) and notifications live (sent, not withdrawn since), and any sent again while
    live."""

    alerts: dict = field(default_factory=dict)
    notifications: set = field(default_factory=set)
    told_twice: list = field(default_factory=list)

    def receive(self, outcome: Outcome) -> None:
        self.alerts |= {a.id: a.enrolment_id for a in outcome.raised}
        for withdrawal in outcome.withdrawn:
            self.alerts.pop(withdrawal.id, None)
        raised = {n.id for n in outcome.notifications}
        self.told_twice += raised & self.notifications
        self.notifications |= raised
        self.notifications -= {w.id for w in outcome.notifications_withdrawn}

    def live(self, state: PersonState) -> tuple[set, set]:
        """The live alerts of the enrolments ACTIVE in `state` (one no longer ACTIVE keeps
        those raised while it was: a payment stopped because of an alert must not withdraw
        it), and the live notifications."""
        active = {e for e, link in state.enrolments.items() if link.enrolment.status == "ACTIVE"}
        return {a for a, e in self.alerts.items() if e in active}, self.notifications


def _downstream(batches: list[list]) -> tuple[Downstream, PersonState]:
    """The batches through the hot path, each over the state the one before stored."""
    stored: dict[bytes, bytes] = {}
    book, received = RuleBook.on(RULES, CLOCK), Downstream()
    for batch in batches:
        result = match_batch(records(batch), lambda ks: [stored.get(k) for k in ks], book, CLOCK)
        stored.update(result.states)
        for matched in result.matched:
            received.receive(matched.outcome)
    return received, decode_state(stored[BENEFICIARY.encode()])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_what_is_live_downstream_does_not_depend_on_the_order_of_arrival(data) -> None:
    in_stream_order, shuffled = data.draw(interleavings())

    one_by_one, state = _downstream([[e] for e in in_stream_order])
    arrived, _ = _downstream(data.draw(batched(shuffled)))

    assert arrived.live(state) == one_by_one.live(state)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_sending_only_what_changed_leaves_downstream_what_the_state_holds(data) -> None:
    _, shuffled = data.draw(interleavings())
    level = last_outcome(shuffled)  # everything the final state supports, evaluated afresh

    received, state = _downstream(data.draw(batched(shuffled)))

    assert {str(a) for a in received.alerts} == set(state.raised)  # sent while ACTIVE, held
    assert {a.id for a in level.raised} <= received.alerts.keys()
    assert received.notifications == {n.id for n in level.notifications}
    assert received.told_twice == []  # nobody told again while a notification is live
