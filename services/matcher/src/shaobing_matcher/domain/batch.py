"""One record batch of person-keyed messages: each person's events folded in arrival order, the
rules and policies evaluated once per person, and only where the batch changed the state.

A message that cannot be decoded or folded is set aside with its error (the caller dead-letters
it) and the person's other events go on; if the evaluation fails, all of the person's events are
set aside and their state stays as it was. `sweep_batch` is the daily sweep's counterpart: some
stored states, no events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from shaobing_contracts.codec import decode_person_event

from .clock import Clock
from .evaluation import Outcome, RuleBook
from .facts import fold
from .matching import settle, swept
from .person import PersonState, decode_state, encode_state

Headers = Sequence[tuple[str, bytes]]


class Record(Protocol):
    """What the batch needs of a consumed message (aiokafka's ConsumerRecord has it)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers


@dataclass(frozen=True)
class Matched:
    key: bytes
    outcome: Outcome
    headers: Headers  # those of the person's last event: correlation follows the latest cause


@dataclass
class BatchResult:
    states: dict[bytes, bytes] = field(default_factory=dict)  # key → new state, changed only
    matched: list[Matched] = field(default_factory=list)
    failed: list[tuple[Record, Exception]] = field(default_factory=list)
    processed: Counter[str] = field(default_factory=Counter)  # events by type


def match_batch(
    records: Sequence[Record],
    stored: Callable[[list[bytes]], list[bytes | None]],
    book: RuleBook,
    clock: Clock,
) -> BatchResult:
    """The batch's outcome; `stored` reads the states of the given keys (one multi-get)."""
    by_key: dict[bytes, list[Record]] = {}
    for record in records:
        by_key.setdefault(record.key or b"", []).append(record)
    result = BatchResult()
    for (key, events), raw in zip(by_key.items(), stored(list(by_key)), strict=True):
        _match_person(key, raw, events, book, clock, result)
    return result


def _match_person(
    key: bytes,
    raw: bytes | None,
    records: list[Record],
    book: RuleBook,
    clock: Clock,
    result: BatchResult,
) -> None:
    before = decode_state(raw) if raw else None
    state, folded, kinds = before, [], list[str]()
    for record in records:
        try:
            event = decode_person_event(record.value or b"")
            state = fold(state or PersonState(id_number=event.id_number), event)
        except Exception as exc:
            result.failed.append((record, exc))
            continue
        folded.append(record)
        kinds.append(event.event_type)
    if state is None:
        return
    try:
        outcome = settle(before, state, book, clock)
    except Exception as exc:
        result.failed.extend((record, exc) for record in folded)
        return
    result.processed.update(kinds)  # counted in C from a list, in Python from a Counter
    if outcome is not None:
        result.states[key] = encode_state(outcome.state)
        result.matched.append(Matched(key, outcome, folded[-1].headers))


def sweep_batch(
    keys: list[bytes],
    stored: Callable[[list[bytes]], list[bytes | None]],
    book: RuleBook,
    clock: Clock,
    *,
    resend: bool = False,
    keep_all: bool = False,
) -> BatchResult:
    """The daily sweep over some persons' stored states (one multi-get): what is new to send
    (everything that holds, with `resend`) and the states that now remember it (all of them,
    with `keep_all`)."""
    result = BatchResult()
    for key, raw in zip(keys, stored(keys), strict=True):
        if raw is None:
            continue
        state = decode_state(raw)
        outcome = swept(state, book, clock, resend=resend)
        if keep_all or outcome.state != state:
            result.states[key] = encode_state(outcome.state)
        result.matched.append(Matched(key, outcome, ()))
    return result
