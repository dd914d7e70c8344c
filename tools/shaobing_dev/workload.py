"""A steady mixed stream of changes through a running stack, and what it must leave behind.

Enrolments through the api; deaths of recipients, household registrations of people of 85,
marriages and pensions through ingest, each posted as a source system would post it: again and
again until it is answered 2xx (Debezium Server's HTTP sink retries any other answer). What was
accepted is kept in a `Ledger`, and `problems` says what of it the stack has not honoured: every
death of an enrolled recipient has exactly one open STOP alert, every person of 85 registered here
was told once of each benefit (高龄津贴, the senior card), every accepted event was published,
and the matcher's state (its changelog) holds every person. The fault-injection suite and the
soak (`make faults`, `make soak`) drive the stack with it.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from shaobing_contracts.id_number import make_id_number
from shaobing_runtime.access import Role

from .debezium_feed import change_event
from .faults import bearer
from .stack import Stack

AREA = "310110009001"  # the workload's community, in the jurisdiction of the default rules
RECORDED = datetime(2026, 11, 20, 9, 30)  # the registries' wall clock of every change
DIED_ON = date(2026, 11, 1)
ELDER_POLICIES = frozenset({"gaoling-eligible", "senior-card"})
PERSON_CHANGELOG = "shaobing-matcher-person-state-changelog"
MIX = (("enrol", 30), ("die", 20), ("elder", 20), ("marry", 15), ("pension", 15))


@dataclass
class Ledger:
    """What the stack accepted (answered 2xx) from the workload."""

    enrolled: dict[str, str] = field(default_factory=dict)  # recipient → enrolment id
    dead: dict[str, str] = field(default_factory=dict)  # dead recipient → enrolment id
    elders: set[str] = field(default_factory=set)  # 85, registered here, never enrolled
    event_ids: set[UUID] = field(default_factory=set)  # every event ingest accepted
    posted: int = 0  # changes and enrolments accepted
    retries: int = 0  # answers that were not 2xx, or none at all


class Workload:
    """`rate` changes a second in ticks of `tick` seconds, from a background thread."""

    def __init__(
        self,
        stack: Stack,
        *,
        rate: float = 20,
        seed: int = 1,
        tick: float = 0.2,
        numbers: Iterator[int] | None = None,
    ):
        self.stack, self.rate, self.tick = stack, rate, tick
        self.ledger = Ledger()
        self._rng = random.Random(seed)
        self._seed = seed
        self._numbers = numbers or itertools.count(1)
        self._lsn = itertools.count(10_000_000_000 * seed, 300)
        self._stop = threading.Event()
        self._lock = threading.Lock()  # the ledger, between the stream and the checks
        self._alive: list[str] = []  # enrolled recipients not yet dead
        self._thread = threading.Thread(target=self._run, daemon=True, name="workload")
        self._clients = {
            "api": httpx.Client(
                base_url=stack.url("api"), headers=bearer(Role.CASEWORKER), timeout=30
            ),
            "ingest": httpx.Client(
                base_url=stack.url("ingest"), headers=bearer(Role.FEED), timeout=30
            ),
        }
        self.error: BaseException | None = None

    def __enter__(self) -> Workload:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(120)
        for client in self._clients.values():
            client.close()

    def _run(self) -> None:
        started = time.monotonic()
        try:
            for n in itertools.count(1):
                if self._stop.is_set():
                    return
                self._tick()
                time.sleep(max(0.0, started + n * self.tick - time.monotonic()))
        except BaseException as exc:  # the tests and the soak report it
            self.error = exc
            raise

    def _tick(self) -> None:
        """One tick's changes: enrolments first (a recipient must be enrolled before dying),
        then one post per source. The ledger changes under the lock, the posts outside it."""
        count = self._rng.random() < (self.rate * self.tick) % 1
        kinds = self._rng.choices(
            [k for k, _ in MIX], [w for _, w in MIX], k=int(self.rate * self.tick) + count
        )
        enrolments = [self._new_enrolment() for k in kinds if k == "enrol"]
        if enrolments:
            self._post("api", "/v1/enrolments", enrolments)
            with self._lock:
                for e in enrolments:
                    self.ledger.enrolled[e["beneficiary_id"]] = e["enrolment_id"]
                    self._alive.append(e["beneficiary_id"])
        changes: dict[str, list[tuple[dict[str, Any], Callable[[], None]]]] = {}
        with self._lock:
            for kind in kinds:
                made = getattr(self, f"_{kind}")() if kind != "enrol" else None
                if made:
                    source, change, accepted = made
                    changes.setdefault(source, []).append((change, accepted))
        for source, items in changes.items():
            answer = self._post("ingest", f"/v1/sources/{source}/changes", [c for c, _ in items])
            with self._lock:
                self.ledger.event_ids.update(UUID(i) for i in answer["event_ids"])
                for _, accepted in items:
                    accepted()

    def _post(self, client: str, path: str, body: list[dict[str, Any]]) -> dict[str, Any]:
        """Again and again until it is answered 2xx (or the workload stops)."""
        while True:
            try:
                answer = self._clients[client].post(path, json=body)
                if answer.is_success:
                    self.ledger.posted += len(body)
                    return answer.json()
            except httpx.HTTPError:
                pass
            self.ledger.retries += 1
            if self._stop.is_set():
                raise RuntimeError(f"stopped while {path} was refused")
            time.sleep(0.5)

    def _person(self, born: date) -> str:
        """A new ID number: n → (block, day, sequence) one to one, 13.5 million per seed."""
        block, rest = divmod(next(self._numbers), 300 * 499)
        division = f"31{self._seed % 90 + 10:02d}{block % 90 + 10:02d}"
        day, sequence = divmod(rest, 499)
        return make_id_number(division, born + timedelta(days=day), sequence * 2 + 1)

    def _new_enrolment(self) -> dict[str, Any]:
        person = self._person(date(1950, 1, 1))
        return {
            "enrolment_id": f"W{self._seed}-{next(self._numbers)}",
            "program": "DIBAO",
            "beneficiary_id": person,
            "household_members": [person],
            "monthly_amount": "1510.00",
            "area_code": AREA,
            "status": "ACTIVE",
            "start_month": "2024-01",
            "payout_account": "6222020200112233445",
        }

    def _living(self, k: int) -> list[str]:
        """`k` recipients alive (none until there are a few more than that)."""
        if len(self._alive) < k + 10:
            return []
        return [self._alive[i] for i in self._rng.sample(range(len(self._alive)), k)]

    def _change(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        return change_event(
            table, "c", row, lsn=next(self._lsn), with_schema=False, committed_at=RECORDED
        )

    def _die(self):
        if len(self._alive) < 11:
            return None
        at = self._rng.randrange(len(self._alive))  # taken out of the living: swap and pop
        self._alive[at], self._alive[-1] = self._alive[-1], self._alive[at]
        return self._die_of(self._alive.pop())

    def _die_of(self, person: str):
        self.ledger.dead[person] = ""  # not to die twice; the enrolment is set once accepted
        row = {
            "certificate_no": f"SW-W{self._seed}-{next(self._numbers):08d}",
            "id_number": person,
            "date_of_death": DIED_ON,
            "source": "MEDICAL",
            "recorded_at": RECORDED,
        }

        def accepted() -> None:
            self.ledger.dead[person] = self.ledger.enrolled[person]

        return "death", self._change("death.registrations", row), accepted

    def _elder(self):
        person = self._person(date(1941, 1, 1))  # 85 from January to late October 2026
        row = {
            "id_number": person,
            "name": "王秀英",
            "gender": "2",
            "birth_date": date(int(person[6:10]), int(person[10:12]), int(person[12:14])),
            "household_no": f"H{person[-6:]}",
            "relation_to_head": "01",
            "area_code": AREA,
            "address": "杨浦区",
            "status": "ACTIVE",
            "updated_at": RECORDED,
        }
        change = self._change("hukou.population", row)
        return "hukou", change, lambda: self.ledger.elders.add(person)

    def _marry(self):
        pair = self._living(2)
        if not pair:
            return None
        row = {
            "registration_no": f"J-W{self._seed}-{next(self._numbers)}",
            "kind": "MARRIAGE",
            "party_a_id": pair[0],
            "party_b_id": pair[1],
            "registered_on": date(2026, 11, 2),
            "office_code": "310110000000",
        }
        return "marriage", self._change("marriage.registrations", row), lambda: None

    def _pension(self):
        [person] = self._living(1) or [None]
        if person is None:
            return None
        row = {
            "id_number": person,
            "pension_status": "RECEIVING",
            "pension_monthly_amount": Decimal("3200.00"),
            "employment_status": "UNEMPLOYED",
            "employer_uscc": None,
            "contribution_base": Decimal("0.00"),
            "unemployment_benefit": Decimal("0.00"),
            "updated_at": RECORDED,
        }
        return "social_security", self._change("social_security.person_status", row), lambda: None

    def snapshot(self) -> Ledger:
        """What was accepted up to now (the stream goes on adding to the ledger)."""
        with self._lock:
            ledger = self.ledger
            return Ledger(
                dict(ledger.enrolled),
                dict(ledger.dead),
                set(ledger.elders),
                set(ledger.event_ids),
                ledger.posted,
                ledger.retries,
            )

    def problems(self, ledger: Ledger) -> list[str]:
        """What of `ledger` the stack has not honoured (empty: everything holds)."""
        found = asyncio.run(_read(self.stack, ledger))
        wrong = []
        bad_deaths = sorted(e for e in ledger.dead.values() if e and found.open_stops.get(e) != 1)
        if bad_deaths:
            wrong.append(
                f"{len(bad_deaths)} dead recipients without exactly one open STOP alert "
                f"(e.g. {bad_deaths[:3]})"
            )
        if found.raised_twice:
            wrong.append(f"{found.raised_twice} alerts raised twice")
        untold = sorted(p for p in ledger.elders if found.elder_policies.get(p) != ELDER_POLICIES)
        if untold or found.notified_twice:
            wrong.append(
                f"{len(untold)} of {len(ledger.elders)} elders not told once of each of "
                f"{sorted(ELDER_POLICIES)} (e.g. {untold[:3]}); {found.notified_twice} told twice"
            )
        missing = len(ledger.event_ids) - found.published
        if missing:
            wrong.append(f"{missing} of {len(ledger.event_ids)} accepted events not published")
        people = set(ledger.enrolled) | ledger.elders
        unknown = sorted(people - found.states)
        if unknown:
            wrong.append(
                f"{len(unknown)} of {len(people)} people not in the matcher's state "
                f"(e.g. {unknown[:3]})"
            )
        return wrong

    def settled(self, timeout: float) -> list[str]:
        """Wait until what was accepted up to now is honoured, or `timeout` passes; what is
        still wrong."""
        ledger, deadline = self.snapshot(), time.monotonic() + timeout
        while (wrong := self.problems(ledger)) and time.monotonic() < deadline:
            time.sleep(2)
        return wrong


@dataclass
class _Found:
    open_stops: dict[str, int]
    raised_twice: int
    elder_policies: dict[str, frozenset[str]]
    notified_twice: int
    published: int
    states: set[str]


async def _read(stack: Stack, ledger: Ledger) -> _Found:
    conn = await asyncpg.connect(stack.database_url)
    try:
        stops = await conn.fetch(
            """select enrolment_id, count(*) as n from alerts
               where rule_id = 'death-of-beneficiary' and status = 'OPEN'
                 and enrolment_id = any($1) group by 1""",
            list(ledger.dead.values()),
        )
        twice = await conn.fetchval(
            """select count(*) from (select alert_id from alert_events where kind = 'RAISED'
               group by alert_id having count(*) > 1) doubled"""
        )
        notified = await conn.fetch(
            """select id_number, policy_id, count(*) as n from notifications
               where id_number = any($1) group by 1, 2""",
            list(ledger.elders),
        )
        published = await conn.fetchval(
            "select count(*) from event_log where event_id = any($1) and published_at is not null",
            list(ledger.event_ids),
        )
    finally:
        await conn.close()
    policies: dict[str, set[str]] = {}
    for row in notified:
        policies.setdefault(row["id_number"], set()).add(row["policy_id"])
    return _Found(
        open_stops={r["enrolment_id"]: r["n"] for r in stops},
        raised_twice=twice,
        elder_policies={p: frozenset(v) for p, v in policies.items()},
        notified_twice=sum(1 for r in notified if r["n"] > 1),
        published=published,
        states=await changelog_keys(stack.bootstrap),
    )


async def changelog_keys(bootstrap: str) -> set[str]:
    """The people whose state the matcher's changelog holds: read up to the end it had when
    asked (as the matcher's recovery reads it: the embedded broker's end offset is the last
    batch's base + 1, so a position at or past it has read everything)."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await reader.start()
    keys: set[str] = set()
    try:
        await reader.topics()  # the cluster's metadata, which partitions_for_topic reads
        partitions = reader.partitions_for_topic(PERSON_CHANGELOG) or set()
        tps = [TopicPartition(PERSON_CHANGELOG, p) for p in partitions]
        reader.assign(tps)
        await reader.seek_to_beginning(*tps)
        ends = await reader.end_offsets(tps)
        pending = {tp for tp in tps if ends[tp] > 0}
        while pending:
            batches = await reader.getmany(*pending, timeout_ms=1000, max_records=50_000)
            keys.update(r.key.decode() for records in batches.values() for r in records if r.key)
            pending = {tp for tp in pending if await reader.position(tp) < ends[tp]}
    finally:
        await reader.stop()
    return keys


PROBE_SEED = 99  # the probes' people and enrolments: no workload of seeds 1-88 shares them
_probes = itertools.count(1)  # one numbering for every probe of the process


@dataclass(frozen=True)
class Probe:
    """How long a new death took to become an alert, and where the time went."""

    seconds: float  # from the start until the alert was stored (or the timeout)
    enrolled: float  # until the enrolment was accepted
    posted: float  # until the death was accepted


def probe(stack: Stack, *, timeout: float) -> Probe:
    """A new recipient enrolled and their death posted (each until answered 2xx), then waited
    for until its alert is stored or `timeout` passes."""
    started = time.monotonic()
    prober = Workload(stack, rate=0, seed=PROBE_SEED, numbers=_probes)
    enrolment = prober._new_enrolment()
    person = enrolment["beneficiary_id"]
    prober._post("api", "/v1/enrolments", [enrolment])
    enrolled = time.monotonic() - started
    prober.ledger.enrolled[person] = enrolment["enrolment_id"]
    _, change, _ = prober._die_of(person)
    prober._post("ingest", "/v1/sources/death/changes", [change])
    posted = time.monotonic() - started
    while time.monotonic() - started <= timeout:
        if asyncio.run(_alerted(stack.database_url, enrolment["enrolment_id"])):
            break
        time.sleep(0.25)
    for client in prober._clients.values():
        client.close()
    return Probe(time.monotonic() - started, enrolled, posted)


async def _alerted(database_url: str, enrolment_id: str) -> bool:
    conn = await asyncpg.connect(database_url)
    try:
        found = await conn.fetchval("select 1 from alerts where enrolment_id = $1", enrolment_id)
        return bool(found)
    finally:
        await conn.close()
