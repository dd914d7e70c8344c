"""The enrolment fan-out: enrolments.v1 (by enrolment) → person-enrolments.v1 (by person).

A batched stream (batched_stream.py) like the hot path: per batch, the members each enrolment had
are read from the store in one multi-get per partition, the person enrolments computed
(domain/membership.py) and sent as record batches with the dead letters, acknowledged; then the
changed member lists go to the changelog, then the store, then the offsets are committed. What a
crash makes it send again folds into the same person states (the messages derive from the
enrolment's event alone), so the hot path sends nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable

from shaobing_contracts.codec import encode
from shaobing_contracts.topics import Topic

from ..adapters.batched_stream import BatchedStream, Stored
from ..config import MatcherSettings
from ..domain.batch import Record
from ..domain.membership import FanOut, fan_out_batch
from . import metrics


class EnrolmentFanOut(BatchedStream):
    """Each enrolment's members told of it, and those who left told they left."""

    def __init__(self, settings: MatcherSettings) -> None:
        super().__init__(
            settings, state="enrolment-state", group="enrolments", topics=(Topic.ENROLMENTS,)
        )

    def _step(self) -> Callable[[list[Record], Stored], FanOut]:
        return fan_out_batch

    async def _queue(self, result: FanOut) -> None:
        for message, headers in result.messages:
            key = message.id_number.encode()
            await self._outbox.add(Topic.PERSON_ENROLMENTS, key, encode(message), headers=headers)
        for record, exc in result.failed:
            await self._dead_letter(record, exc)

    def _changed(self, result: FanOut) -> dict[bytes, bytes]:
        return result.members

    def _count(self, result: FanOut) -> None:
        metrics.EVENTS.labels("enrolment_recorded").inc(result.processed)
        metrics.FAILED.labels(Topic.ENROLMENTS).inc(len(result.failed))
