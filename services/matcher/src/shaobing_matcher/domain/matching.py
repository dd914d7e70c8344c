"""The symmetric join: each event folded into the person's state, then the rules over all of it.

A fact meets the person's enrolments, an enrolment meets the facts already known: both are the
same evaluation of the whole state after the event.
"""

from __future__ import annotations

from shaobing_contracts.codec import AnyPersonEvent

from .clock import Clock
from .evaluation import Outcome, RuleBook, evaluate
from .facts import fold
from .person import PersonState


def apply(state: PersonState, event: AnyPersonEvent, book: RuleBook, clock: Clock) -> Outcome:
    """The person's state after `event`, with the alerts it supports and those withdrawn."""
    return evaluate(fold(state, event), book, clock)
