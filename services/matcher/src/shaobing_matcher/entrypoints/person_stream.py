"""The matcher's hot path: person-keyed messages in record batches, one evaluation per person.

A batched stream (batched_stream.py: aiokafka, RocksDB, its own changelog). Per batch, at least
once and in this order: each partition's persons are read from the state store in one multi-get
and matched (domain/batch.py); their alerts, notifications and dead letters are sent as one
record batch per partition and acknowledged; then the changed states go to the changelog,
acknowledged; then the store; then the offsets are committed. A crash at any point redoes the
batch, and what it sends again is absorbed downstream (deterministic ids); a state is stored only
after what it raised was sent, so a replayed event that changes nothing can skip the evaluation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from itertools import islice
from zoneinfo import ZoneInfo

import structlog

from shaobing_contracts.topics import Topic
from shaobing_rules.files import RuleFiles
from shaobing_rules.rule_set import RuleSet
from shaobing_runtime.record_batches import RecordBatches

from ..adapters.batched_stream import BatchedStream, Stored
from ..config import MatcherSettings
from ..domain.batch import BatchResult, Record, match_batch, sweep_batch
from ..domain.clock import Clock
from ..domain.evaluation import RuleBook
from . import metrics
from .outputs import add_outcome, count_result, sent_for

log = structlog.get_logger()
PERSON_TOPICS = (
    Topic.DEATH,
    Topic.HUKOU,
    Topic.MARRIAGE,
    Topic.SOCIAL_SECURITY,
    Topic.PERSON_ENROLMENTS,
    Topic.SPOUSE_DEATHS,
)
SWEEP_CHUNK = 500  # persons a sweep handles at once, between two batches
PERSON_STATE = "person-state"  # the store's folder and the changelog's name


def clock_now(settings: MatcherSettings) -> Clock:
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    return Clock(now=now, today=today, cutoff_day=settings.payout_cutoff_day)


class PersonStream(BatchedStream):
    """The hot path: person states matched against the rules, and the daily sweep."""

    def __init__(self, settings: MatcherSettings, rules: RuleFiles) -> None:
        super().__init__(settings, state=PERSON_STATE, group="persons", topics=PERSON_TOPICS)
        self.rules = rules
        self._sweeps: set[asyncio.Future] = set()  # started by a rules reload, kept until done

    def _step(self) -> Callable[[list[Record], Stored], BatchResult]:
        clock = clock_now(self.settings)
        return partial(match_batch, book=RuleBook.on(self._current_rules(), clock), clock=clock)

    async def _queue(self, result: BatchResult) -> None:
        for matched in result.matched:
            await add_outcome(self._outbox, matched.key, matched.outcome, matched.headers)
        for record, exc in result.failed:
            await self._dead_letter(record, exc)

    def _changed(self, result: BatchResult) -> dict[bytes, bytes]:
        return result.states

    def _count(self, result: BatchResult) -> None:
        count_result(result)

    async def _rewrite(self, partitions: set[int]) -> None:
        """After the broker lost its log: every state written again, and everything that holds
        sent again (what was sent before the loss may never have reached the alerts service)."""
        await self.sweep(resend=True, partitions=partitions, rewrite=True)

    async def sweep(
        self, *, resend: bool = False, partitions: set[int] | None = None, rewrite: bool = False
    ) -> int:
        """The rules and policies over every person of this worker's partitions (or of
        `partitions`): what a day or a new rule version brings is sent (everything that holds,
        with `resend`) and the states remembering it stored (every state, with `rewrite`), a
        chunk at a time between the batches (each chunk's states read when it is its turn: a
        batch may have changed them); returns how many messages were sent."""
        clock = clock_now(self.settings)
        book = RuleBook.on(self._current_rules(), clock)
        sweep = partial(sweep_batch, book=book, clock=clock, keep_all=rewrite)
        sent = 0
        for partition in sorted(self._assigned() if partitions is None else partitions):
            keys = self._store.keys(partition)
            while chunk := list(islice(keys, SWEEP_CHUNK)):
                async with self._lock:
                    if partition not in self._assigned():
                        break  # revoked meanwhile: its new owner sweeps it
                    result = sweep(chunk, partial(self._store.get_many, partition), resend=resend)
                    try:
                        await self._deliver({partition: result})
                    except Exception:
                        self._outbox = RecordBatches(self._outbox.producer)  # nothing half-queued
                        raise
                sent += sum(sent_for(m.outcome) for m in result.matched)
        metrics.TICKS.inc()
        metrics.SWEPT_AT.set_to_current_time()
        log.info("sweep_done", messages=sent, resend=resend)
        return sent

    def _current_rules(self) -> RuleSet:
        if self.rules.refresh():
            log.info("rules_reloaded", rules=[r.name for r in self.rules.rule_set.rules])
            sweep = asyncio.ensure_future(self.sweep())  # the new rules over everyone
            self._sweeps.add(sweep)
            sweep.add_done_callback(self._sweeps.discard)
        elif self.rules.error is not None:
            log.error("rules_not_reloaded", error=str(self.rules.error))
        return self.rules.rule_set
