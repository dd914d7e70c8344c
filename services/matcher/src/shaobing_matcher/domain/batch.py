"""One record batch of person-keyed messages: each person's events folded in arrival order, the
rules and policies evaluated once per person, and only where the batch changed the state.

A message that cannot be decoded or folded is set aside with its error (the caller dead-letters
it) and the person's other events go on; if the evaluation fails, or would leave a state too
large for a changelog record, all of the person's events are set aside and their state stays as
it was. An event that takes a kind of fact over the most a state keeps (facts.MOST_KEPT) is
folded (it is ignored) and dead-lettered too, once, naming the cap. `sweep_batch` is the daily
sweep's counterpart: some stored states, no events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from shaobing_contracts.codec import decode_person_event

from .clock import Clock
from .evaluation import Outcome, RuleBook
from .facts import FactsCapped, fold
from .matching import settle, swept
from .person import PersonState, decode_state, encode_state

Headers = Sequence[tuple[str, bytes]]
# The most bytes a person's state may take: well below the 1 MiB a Kafka record may have by
# default (max.message.bytes), so that its changelog record is always accepted.
MOST_STATE_BYTES = 900_000


class StateTooLarge(Exception):
    """The person's state would not fit in a changelog record."""

    def __init__(self, size: int) -> None:
        super().__init__(
            f"the person's state would take {size} bytes, more than the {MOST_STATE_BYTES} a "
            "state may take: the person's events of this batch are set aside (data quality)"
        )


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
    folded = _folded(before, records, result)
    if folded.state is None:
        return
    try:
        outcome = settle(before, folded.state, book, clock)
        encoded = encode_state(outcome.state) if outcome is not None else b""
        if len(encoded) > MOST_STATE_BYTES:
            raise StateTooLarge(len(encoded))
    except Exception as exc:
        result.failed.extend((record, exc) for record in folded.records)
        return
    result.failed.extend(folded.capped)
    result.processed.update(folded.kinds)  # counted in C from a list, in Python from a Counter
    if outcome is not None:
        result.states[key] = encoded
        result.matched.append(Matched(key, outcome, folded.records[-1].headers))


@dataclass(slots=True)
class _Folded:
    state: PersonState | None
    records: list[Record] = field(default_factory=list)  # those folded, in order
    kinds: list[str] = field(default_factory=list)  # their event types
    capped: list[tuple[Record, Exception]] = field(default_factory=list)  # each over a cap


def _folded(before: PersonState | None, records: list[Record], result: BatchResult) -> _Folded:
    """The person's events folded in arrival order; one that cannot be is set aside."""
    folded = _Folded(before)
    for record in records:
        try:
            event = decode_person_event(record.value or b"")
            was = folded.state or PersonState(id_number=event.id_number)
            folded.state = fold(was, event)
        except Exception as exc:
            result.failed.append((record, exc))
            continue
        folded.records.append(record)
        folded.kinds.append(event.event_type)
        if len(folded.state.capped) > len(was.capped):
            folded.capped.append((record, FactsCapped(folded.state.capped[-1])))
    return folded


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
