"""The enrolment fan-out: enrolments.v1 (by enrolment) → person-enrolments.v1 (by person).

A step of the stream engine (adapters/batched_stream.py) like the hot path: per batch, the members
each enrolment had are read from the store in one multi-get per partition, the person enrolments
computed (domain/membership.py) and sent as record batches with the dead letters, acknowledged; then
the changed member lists go to the changelog, then the store, then the offsets are committed. What a
crash makes it send again folds into the same person states (the messages derive from the
enrolment's event alone), so the hot path sends nothing for it.
"""

from __future__ import annotations

from collections.abc import Sequence

from shaobing_contracts.codec import encode
from shaobing_contracts.topics import Topic

from ..adapters.batched_stream import BatchedStream
from ..adapters.stream_step import Output, Processed, RecordStep, Stored
from ..config import MatcherSettings
from ..domain.batch import Record
from ..domain.membership import FanOut, fan_out_batch
from . import metrics


class EnrolmentFanOut:
    """The step of its stream (`Step[FanOut]`): each enrolment's members told of it, and those
    who left told they left."""

    def __init__(self, settings: MatcherSettings) -> None:
        self.stream = BatchedStream(
            settings,
            self,
            state="enrolment-state",
            group="enrolments",
            topics=(Topic.ENROLMENTS,),
        )

    def for_batch(self) -> RecordStep[FanOut]:
        return _fanned_out

    def count(self, tally: FanOut) -> None:
        metrics.EVENTS.labels("enrolment_recorded").inc(tally.processed)
        metrics.FAILED.labels(Topic.ENROLMENTS).inc(len(tally.failed))

    async def rewrite(self, partitions: set[int]) -> None:
        """After the broker lost its log: the member lists written again as they are."""
        async for _ in self.stream.over_stored(_as_stored, partitions):
            pass


def _fanned_out(records: Sequence[Record], stored: Stored) -> Processed[FanOut]:
    result = fan_out_batch(records, stored)
    outputs = [
        Output(Topic.PERSON_ENROLMENTS, message.id_number.encode(), encode(message), headers)
        for message, headers in result.messages
    ]
    return Processed(result, outputs, result.failed, result.members)


def _as_stored(keys: list[bytes], stored: Stored) -> Processed[FanOut]:
    found = zip(keys, stored(keys), strict=True)
    return Processed(FanOut(), states={key: state for key, state in found if state is not None})
