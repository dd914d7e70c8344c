"""One real stack (Tansu broker, embedded PostgreSQL, the four services) per test session."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest

from shaobing_contracts.id_number import birth_date_of, make_id_number
from shaobing_contracts.provenance import SourceSystem
from shaobing_dev.city import DeathRecord
from shaobing_dev.debezium_feed import death_change_events
from shaobing_dev.stack import Stack, StackConfig, free_ports
from shaobing_runtime.access import Role
from shaobing_runtime.partitioning import partition_of
from shaobing_runtime.settings import CommonSettings
from shaobing_runtime.tokens import issue_token

AREA = "310110"
COMMUNITY = "310110001001"
OTHER_COMMUNITY = "310110002001"
DEBEZIUM_TOPIC = "civil.death.registrations"  # as a Debezium connector named "civil" names it
# Not the development default: an api started as outside development shares it.
AUDIT_CHAIN_KEY = "integration-tests-audit-chain-key-0123456789"
PAYOUT_STALL_SECONDS = 10  # short, so that a test sees what the stall watcher does
ALL_SOURCES = tuple(SourceSystem)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    config = StackConfig(
        upstream_topics=(DEBEZIUM_TOPIC,),
        extra_env={
            "INGEST_DEBEZIUM_TOPICS": f"{DEBEZIUM_TOPIC}=death",
            "ALERTS_ESCALATION_SECONDS": "1",
            "API_PAYOUT_STALL_SECONDS": str(PAYOUT_STALL_SECONDS),
            "AUDIT_ANCHOR_SECONDS": "1",
            "AUDIT_CHAIN_KEY": AUDIT_CHAIN_KEY,
            "INGEST_MAX_CSV_BYTES": str(512 * 1024),  # test_least_privilege passes it
        },
        var_dir=Path(tmp_path_factory.mktemp("stack")),
        ports=free_ports(),
        quiet=True,
    )
    with Stack(config) as running:
        yield running


def token(role: Role, areas: list[str], *, sources: Sequence[str] = ()) -> dict[str, str]:
    """Bearer headers; a feed posts only to the `sources` named."""
    value = issue_token(
        CommonSettings(), subject=f"test-{role.value}", role=role, areas=areas, sources=sources
    )
    return {"authorization": f"Bearer {value}"}


def _client(stack: Stack, service: str, headers: dict[str, str]) -> httpx.Client:
    return httpx.Client(base_url=stack.url(service), timeout=60, headers=headers)


@pytest.fixture(scope="session")
def api(stack: Stack) -> Iterator[httpx.Client]:
    """The api as a case worker of the test district."""
    with _client(stack, "api", token(Role.CASEWORKER, [AREA])) as client:
        yield client


@pytest.fixture(scope="session")
def ingest(stack: Stack) -> Iterator[httpx.Client]:
    """ingest as a feed of every source system."""
    with _client(stack, "ingest", token(Role.FEED, [AREA], sources=ALL_SOURCES)) as client:
        yield client


_people = itertools.count(1)


def new_person(born: date = date(1941, 5, 17)) -> str:
    """A fresh valid ID number no other test uses."""
    n = next(_people)
    return make_id_number("310110", born.replace(day=1 + n // 400 % 28), n % 400 * 2 + 1)


def person_beside(other: str, partitions: int, born: date = date(1941, 5, 17)) -> str:
    """A fresh person whose events share a partition with `other`'s (matched in order after
    theirs)."""
    wanted, person = partition_of(other.encode(), partitions), new_person(born)
    while partition_of(person.encode(), partitions) != wanted:
        person = new_person(born)
    return person


def enrolment(
    person: str,
    *,
    members: list[str] | None = None,
    area: str = COMMUNITY,
    status: str = "ACTIVE",
    program: str = "DIBAO",
) -> dict:
    return {
        "enrolment_id": f"T-{person[-8:]}-{next(_people)}",
        "program": program,
        "beneficiary_id": person,
        "household_members": [person, *(members or [])],
        "monthly_amount": "1510.00",
        "area_code": area,
        "status": status,
        "start_month": "2024-01",
        "payout_account": "6222020200112233445",
    }


def death_of(person: str, *, certificate: str | None = None, died: date = date(2026, 9, 5)) -> dict:
    record = DeathRecord(
        certificate or f"SW-T-{next(_people):07d}",
        person,
        died,
        "MEDICAL",
        datetime(2026, 11, 20, 9, 30),
    )
    return death_change_events(
        [record], with_schema=True, start_lsn=20_000_000 + next(_people) * 100
    )[0]


def eventually(probe: Callable[[], object], *, timeout: float = 60, every: float = 0.3):
    """Poll until probe returns something truthy; fail with the last value after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s (last: {value!r})")
        time.sleep(every)


def alerts_for(api: httpx.Client, **filters: str) -> list[dict]:
    response = api.get("/v1/alerts", params={"limit": 500, **filters})
    response.raise_for_status()
    return response.json()["items"]


def dead_beneficiary(api: httpx.Client, ingest: httpx.Client) -> tuple[str, dict, dict]:
    """A new beneficiary enrolled, then their death posted: (person, enrolment, its alert)."""
    person = new_person()
    record = enrolment(person)
    api.post("/v1/enrolments", json=record).raise_for_status()
    ingest.post("/v1/sources/death/changes", content=orjson.dumps([death_of(person)]))
    [alert] = eventually(lambda: alerts_for(api, enrolment_id=record["enrolment_id"]))
    return person, record, alert


_lsn = itertools.count(90_000_000, 100)
TODAY_MICROS = 1_795_600_000_000_000  # 2026-11-24, wall clock


def change_of(table: str, after: dict, *, op: str = "c") -> dict:
    """A Debezium change event (no schema envelope) of `table` with this after-image."""
    schema, name = table.split(".")
    lsn = next(_lsn)
    return {
        "before": None,
        "after": after,
        "op": op,
        "ts_ms": 1_795_600_000_000,
        "source": {
            "version": "2.7.3.Final",
            "connector": "postgresql",
            "name": "civil",
            "ts_ms": 1_795_600_000_000,
            "snapshot": "false",
            "db": "registry",
            "schema": schema,
            "table": name,
            "txId": lsn // 100,
            "lsn": lsn,
        },
    }


def epoch_days(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def post_changes(ingest, source: str, changes: list[dict]) -> dict:
    response = ingest.post(f"/v1/sources/{source}/changes", content=orjson.dumps(changes))
    assert response.status_code == 200, response.text
    return response.json()


def hukou_row(person: str, *, area: str = "310110001001", status: str = "ACTIVE") -> dict:
    """A household-registration row (hukou.population) as the registry's table holds it."""
    return {
        "id_number": person,
        "name": "王秀英",
        "gender": "2",
        "birth_date": epoch_days(birth_date_of(person)),
        "household_no": "H77",
        "relation_to_head": "户主",
        "area_code": area,
        "address": "杨浦区",
        "status": status,
        "updated_at": TODAY_MICROS,
    }


def marriage_row(a: str, b: str, *, on: date = date(2026, 11, 2)) -> dict:
    """A marriage registration (marriage.registrations) of two people, as the registry holds it."""
    return {
        "registration_no": f"J-{a[-6:]}",
        "kind": "MARRIAGE",
        "party_a_id": a,
        "party_b_id": b,
        "registered_on": epoch_days(on),
        "office_code": "310110000000",
    }


async def _fetch(database_url: str, query: str, *args) -> list:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


def fetch(database_url: str, query: str, *args) -> list:
    """One statement on its own connection (behind the services' backs), as the role the URL
    names: `stack.owner_database_url` or the services' `stack.database_url`."""
    return asyncio.run(_fetch(database_url, query, *args))


def audit_command(stack: Stack, command: str) -> subprocess.CompletedProcess:
    """`python -m shaobing_runtime.audit verify|anchor` with the api's settings (its role, key
    and anchors)."""
    return subprocess.run(
        [sys.executable, "-m", "shaobing_runtime.audit", command],
        env={**os.environ, **stack.service_env("api")},
        capture_output=True,
        text=True,
        timeout=120,
    )


class _Undo(Exception):
    pass


async def attempt(database_url: str, sql: str) -> str:
    """What PostgreSQL answers `sql` as the role the URL names (undone whatever it did): the
    error's name, or 'done'."""
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute(sql)
            raise _Undo
    except _Undo:
        return "done"
    except asyncpg.PostgresError as exc:
        return type(exc).__name__
    finally:
        await conn.close()
