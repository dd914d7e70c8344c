"""Order independence: however a person's streams interleave, the same alerts stay open
(and the same notifications are due); and what the hot path sends, only what changed, leaves
the alerts service with exactly those alerts open, each notification received once.

Each source keeps its own order (one partition per person and topic); what varies in production
is how the streams of the death registry, household registration, marriage registry, social
security and enrolments interleave, so that is what hypothesis shuffles.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from matcher_events import (
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
from shaobing_matcher.domain.batch import match_batch
from shaobing_matcher.domain.evaluation import RuleBook

LATER = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
TEKUN = enrolment("TEKUN-310110-0001", program=Program.TEKUN)

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


def _received(events: list) -> tuple[set, Counter]:
    """What the alerts service holds after the hot path sent its messages for each event in
    turn (its own batch): the alerts open (raised or restored, not withdrawn since) and how
    many times each notification arrived."""
    stored: dict[bytes, bytes] = {}
    book = RuleBook.on(RULES, CLOCK)
    opened, notified = set(), Counter()
    for event in events:
        result = match_batch(records([event]), lambda ks: [stored.get(k) for k in ks], book, CLOCK)
        stored.update(result.states)
        for outcome in (m.outcome for m in result.matched):
            opened |= {a.id for a in outcome.raised}
            opened -= {w.id for w in outcome.withdrawn}
            notified.update(n.id for n in outcome.notifications)
    return opened, notified


@settings(max_examples=200, deadline=None)
@given(interleavings())
def test_sending_only_what_changed_leaves_downstream_what_the_state_holds(pair) -> None:
    _, shuffled = pair
    level = last_outcome(shuffled)  # everything the final state supports, evaluated afresh

    opened, notified = _received(shuffled)

    assert {str(a) for a in opened} == set(level.state.raised)  # sent while ACTIVE, still held
    assert {a.id for a in level.raised} <= opened
    assert {n.id for n in level.notifications} <= set(notified)
    assert set(notified.values()) <= {1}  # nobody told twice
