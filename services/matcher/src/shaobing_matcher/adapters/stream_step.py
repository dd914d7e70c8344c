"""What a batched stream (batched_stream.py) asks of what it runs: a step.

In the spirit of arroyo's processing strategies, but a batch at a time rather than a message:
for each batch the stream asks its step for the batch's function (`Step.for_batch`: one clock,
one rule book for the whole batch), gives it each partition's records with a reader of that
partition's stored states (`Stored`: one multi-get), and delivers what it returns
(`Processed`) in the order that makes a redo safe. The function is pure; the stream does the
I/O, and it alone commits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from shaobing_runtime.record_batches import Headers

from ..domain.batch import Record

T = TypeVar("T")
Stored = Callable[[list[bytes]], list[bytes | None]]  # one multi-get of a partition's states


@dataclass(frozen=True, slots=True)
class Output:
    """A message to send, to the partition of its key."""

    topic: str
    key: bytes
    value: bytes
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class Processed(Generic[T]):
    """What a partition's records (or stored states) give, delivered in this order: the outputs
    and the dead letters of what failed sent and acknowledged; the changed states to the
    changelog, acknowledged, then to the store; the batch's offsets committed; the tally
    counted."""

    tally: T  # what the step counts once the rest is delivered (`Step.count`)
    outputs: Sequence[Output] = ()
    failed: Sequence[tuple[Record, Exception]] = ()  # each dead-lettered with its reason
    states: Mapping[bytes, bytes] = field(default_factory=dict)  # the changed ones, by key


class RecordStep(Protocol[T]):
    """One partition's records of a batch, with their stored states, → what they give."""

    def __call__(self, records: Sequence[Record], stored: Stored, /) -> Processed[T]: ...


class StateStep(Protocol[T]):
    """Some stored states of one partition (their keys), → what they give: a sweep."""

    def __call__(self, keys: list[bytes], stored: Stored, /) -> Processed[T]: ...


class Step(Protocol[T]):
    """What a batched stream runs."""

    def for_batch(self) -> RecordStep[T]:
        """The function of the next batch's records."""
        ...

    def count(self, tally: T) -> None:
        """What a partition's records gave, in the metrics, once delivered."""
        ...

    async def rewrite(self, partitions: set[int]) -> None:
        """After the broker lost its log: every state of `partitions` to the changelog again
        (`BatchedStream.over_stored`), and whatever else the step must send again."""
        ...
