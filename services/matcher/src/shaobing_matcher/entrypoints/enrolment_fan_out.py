"""The enrolment fan-out: enrolments.v1 (by enrolment) → person-enrolments.v1 (by person).

A batched stream (batched_stream.py) like the hot path: per batch, the members each enrolment had
are read from the store in one multi-get per partition, the person enrolments computed
(domain/membership.py) and sent as record batches with the dead letters, acknowledged; then the
changed member lists go to the changelog, then the store, then the offsets are committed. What a
crash makes it send again folds into the same person states (the messages derive from the
enrolment's event alone), so the hot path sends nothing for it.
"""

from __future__ import annotations

import asyncio
from functools import partial

from shaobing_contracts.codec import encode
from shaobing_contracts.topics import Topic

from ..config import MatcherSettings
from ..domain.membership import FanOut, fan_out_batch
from . import metrics
from .batched_stream import Batch, BatchedStream, by_partition


class EnrolmentFanOut(BatchedStream):
    """Each enrolment's members told of it, and those who left told they left."""

    def __init__(self, settings: MatcherSettings) -> None:
        super().__init__(
            settings, state="enrolment-state", group="enrolments", topics=(Topic.ENROLMENTS,)
        )

    async def _process(self, batch: Batch) -> None:
        results: dict[int, FanOut] = {}
        for p, records in by_partition(batch).items():
            results[p] = fan_out_batch(records, partial(self._store.get_many, p))
            await asyncio.sleep(0)  # heartbeats, timers and the web pages between partitions
        for result in results.values():
            await self._send(result)
        await self._outbox.send()
        await self._persist(batch, {p: result.members for p, result in results.items()})
        for result in results.values():
            metrics.EVENTS.labels("enrolment_recorded").inc(result.processed)
            metrics.FAILED.labels(Topic.ENROLMENTS).inc(len(result.failed))

    async def _send(self, result: FanOut) -> None:
        for message, headers in result.messages:
            key = message.id_number.encode()
            await self._outbox.add(Topic.PERSON_ENROLMENTS, key, encode(message), headers=headers)
        for record, exc in result.failed:
            await self._dead_letter(record, exc)
