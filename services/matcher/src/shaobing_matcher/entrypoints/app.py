"""The faust worker: the hot path as a service (person_stream.py), the enrolment fan-out agent
with its table, the web pages, the offset audit and the daily sweep."""

from __future__ import annotations

import weakref
from zoneinfo import ZoneInfo

import faust
import mode
import structlog
from faust.streams import _current_event
from faust.types import EventT

from shaobing_contracts.codec import decode, encode
from shaobing_contracts.enrolment import EnrolmentRecorded
from shaobing_contracts.topics import Topic
from shaobing_rules.files import RuleFiles
from shaobing_runtime.logging import configure_logging

from ..adapters.dead_letters import dead_letter, reason_of
from ..config import MatcherSettings
from ..domain.membership import person_enrolments
from . import metrics
from .delivery import STALL_SECONDS, Delivery
from .person_stream import PERSON_TOPICS, PersonStream

log = structlog.get_logger()
BATCH_SIZE = 500
BATCH_WAIT_SECONDS = 0.05
settings = MatcherSettings()
rules = RuleFiles(settings.rules_dir)  # invalid rules stop the worker at start

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
person_enrolments_out = _raw_topic(Topic.PERSON_ENROLMENTS)
dead_letters_out = _raw_topic(Topic.DEAD_LETTERS)
enrolment_members = app.Table("enrolment-members", key_type=bytes, value_type=bytes)
metrics.declare(rules.rule_set, [Topic.ENROLMENTS, *PERSON_TOPICS])
delivery = Delivery(app)
person_stream = PersonStream(settings, rules)


@app.service
class PersonMatching(mode.Service):
    """The hot path (entrypoints/person_stream.py), started and stopped with the worker."""

    async def on_start(self) -> None:
        await person_stream.start()

    @mode.Service.task
    async def _run(self) -> None:
        await person_stream.run()

    async def on_stop(self) -> None:
        await person_stream.stop()


@app.timer(interval=STALL_SECONDS)
async def _audit_positions() -> None:
    """No record left behind at the tail of a partition (see Delivery.audit)."""
    try:
        await delivery.audit(set(enrolments_in.topics))
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
    metrics.EVENTS.labels("enrolment_recorded").inc()


@app.crontab(settings.daily_tick_cron, timezone=ZoneInfo(settings.timezone))
async def daily_tick() -> None:
    """A day passes: birthdays without events, rule versions taking effect on their date."""
    await run_sweep()


async def run_sweep() -> int:
    """The rules and policies over every person in this worker's partitions; returns how many
    messages were sent."""
    return await person_stream.sweep()


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
    metrics.FAILED.labels(event.message.topic).inc()
    log.error(
        "matcher_event_failed",
        topic=event.message.topic,
        partition=event.message.partition,
        offset=event.message.offset,
        error=type(exc).__name__,
    )
    await dead_letter(dead_letters_out, event, reason_of(exc))


@app.task
async def _configure_logging() -> None:
    configure_logging("matcher", settings.log_level)
