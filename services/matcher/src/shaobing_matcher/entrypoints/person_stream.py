"""The matcher's hot path: person-keyed messages in record batches, one evaluation per person.

A step of the stream engine (adapters/batched_stream.py: aiokafka, RocksDB, its own changelog). Per
batch, at least once and in this order: each partition's persons are read from the state store in
one multi-get and matched (domain/batch.py); their alerts, notifications and dead letters are sent
as one record batch per partition and acknowledged; then the changed states go to the changelog,
acknowledged; then the store; then the offsets are committed. A crash at any point redoes the batch,
and what it sends again is absorbed downstream (deterministic ids); a state is stored only after
what it raised was sent, so a replayed event that changes nothing can skip the evaluation.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import partial
from zoneinfo import ZoneInfo

import structlog

from shaobing_contracts.topics import Topic
from shaobing_rules.files import RuleFiles
from shaobing_rules.rule_set import RuleSet

from ..adapters.batched_stream import BatchedStream
from ..adapters.stream_step import RecordStep, StateStep
from ..config import MatcherSettings
from ..domain.batch import BatchResult, match_batch, sweep_batch
from ..domain.clock import Clock
from ..domain.evaluation import RuleBook
from . import metrics
from .outputs import count_result, sent_for, to_deliver

log = structlog.get_logger()
PERSON_TOPICS = (
    Topic.DEATH,
    Topic.HUKOU,
    Topic.MARRIAGE,
    Topic.SOCIAL_SECURITY,
    Topic.PERSON_ENROLMENTS,
    Topic.SPOUSE_DEATHS,
)
PERSON_STATE = "person-state"  # the store's folder and the changelog's name


def clock_now(settings: MatcherSettings) -> Clock:
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    return Clock(now=now, today=today, cutoff_day=settings.payout_cutoff_day)


class PersonStream:
    """The hot path, the step of its stream (`Step[BatchResult]`): person states matched
    against the rules; and the daily sweep over them."""

    def __init__(self, settings: MatcherSettings, rules: RuleFiles) -> None:
        self.settings, self.rules = settings, rules
        self.stream = BatchedStream(
            settings, self, state=PERSON_STATE, group="persons", topics=PERSON_TOPICS
        )
        self._sweeps: set[asyncio.Future[int]] = set()  # started by a rules reload, kept until done

    def for_batch(self) -> RecordStep[BatchResult]:
        """Each partition's persons matched, against the rules in force now."""
        clock = clock_now(self.settings)
        book = RuleBook.on(self._current_rules(), clock)
        return lambda records, stored: to_deliver(match_batch(records, stored, book, clock))

    def count(self, tally: BatchResult) -> None:
        count_result(tally)

    async def rewrite(self, partitions: set[int]) -> None:
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
        sent = 0
        async for swept in self.stream.over_stored(self._sweep_step(resend, rewrite), partitions):
            sent += sum(sent_for(m.outcome) for m in swept.tally.matched)
        metrics.TICKS.inc()
        metrics.SWEPT_AT.set_to_current_time()
        log.info("sweep_done", messages=sent, resend=resend)
        return sent

    def _sweep_step(self, resend: bool, keep_all: bool) -> StateStep[BatchResult]:
        clock = clock_now(self.settings)
        sweep = partial(sweep_batch, book=RuleBook.on(self._current_rules(), clock), clock=clock)
        return lambda keys, stored: to_deliver(
            sweep(keys, stored, resend=resend, keep_all=keep_all)
        )

    def _current_rules(self) -> RuleSet:
        if self.rules.refresh():
            log.info("rules_reloaded", rules=[r.name for r in self.rules.rule_set.rules])
            sweep = asyncio.ensure_future(self.sweep())  # the new rules over everyone
            self._sweeps.add(sweep)
            sweep.add_done_callback(self._sweeps.discard)
        elif self.rules.error is not None:
            log.error("rules_not_reloaded", error=str(self.rules.error))
        return self.rules.rule_set
