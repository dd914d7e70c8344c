"""An audit trail its keeper cannot rewrite: what the database's owner does behind the services'
backs (truncate, delete the tail, rewrite an entry and recompute the chain) is reported by the
verify command and the api; the services connect as a role that may only read and append."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import asyncpg
import httpx
import orjson

from shaobing_runtime import audit
from shaobing_runtime.access import Role
from shaobing_runtime.audit_chain import entry_hash
from shaobing_runtime.settings import CommonSettings
from shaobing_runtime.tokens import issue_token

from .conftest import (
    AREA,
    OTHER_COMMUNITY,
    attempt,
    audit_command,
    dead_beneficiary,
    eventually,
    fetch,
    token,
)


def _owner(stack) -> str:
    return stack.owner_database_url


def _services(stack) -> str:
    return stack.service_env("api")["DATABASE_URL"]


def test_truncating_the_audit_trail_is_refused_even_to_its_owner(stack):
    assert asyncio.run(attempt(_owner(stack), "truncate audit_log")) == "RaiseError"


def test_the_services_connect_as_a_role_that_may_neither_alter_nor_rewrite_the_trail(stack):
    [owner] = fetch(_owner(stack), "select tableowner from pg_tables where tablename = 'audit_log'")
    sessions = fetch(
        stack.superuser_database_url,  # the owner sees no more than the names of others' sessions
        """select distinct usename from pg_stat_activity
           where datname = current_database() and backend_type = 'client backend'
             and pid <> pg_backend_pid()""",
    )
    service_role = urlsplit(_services(stack)).username

    assert {s["usename"] for s in sessions} == {service_role}
    assert service_role != owner["tableowner"]
    attempts = [
        "update audit_log set actor = actor",
        "delete from audit_log",
        "truncate audit_log",
        "alter table audit_log disable trigger user",
    ]
    answers = {sql: asyncio.run(attempt(_services(stack), sql)) for sql in attempts}
    assert answers == dict.fromkeys(attempts, "InsufficientPrivilegeError")


def _auditor(stack, areas: list[str]) -> httpx.Client:
    return httpx.Client(base_url=stack.url("api"), headers=token(Role.AUDITOR, areas), timeout=60)


def test_an_auditor_of_the_area_sees_a_supervisors_list_read_of_full_id_numbers(stack, api, ingest):
    _, record, alert = dead_beneficiary(api, ingest)
    supervisor = token(Role.SUPERVISOR, [AREA])
    query = {"enrolment_id": record["enrolment_id"]}
    httpx.get(f"{stack.url('api')}/v1/alerts", params=query, headers=supervisor).raise_for_status()

    seen = {"area": [AREA], "elsewhere": [OTHER_COMMUNITY]}
    for who, areas in seen.items():
        with _auditor(stack, areas) as auditor:
            entries = auditor.get("/v1/audit", params={"object_id": alert["id"]}).json()["items"]
            seen[who] = [(e["action"], e["actor"], e["area_code"]) for e in entries]

    assert ("alert.list_read", "test-supervisor", record["area_code"]) in seen["area"]
    assert seen["elsewhere"] == []


def _verification(stack) -> dict:
    with _auditor(stack, [AREA]) as auditor:
        return auditor.get("/v1/audit/verification").json()


def _new_entry(stack, subject: str) -> int:
    """One more audit entry (an export of the queue by `subject`): its seq."""
    value = issue_token(CommonSettings(), subject=subject, role=Role.CASEWORKER, areas=[AREA])
    httpx.get(
        f"{stack.url('api')}/v1/alerts/queue/export",
        params={"format": "csv"},
        headers={"authorization": f"Bearer {value}"},
        timeout=60,
    ).raise_for_status()
    [row] = fetch(_owner(stack), "select max(seq) as seq from audit_log where actor = $1", subject)
    return row["seq"]


def test_the_api_anchors_the_chains_head_outside_the_database(stack):
    seq = _new_entry(stack, "anchored-1")

    anchored = eventually(lambda: (_verification(stack).get("anchored_seq") or 0) >= seq)

    assert anchored and _verification(stack)["intact"] is True


Tamper = Callable[[asyncpg.Connection], Awaitable[object]]


async def _tampered(stack, tamper: Tamper) -> tuple[subprocess.CompletedProcess, dict]:
    """What the verify command and the api answer while the owner's `tamper` is in place.

    The owner's connection holds the chain's lock, so no append interleaves, and puts every
    entry back as it was afterwards."""
    conn = await asyncpg.connect(_owner(stack))
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=lambda v: orjson.dumps(v).decode(),
        decoder=orjson.loads,
    )
    await conn.execute("select pg_advisory_lock($1)", audit.CHAIN_LOCK)
    before = await conn.fetch("select * from audit_log order by seq")
    try:
        async with conn.transaction():
            await conn.execute("alter table audit_log disable trigger user")
            await tamper(conn)
            await conn.execute("alter table audit_log enable trigger user")
        return audit_command(stack, "verify"), _verification(stack)
    finally:
        await _put_back(conn, before)
        await conn.execute("select pg_advisory_unlock($1)", audit.CHAIN_LOCK)
        await conn.close()


async def _put_back(conn: asyncpg.Connection, rows: list[asyncpg.Record]) -> None:
    columns = list(rows[0].keys())
    values = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    async with conn.transaction():
        await conn.execute("alter table audit_log disable trigger user")
        await conn.execute("delete from audit_log")
        await conn.executemany(
            f"insert into audit_log ({', '.join(columns)}) values ({values})",
            [tuple(r.values()) for r in rows],
        )
        await conn.execute("alter table audit_log enable trigger user")


def test_deleting_the_anchored_tail_of_the_trail_is_reported(stack):
    seq = _new_entry(stack, "tail-1")
    audit_command(stack, "anchor")

    async def delete_tail(conn: asyncpg.Connection) -> None:
        await conn.execute("delete from audit_log where seq >= $1", seq)

    found, answer = asyncio.run(_tampered(stack, delete_tail))

    assert found.returncode == 1, found.stdout
    assert f"seq {seq}" in found.stdout and "anchor" in found.stdout
    assert (answer["intact"], answer["broken_at"]) == (False, seq)
    assert audit_command(stack, "verify").returncode == 0


def test_truncating_the_trail_behind_its_trigger_is_reported(stack):
    seq = _new_entry(stack, "truncate-1")
    audit_command(stack, "anchor")

    async def truncate(conn: asyncpg.Connection) -> None:
        await conn.execute("truncate audit_log")

    found, answer = asyncio.run(_tampered(stack, truncate))

    assert found.returncode == 1, found.stdout
    assert f"seq {seq}" in found.stdout and "anchor" in found.stdout
    assert answer["intact"] is False
    assert audit_command(stack, "verify").returncode == 0


def _rewriting_from(seq: int) -> Tamper:
    """The owner changes an entry's actor and rehashes every entry from it on as the chain of
    migration 0010 was hashed (sha256, no key: the owner has none)."""

    async def rewrite(conn: asyncpg.Connection) -> None:
        rows = await conn.fetch("select * from audit_log where seq >= $1 order by seq", seq)
        prev = rows[0]["prev_hash"]
        for row in rows:
            actor = "somebody-else" if row["seq"] == seq else row["actor"]
            entry = dataclasses.replace(audit.entry_in(row), actor=actor)
            forged = entry_hash(prev, row["at"], entry, key=None)
            await conn.execute(
                """update audit_log set actor = $2, key_id = null, prev_hash = $3, hash = $4
                   where seq = $1""",
                row["seq"],
                actor,
                prev,
                forged,
            )
            prev = forged

    return rewrite


def test_an_entry_rewritten_by_the_owner_with_the_chain_recomputed_is_reported(stack):
    seq = _new_entry(stack, "rewrite-1")
    _new_entry(stack, "rewrite-2")

    found, answer = asyncio.run(_tampered(stack, _rewriting_from(seq)))

    assert found.returncode == 1 and f"seq {seq}" in found.stdout, found.stdout
    assert answer["broken_at"] == seq
    assert audit_command(stack, "verify").returncode == 0
