"""The schema a release needs, and a service's work waiting for it.

A release needs every migration it ships (`database.shipped_migrations`); yoyo records the ones
applied in `_yoyo_migration`. On a first install or an upgrade the services start before the
migration Job has applied them, or while it does, or before the database is up at all. A service
then stays up (/healthz), answers /readyz 503 saying what it waits for and what the database
has, refuses requests with a 503 (service_app), and starts none of its work in the database until
every migration is there: against missing tables that work fails (a consumer would set aside as
poison what a missing table refuses); against an older schema it might succeed, and be wrong. It
looks every few seconds, logs each change of what it finds, and never exits for it. A database
holding migrations this release does not know (a newer release's, after a rollback) will do:
migrations are additive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog

from .database import create_pool, shipped_migrations

log = structlog.get_logger()
Work = Callable[[], Coroutine[Any, Any, object]]
LOOK_SECONDS = 5.0  # a look that takes longer (a database that hangs) finds it unreadable


@dataclass(frozen=True)
class Finding:
    """What a look at the database found: whether its schema will do, and what to say."""

    ready: bool
    says: str
    unknown: tuple[str, ...] = ()  # migrations applied that this release does not ship


def judge(needed: Sequence[str], applied: Collection[str]) -> Finding:
    """Whether the `applied` migrations (yoyo's ids) hold every one `needed`, in words."""
    missing = [m for m in needed if m not in applied]
    if missing:
        has = f"up to {max(applied)}" if applied else "no schema yet"
        return Finding(False, _waiting(missing, f"the database has {has}"))
    unknown = tuple(sorted(set(applied) - set(needed)))
    if unknown:
        says = f"the database also has {', '.join(unknown)}, unknown to this release (additive)"
        return Finding(True, says, unknown)
    return Finding(True, f"the database has every migration up to {needed[-1]}")


def unreadable(needed: Sequence[str], exc: BaseException) -> Finding:
    """The finding when the applied migrations cannot be read (the database away, no rights)."""
    why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return Finding(False, _waiting(needed, f"the database cannot be read ({why})"))


def _waiting(missing: Sequence[str], has: str) -> str:
    return f"waiting for migration {missing[-1]}; {has}"


class DatabaseWork:
    """A service's pool and its work in the database, started once the schema is there.

    `async with database:` opens the pool (it connects on first use); `database.start(*work)`
    looks for the schema in the background, then runs the work; leaving the block cancels the
    work and closes the pool. Readiness asks `check_database` and `check_schema`.
    """

    def __init__(self, database_url: str, *, service: str) -> None:
        self._url, self._service = database_url, service
        self._needed = shipped_migrations()
        self._tasks: list[asyncio.Task[object]] = []
        self._found = Finding(False, _waiting(self._needed, "not looked at the database yet"))
        self.pool: asyncpg.Pool

    async def __aenter__(self) -> DatabaseWork:
        self.pool = await create_pool(self._url, application_name=f"shaobing-{self._service}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.pool.close()

    def start(self, *work: Work, every: float = 3.0) -> None:
        """Look for the schema every `every` seconds; once it is there, run all of `work`."""
        self._tasks.append(asyncio.create_task(self._when_there(work, every)))

    async def _when_there(self, work: Sequence[Work], every: float) -> None:
        while not (await self._look()).ready:
            await asyncio.sleep(every)
        self._tasks += [asyncio.create_task(w()) for w in work]

    async def _look(self) -> Finding:
        try:
            applied = await asyncio.wait_for(self._applied(), LOOK_SECONDS)
            found = judge(self._needed, applied)
        except Exception as exc:
            found = unreadable(self._needed, exc)
        if found != self._found:
            _log(found)
        self._found = found
        return found

    async def _applied(self) -> set[str]:
        try:
            rows = await self.pool.fetch("select migration_id from _yoyo_migration")
        except asyncpg.UndefinedTableError:
            return set()  # yoyo has not run here yet
        return {row[0] for row in rows}

    def waiting(self) -> str | None:
        """What the service waits for before it works (None: nothing)."""
        return None if self._found.ready else self._found.says

    async def check_schema(self) -> None:
        """Readiness: the schema is there (or what the service waits for)."""
        if not self._found.ready:
            raise RuntimeError(self._found.says)

    async def check_database(self) -> None:
        """Readiness: the database answers."""
        await self.pool.fetchval("select 1")


def _log(found: Finding) -> None:
    if not found.ready:
        log.warning("schema_waiting", found=found.says)
    elif found.unknown:
        log.warning("schema_newer_than_release", found=found.says, unknown=found.unknown)
    else:
        log.info("schema_ready", found=found.says)
