"""The composition root of the matcher (`python -m shaobing_matcher`): one faust worker hosting
the two batched streams as services (the enrolment fan-out, entrypoints/enrolment_fan_out.py,
and the hot path, entrypoints/person_stream.py, each a step of the stream engine,
adapters/batched_stream.py), the web pages, the daily sweep's crontab and the logging set-up.
faust itself consumes and produces nothing: no agent, no table, no consumer group of its own
(see `_WebAndTimersOnly`)."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

import faust
import mode
from faust.app.base import BootStrategy
from faust.web.drivers.aiohttp import Web

from shaobing_contracts.topics import Topic
from shaobing_rules.files import RuleFiles
from shaobing_runtime.logging import configure_logging

from .config import MatcherSettings
from .entrypoints import metrics
from .entrypoints.enrolment_fan_out import EnrolmentFanOut
from .entrypoints.person_stream import PERSON_TOPICS, PersonStream

settings = MatcherSettings()
rules = RuleFiles(settings.rules_dir)  # invalid rules stop the worker at start


class _WebAndTimersOnly(BootStrategy):
    """faust without its Kafka consumer, producer, conductor and tables: it joined a consumer
    group of its own at every start (13-18 s) for the fan-out agent the batched streams
    replaced."""

    enable_kafka = False


class _ShaobingPagesOnly(Web):
    """faust's web server without faust's own pages (/router, /table, its index, statistics,
    graph, performance): the port serves only what web.py registers."""

    default_blueprints = production_blueprints = debug_blueprints = optional_blueprints = ()


class _Matcher(faust.App):
    BootStrategy = _WebAndTimersOnly

    def _new_web(self) -> Web:
        return _ShaobingPagesOnly(self)


app = _Matcher(
    settings.app_id,
    broker=[f"kafka://{b}" for b in settings.kafka_bootstrap_servers.split(",")],
    store="memory://",  # faust keeps no table; the streams' stores are settings.store
    datadir=settings.data_dir,
    web_host="0.0.0.0",
    web_port=settings.port,
    web_in_thread=False,
)
metrics.declare(rules.rule_set, [Topic.ENROLMENTS, *PERSON_TOPICS])
fan_out = EnrolmentFanOut(settings)
person_stream = PersonStream(settings, rules)
STREAMS = (fan_out.stream, person_stream.stream)


@app.service
class BatchedStreams(mode.Service):
    """The enrolment fan-out and the hot path, started, run and stopped with the worker."""

    async def on_start(self) -> None:
        await asyncio.gather(*(stream.start() for stream in STREAMS))

    @mode.Service.task
    async def _run(self) -> None:
        await asyncio.gather(*(stream.run() for stream in STREAMS))

    async def on_stop(self) -> None:
        for stream in STREAMS:
            await stream.stop()


def unready() -> dict[str, str]:
    """Why each stream that cannot do its job cannot (none: ready): it has no partitions, its
    states are not recovered yet, or its batches have failed for a while."""
    found = {}
    for stream in STREAMS:
        problem = stream.health.problem()
        if problem is None and not stream.ready:
            problem = "partitions not assigned or their states not recovered yet"
        if problem:
            found[stream.group] = problem
    return found


@app.crontab(settings.daily_tick_cron, timezone=ZoneInfo(settings.timezone))
async def daily_tick() -> None:
    """A day passes: birthdays without events, rule versions taking effect on their date."""
    await run_sweep()


async def run_sweep(*, resend: bool = False) -> int:
    """The rules and policies over every person in this worker's partitions (everything that
    holds sent again, with `resend`); returns how many messages were sent."""
    return await person_stream.sweep(resend=resend)


@app.task
async def _configure_logging() -> None:
    configure_logging("matcher", settings.log_level)


def main() -> None:
    """Run the worker until it is stopped."""
    # Not faust's `worker` command: it redirects stdout into faust's own logger, which swallowed
    # the JSON logs (shaobing_runtime.logging writes them to stdout). The web port is the app's.
    faust.Worker(
        app, loglevel=settings.log_level.lower(), redirect_stdouts=False
    ).execute_from_commandline()
