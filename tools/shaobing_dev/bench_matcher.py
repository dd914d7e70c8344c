"""`make bench` (matcher part): the matcher alone on a city's facts, against the raw consume rate.

Only the matcher runs (with the embedded broker). The load is produced straight onto its input
topics as the contracts define them: every resident's household registration, the enrolments
(fanned out to their members by the matcher itself) and a month of deaths. The matcher's
sustained rate is events processed over the time from the first to the last; the physical limit
is a plain aiokafka consumer reading the same person-keyed messages in the same run. The worker's
resident memory and the size of its state on disk are reported too, and how long the worker,
restarted without its local state, takes to be ready again (every state read back from the
changelog). `--workers N` shares the partitions among N worker processes (memory and disk are
their sums); `--without-rules` runs with no rule and no policy in force: the machinery alone.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shaobing_contracts.codec import encode
from shaobing_contracts.death import DeathRegistered
from shaobing_contracts.enrolment import Enrolment, EnrolmentFacts, EnrolmentRecorded
from shaobing_contracts.hukou import Gender, HukouStatus, PersonRegistered
from shaobing_contracts.provenance import Channel, Provenance, SourcePosition, SourceSystem
from shaobing_contracts.topics import Topic
from shaobing_matcher.adapters.state_store import open_store
from shaobing_matcher.domain.batch import encode_state
from shaobing_matcher.domain.facts import fold
from shaobing_matcher.domain.person import PersonState
from shaobing_matcher.entrypoints.person_stream import PERSON_STATE
from shaobing_runtime.partitioning import partition_of

from .bench_record import append_row, machine
from .city import City, DeathRecord, Resident, deaths_for, enrolments_for, generate_city
from .stack import Stack, StackConfig, answers, free_ports, wait_until

SHANGHAI = ZoneInfo("Asia/Shanghai")
_IDS = uuid.UUID("5b7c0e1a-8f0d-4a53-9d0e-3c2b1a0f9e87")


def _provenance(system: SourceSystem, table: str, key: str, at: datetime | None) -> Provenance:
    return Provenance(
        source_system=system,
        table=table,
        primary_key=key,
        position=SourcePosition(op="r", snapshot=True),
        channel=Channel.DEBEZIUM_KAFKA,
        ingested_at=at or datetime.now(UTC),
    )


def person_registered(r: Resident, ingested_at: datetime | None = None) -> PersonRegistered:
    """The resident's household registration (`ingested_at`: now when not given)."""
    at = datetime(2026, 1, 1, tzinfo=SHANGHAI)
    return PersonRegistered(
        event_id=uuid.uuid5(_IDS, f"registered|{r.id_number}"),
        id_number=r.id_number,
        recorded_at=at,
        provenance=_provenance(SourceSystem.HUKOU, "hukou.population", r.id_number, ingested_at),
        occurred_on=at.date(),
        gender=Gender.MALE if r.gender == "1" else Gender.FEMALE,
        birth_date=r.birth_date,
        household_no=r.household_no,
        relation_to_head=r.relation_to_head,
        area_code=r.area_code,
        status=HukouStatus.ACTIVE,
    )


def _registrations(city: City) -> list[tuple[str, bytes, bytes]]:
    return [
        (Topic.HUKOU, r.id_number.encode(), encode(person_registered(r))) for r in city.residents
    ]


def _preload(city: City, data_dir: Path, partitions: int) -> None:
    """Every resident's state after their registration, written straight into the worker's store,
    as if the registrations had been matched before (a city on disk without hours of matching)."""
    store = open_store("rocksdb://", data_dir / PERSON_STATE)
    pending: dict[int, dict[bytes, bytes]] = {}
    try:
        for r in city.residents:
            key, partition = r.id_number.encode(), partition_of(r.id_number.encode(), partitions)
            states = pending.setdefault(partition, {})
            state = fold(PersonState(id_number=r.id_number), person_registered(r))
            states[key] = encode_state(state)
            if len(states) == 10_000:
                store.write(partition, pending.pop(partition), -1)  # -1: no changelog read yet
        for partition, states in pending.items():
            store.write(partition, states, -1)
    finally:
        store.close()


def enrolment_recorded(e: Enrolment) -> EnrolmentRecorded:
    facts = EnrolmentFacts.model_validate(e.model_dump(exclude={"payout_account"}))
    return EnrolmentRecorded(
        event_id=uuid.uuid5(_IDS, f"enrolment|{e.enrolment_id}"),
        recorded_at=datetime(2026, 2, 1, tzinfo=SHANGHAI),
        enrolment=facts,
    )


def _enrolments(enrolled: list[Enrolment]) -> list[tuple[str, bytes, bytes]]:
    return [
        (Topic.ENROLMENTS, e.enrolment_id.encode(), encode(enrolment_recorded(e))) for e in enrolled
    ]


def death_registered(d: DeathRecord, ingested_at: datetime | None = None) -> DeathRegistered:
    """The death registration (`ingested_at`: now when not given)."""
    return DeathRegistered(
        event_id=uuid.uuid5(_IDS, f"death|{d.certificate_no}"),
        id_number=d.id_number,
        recorded_at=d.recorded_at.replace(tzinfo=SHANGHAI),
        provenance=_provenance(
            SourceSystem.DEATH, "death.registrations", d.certificate_no, ingested_at
        ),
        certificate_no=d.certificate_no,
        date_of_death=d.date_of_death,
        death_source=d.source,
    )


def _deaths(city: City, enrolled: list[Enrolment], count: int) -> list[tuple[str, bytes, bytes]]:
    start = datetime.now().replace(microsecond=0) - timedelta(days=30)
    return [
        (Topic.DEATH, d.id_number.encode(), encode(death_registered(d)))
        for d in deaths_for(city, enrolled, count=count, start=start)
    ]


async def _produce(bootstrap: str, messages: list[tuple[str, bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=1 << 20, acks=1
    )
    await producer.start()
    try:
        pending = [await producer.send(t, key=k, value=v) for t, k, v in messages]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def _raw_consume_rate(bootstrap: str, topics: tuple[str, ...], expected: int) -> float:
    """Messages per second a plain consumer reads the same person-keyed topics at."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        started, read = time.perf_counter(), 0
        while read < expected:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            read += sum(len(b) for b in batches.values())
        return read / (time.perf_counter() - started)
    finally:
        await consumer.stop()


def events_processed(stack: Stack, workers: list[str]) -> float:
    """Events the matcher workers have processed, by their metrics."""
    prefix = "shaobing_matcher_events_total{"
    total = 0.0
    for worker in workers:
        text = httpx.get(f"{stack.url(worker)}/metrics", timeout=10).text
        lines = (line for line in text.splitlines() if line.startswith(prefix))
        total += sum(float(line.rsplit(" ", 1)[1]) for line in lines)
    return total


def _start_workers(stack: Stack, workers: list[str]) -> None:
    """The other workers, then all of them ready at once (each join moves partitions)."""
    for worker in workers[1:]:
        stack.start_service(worker)

    def all_ready() -> bool:
        return all(answers(f"{stack.url(w)}/readyz") for w in workers)

    wait_until(all_ready, 600, "every matcher worker ready")


def _no_rules(var: Path) -> Path:
    """A rules directory with no rule and no policy: the matcher's machinery alone."""
    rules = var / "no-rules"
    rules.mkdir()
    (rules / "verification.yaml").write_text("rules: []\n")
    (rules / "policies.yaml").write_text("policies: []\n")
    return rules


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _disk_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def _recovery_seconds(stack: Stack) -> float:
    """From a restart without local state to ready: the whole changelog read back."""
    stack.stop_service("matcher")
    shutil.rmtree(stack.config.var_dir / "matcher")
    started = time.perf_counter()
    stack.start_service("matcher")
    stack.wait_ready(("matcher",), timeout=600)
    return time.perf_counter() - started


def run(
    people: int,
    deaths: int,
    store: str,
    *,
    preloaded: bool = False,
    workers: int = 1,
    rules: bool = True,
) -> dict:
    """`preloaded`: the residents' states are written into the store before the worker starts
    instead of their registrations being matched, and only enrolments and deaths are sent;
    `workers`: matcher workers sharing the partitions; without `rules`: none in force."""
    city = generate_city(people)
    enrolled = enrolments_for(city)
    registrations = [] if preloaded else _registrations(city)
    enrolments, death_messages = _enrolments(enrolled), _deaths(city, enrolled, deaths)
    members = sum(len(e.household_members) for e in enrolled)
    expected = len(registrations) + len(enrolments) + members + len(death_messages)
    names = ["matcher", *(f"matcher-{n}" for n in range(2, workers + 1))]
    with tempfile.TemporaryDirectory() as var:
        ports = free_ports()
        env = {"MATCHER_STORE": store}
        if not rules:
            env["RULES_DIR"] = str(_no_rules(Path(var)))
        config = StackConfig(
            var_dir=Path(var),
            ports=ports,
            quiet=True,
            services=() if preloaded else ("matcher",),
            extra_env=env,
        )
        with Stack(config) as stack:
            if preloaded:
                _preload(city, Path(var) / "matcher", config.partitions)
                stack.start_service("matcher")
                stack.wait_ready(("matcher",), timeout=600)
            _start_workers(stack, names)
            del city
            started = time.perf_counter()
            asyncio.run(_produce(stack.bootstrap, registrations + enrolments + death_messages))
            while events_processed(stack, names) < expected:
                time.sleep(0.5)
            seconds = time.perf_counter() - started
            person_topics = (Topic.HUKOU, Topic.DEATH, Topic.PERSON_ENROLMENTS)
            person_messages = expected - len(enrolments)
            raw = asyncio.run(_raw_consume_rate(stack.bootstrap, person_topics, person_messages))
            rss = sum(_rss_mib(stack.processes[w].pid) for w in names)
            disk = sum(_disk_mib(Path(var) / w) for w in names)
            return {
                "people": people,
                "enrolments": len(enrolments),
                "events": expected,
                "store": store,
                "eps": expected / seconds,
                "raw_eps": raw,
                "rss_mib": rss,
                "disk_mib": disk,
                # preloaded states are not in the changelog: a rebuild from it would say nothing;
                # with several workers, the others would take the restarted one's partitions
                "recovery_s": None if preloaded or workers > 1 else _recovery_seconds(stack),
            }


_HEADING = "## Matcher: a city's facts through the rules (`make bench`)"
_COLUMNS = ["date", "command", "machine", "people", "enrolments", "events", "store"]
_COLUMNS += ["matcher ev/s", "raw consume ev/s", "matcher / raw", "RSS MiB", "state on disk MiB"]
_COLUMNS += ["ready after restart without local state, s"]


def _record(r: dict, command: str) -> str:
    row = [f"{date.today()}", f"`{command}`", machine()]
    row += [f"{r[k]:,}" for k in ("people", "enrolments", "events")] + [f"`{r['store']}`"]
    row += [f"{r['eps']:,.0f}", f"{r['raw_eps']:,.0f}", f"{r['eps'] / r['raw_eps']:.1%}"]
    recovery = "–" if r["recovery_s"] is None else f"{r['recovery_s']:,.1f}"
    row += [f"{r['rss_mib']:,.0f}", f"{r['disk_mib']:,.0f}", recovery]
    return append_row(_HEADING, _COLUMNS, row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--deaths", type=int, default=5_000)
    parser.add_argument("--store", default="rocksdb://")
    parser.add_argument(
        "--preloaded",
        action="store_true",
        help="write the residents' states into the store first; send only enrolments and deaths",
    )
    parser.add_argument("--workers", type=int, default=1, help="matcher workers (processes)")
    parser.add_argument(
        "--without-rules", action="store_true", help="no rule or policy: the machinery alone"
    )
    args = parser.parse_args()
    if args.preloaded and args.workers > 1:
        parser.error("--preloaded writes one worker's store: use it with --workers 1")
    result = run(
        args.people,
        args.deaths,
        args.store,
        preloaded=args.preloaded,
        workers=args.workers,
        rules=not args.without_rules,
    )
    flags = " --preloaded" if args.preloaded else ""
    flags += f" --workers {args.workers}" if args.workers > 1 else ""
    flags += " --without-rules" if args.without_rules else ""
    command = f"make bench MATCHER_ARGS='--people {args.people} --deaths {args.deaths}{flags}'"
    print(_record(result, command))


if __name__ == "__main__":
    main()
