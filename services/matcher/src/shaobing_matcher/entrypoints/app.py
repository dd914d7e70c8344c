"""The faust app: topics, tables and the two agents of the symmetric join."""

from __future__ import annotations

import asyncio
import traceback
import weakref
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import faust
import structlog
from faust.streams import _current_event
from faust.types import EventT
from prometheus_client import Counter

from shaobing_contracts.codec import decode, decode_person_event, encode
from shaobing_contracts.enrolment import EnrolmentRecorded
from shaobing_contracts.topics import Topic
from shaobing_rules.files import RuleFiles
from shaobing_runtime.logging import configure_logging

from ..adapters.dead_letters import dead_letter
from ..config import MatcherSettings
from ..domain.clock import Clock
from ..domain.evaluation import Outcome, RuleBook
from ..domain.matching import apply, reevaluate
from ..domain.membership import person_enrolments
from ..domain.person import PersonState
from .delivery import CHANGELOG_END_MARKER, STALL_SECONDS, Delivery

log = structlog.get_logger()
BATCH_SIZE = 500
BATCH_WAIT_SECONDS = 0.05
settings = MatcherSettings()
EVENTS = Counter("shaobing_matcher_events_total", "Events processed by the matcher", ["type"])
ALERTS = Counter("shaobing_matcher_alerts_raised_total", "Alerts emitted", ["rule_id"])
WITHDRAWN = Counter(
    "shaobing_matcher_alerts_withdrawn_total", "Alert withdrawals emitted", ["rule_id"]
)
RULE_FAILURES = Counter(
    "shaobing_matcher_rule_failures_total", "Rule evaluations that failed", ["rule_id"]
)
EVALUATIONS = Counter(
    "shaobing_matcher_rule_evaluations_total",
    "Rule conditions evaluated (per enrolment and fact)",
    ["rule_id"],
)
NOTIFIED = Counter(
    "shaobing_matcher_notifications_sent_total",
    "Notifications sent (re-sends included)",
    ["policy_id"],
)
TICKS = Counter(
    "shaobing_matcher_sweeps_total", "Sweeps of the rules and policies over every person done"
)
rules = RuleFiles(settings.rules_dir)  # invalid rules stop the worker at start
FAILED = Counter(
    "shaobing_matcher_dead_letters_total", "Events the matcher dead-lettered", ["topic"]
)

app = faust.App(
    settings.app_id,
    broker=[f"kafka://{b}" for b in settings.kafka_bootstrap_servers.split(",")],
    broker_credentials=faust.SASLCredentials(
        username=settings.kafka_sasl_username,
        password=settings.kafka_sasl_password or "",
        mechanism="SCRAM-SHA-512",
    )
    if settings.kafka_sasl_username
    else None,
    store=settings.store,
    datadir=settings.data_dir,
    topic_partitions=settings.topic_partitions,
    topic_allow_declare=True,  # faust creates its changelog topics (compacted) itself
    web_host="0.0.0.0",
    web_port=settings.port,
    web_in_thread=False,
    consumer_auto_offset_reset="earliest",
    broker_session_timeout=10,
    broker_heartbeat_interval=1,
    # Offsets are committed by the agents themselves after each batch is durable (see
    # commit_processed); faust's periodic commit also covered offsets it had only marked as
    # gaps and lost in-flight events on kill -9 (tests/integration/test_matcher_restart.py).
    broker_commit_interval=365 * 86400.0,
    broker_commit_every=2**62,
    producer_acks=-1,
    table_standby_replicas=0,
    # Send at once (flushed before every offset commit) instead of faust's "attachments",
    # which lost in-flight alerts when a worker was killed (tests/integration).
    stream_publish_on_commit=False,
    key_serializer="raw",
    value_serializer="raw",
)


def _raw_topic(*names: str) -> faust.TopicT:
    return app.topic(*names, key_type=bytes, value_type=bytes)


enrolments_in = _raw_topic(Topic.ENROLMENTS)
person_events = _raw_topic(
    Topic.DEATH, Topic.HUKOU, Topic.MARRIAGE, Topic.SOCIAL_SECURITY, Topic.PERSON_ENROLMENTS
)
# Every known label set from the start: a failure counter that exists at 0 is a flat line on
# the dashboards and something rate() can see rise, not a missing series.
for _rule in rules.rule_set.rules:
    RULE_FAILURES.labels(_rule.definition.id)
    EVALUATIONS.labels(_rule.definition.id)
for _topic in (*enrolments_in.topics, *person_events.topics):
    FAILED.labels(_topic)
person_enrolments_out = _raw_topic(Topic.PERSON_ENROLMENTS)
alerts_out = _raw_topic(Topic.ALERTS)
notifications_out = _raw_topic(Topic.NOTIFICATIONS)
dead_letters_out = _raw_topic(Topic.DEAD_LETTERS)

persons = app.Table("person-state", key_type=bytes, value_type=bytes)
enrolment_members = app.Table("enrolment-members", key_type=bytes, value_type=bytes)


def _clock() -> Clock:
    now = datetime.now(UTC)
    return Clock(
        now=now,
        today=now.astimezone(ZoneInfo(settings.timezone)).date(),
        cutoff_day=settings.payout_cutoff_day,
    )


delivery = Delivery(app)


@app.timer(interval=STALL_SECONDS)
async def _audit_positions() -> None:
    """No record left behind at the tail of a partition (see Delivery.audit)."""
    try:
        await delivery.audit({t for topic in (enrolments_in, person_events) for t in topic.topics})
    except Exception:  # a rebalance may be under way: the next round looks again
        log.exception("offset_audit_failed")


@app.on_partitions_revoked.connect
async def _on_revoked(app: faust.App, revoked: set, **kwargs) -> None:
    delivery.forget(revoked)


@app.agent(enrolments_in)
async def fan_out_enrolments(stream: faust.StreamT) -> None:
    """enrolments.v1 (by enrolment) → person-enrolments.v1 (by person)."""
    async for batch in stream.take_events(BATCH_SIZE, within=BATCH_WAIT_SECONDS):
        events = await delivery.in_order(batch)
        for event in events:
            await _guarded(_fan_out, event)
        await delivery.commit_processed(events, enrolment_members)


async def _fan_out(event: EventT) -> None:
    recorded = decode(EnrolmentRecorded, event.value)
    key = recorded.enrolment.enrolment_id.encode()
    previous = (enrolment_members.get(key) or b"").decode().split()
    for message in person_enrolments(recorded, previous):
        await person_enrolments_out.send(
            key=message.id_number.encode(), value=encode(message), headers=event.headers
        )
    enrolment_members[key] = " ".join(recorded.enrolment.household_members).encode()
    EVENTS.labels("enrolment_recorded").inc()


@app.agent(person_events)
async def match(stream: faust.StreamT) -> None:
    """Each person's facts and enrolments, in arrival order, through the rules."""
    async for batch in stream.take_events(BATCH_SIZE, within=BATCH_WAIT_SECONDS):
        events = await delivery.in_order(batch)
        clock = _clock()
        book = RuleBook.on(_current_rules(), clock)
        for event in events:
            await _guarded(_match, event, book, clock)
        await delivery.commit_processed(events, persons)


_running: set[asyncio.Future] = set()  # sweeps started by a rules reload, kept until done


def _current_rules():
    if rules.refresh():
        log.info("rules_reloaded", rules=[r.name for r in rules.rule_set.rules])
        sweep = asyncio.ensure_future(run_sweep())  # the new rules over everyone, not at events
        _running.add(sweep)
        sweep.add_done_callback(_running.discard)
    elif rules.error is not None:
        log.error("rules_not_reloaded", error=str(rules.error))
    return rules.rule_set


async def _match(event: EventT, book: RuleBook, clock: Clock) -> None:
    message = decode_person_event(event.value)
    stored = persons.get(event.key)
    state = (
        PersonState.model_validate_json(stored)
        if stored
        else PersonState(id_number=message.id_number)
    )
    outcome = apply(state, message, book, clock)
    persons[event.key] = outcome.state.model_dump_json().encode()
    await _send(outcome, event.key, event.headers)
    EVENTS.labels(message.event_type).inc()


async def _send(outcome: Outcome, key: bytes, headers=None) -> None:
    """The alerts that hold, the withdrawals still standing, the notifications due."""
    for alert in outcome.raised:
        await alerts_out.send(key=key, value=encode(alert), headers=headers)
        ALERTS.labels(alert.rule_id).inc()
    for withdrawal in outcome.withdrawn:
        await alerts_out.send(key=key, value=encode(withdrawal), headers=headers)
        WITHDRAWN.labels(withdrawal.rule_id).inc()
    await _notify(outcome.notifications, headers)
    _count_failures(outcome.failures)
    for rule_id, count in outcome.evaluated.items():
        EVALUATIONS.labels(rule_id).inc(count)


async def _notify(found: list, headers=None) -> None:
    for notification in found:
        key = notification.id_number.encode()  # the person to contact (a spouse, maybe)
        await notifications_out.send(key=key, value=encode(notification), headers=headers)
        NOTIFIED.labels(notification.policy_id).inc()


def _count_failures(failures: list) -> None:
    for failure in failures:
        RULE_FAILURES.labels(failure.rule_id).inc()
        log.error("rule_failed", error=str(failure))


@app.crontab(settings.daily_tick_cron, timezone=ZoneInfo(settings.timezone))
async def daily_tick() -> None:
    """A day passes: birthdays without events, rule versions taking effect on their date."""
    await run_sweep()


async def run_sweep() -> int:
    """The rules and policies over every person in this worker's partitions, sending what holds
    (all idempotent downstream; the state is brought up to date at each person's next event);
    returns how many messages were sent."""
    clock = _clock()
    book, sent = RuleBook.on(_current_rules(), clock), 0
    for n, (key, stored) in enumerate(list(persons.items())):
        if key == CHANGELOG_END_MARKER or not stored:
            continue
        outcome = reevaluate(PersonState.model_validate_json(stored), book, clock)
        await _send(outcome, key)
        sent += len(outcome.raised) + len(outcome.withdrawn) + len(outcome.notifications)
        if n % 200 == 0:
            await asyncio.sleep(0)  # let the agents and the web answer meanwhile
    await delivery.drain_producer()
    TICKS.inc()
    log.info("sweep_done", messages=sent)
    return sent


async def _guarded(step, event: EventT, *args) -> None:
    """One bad event is dead-lettered with its reason; the stream goes on (faust #175, #527)."""
    # take_events() does not set faust's current event, which table writes need to pick the
    # changelog partition (the event's own, keeping state co-partitioned with its source).
    _current_event.set(weakref.ref(event))
    try:
        await step(event, *args)
    except Exception as exc:
        await _dead_letter(event, exc)


async def _dead_letter(event, exc: Exception) -> None:
    FAILED.labels(event.message.topic).inc()
    log.error(
        "matcher_event_failed",
        topic=event.message.topic,
        partition=event.message.partition,
        offset=event.message.offset,
        error=type(exc).__name__,
    )
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    where = f" (at {Path(frame.filename).name}:{frame.lineno})"
    await dead_letter(dead_letters_out, event, f"{type(exc).__name__}: {exc}{where}")


@app.task
async def _configure_logging() -> None:
    configure_logging("matcher", settings.log_level)
