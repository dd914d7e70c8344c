"""Running a payout run in the background: slice after slice, progress after each, a heartbeat
throughout (a long step is not a stall); a run whose worker died (the api restarted) is marked
FAILED by every api's watcher, and its worker, if it was only slow, stops at its next step."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg
import prometheus_client
import structlog

from shaobing_runtime.periodic import every

from .adapters.payout_store import (
    beat,
    fail_run,
    fail_stalled,
    finish_run,
    gather_reasons,
    slices,
    write_slice,
)

RUNS = prometheus_client.Counter(
    "shaobing_payout_runs_total", "Payout runs finished, by outcome", ["outcome"]
)
RUN_SECONDS = prometheus_client.Histogram(
    "shaobing_payout_run_duration_seconds",
    "Wall time of a payout run's check",
    buckets=(1, 5, 10, 20, 40, 80, 160, 320, 640),
)
log = structlog.get_logger()


async def execute(
    pool: asyncpg.Pool, run: asyncpg.Record, slice_size: int, workers: int, beat_every: float
) -> None:
    """Decide every enrolment of the run (as the owning role: the run's area bounds it)."""
    started = asyncio.get_running_loop().time()
    try:
        async with _heartbeat(pool, run["id"], beat_every):
            await check(pool, run, slice_size, workers)
    except Exception as exc:  # the task's boundary: whatever stopped it, the run says so
        log.exception("payout run failed", run_id=str(run["id"]))
        async with pool.acquire() as conn:
            await fail_run(conn, run["id"], f"{type(exc).__name__}: {exc}"[:500])
        RUNS.labels("failed").inc()
        return
    RUNS.labels("ready").inc()
    RUN_SECONDS.observe(asyncio.get_running_loop().time() - started)
    log.info("payout run ready", run_id=str(run["id"]), month=run["month"], area=run["area"])


async def check(pool: asyncpg.Pool, run: asyncpg.Record, slice_size: int, workers: int) -> None:
    """The reasons, then the slices `workers` at a time, then the totals: READY."""
    async with pool.acquire() as conn:
        await gather_reasons(conn, run)
        bounds = await slices(conn, run, slice_size)
    free = asyncio.Semaphore(workers)

    async def write(one: tuple) -> None:
        async with free, pool.acquire() as conn:
            await write_slice(conn, run, one)

    await asyncio.gather(*(write(one) for one in bounds))
    async with pool.acquire() as conn:
        await finish_run(conn, run["id"])


@asynccontextmanager
async def _heartbeat(pool: asyncpg.Pool, run_id: UUID, every: float) -> AsyncIterator[None]:
    """The run's heartbeat moves every `every` seconds while the block runs, whatever it does."""
    beating = asyncio.create_task(_beat(pool, run_id, every))
    try:
        yield
    finally:
        beating.cancel()
        await asyncio.gather(beating, return_exceptions=True)


async def _beat(pool: asyncpg.Pool, run_id: UUID, every: float) -> None:
    """Until cancelled, or until the run is no longer RUNNING (failed meanwhile)."""
    while True:
        await asyncio.sleep(every)
        try:
            async with pool.acquire() as conn:
                if not await beat(conn, run_id):
                    return
        except Exception as exc:  # the next beat tries again: a lost beat must not end them
            log.warning("payout run heartbeat failed", run_id=str(run_id), error=str(exc))


def start(state: Any, run: asyncpg.Record) -> None:
    """Run it as a task the app keeps a reference to (until it ends)."""
    settings = state.settings
    task = asyncio.create_task(
        execute(
            state.pool,
            run,
            settings.payout_slice_size,
            settings.payout_workers,
            beat_every=settings.payout_stall_seconds / 4,
        )
    )
    state.payout_tasks.add(task)
    task.add_done_callback(state.payout_tasks.discard)


async def watch_stalled(state: Any) -> None:
    """RUNNING runs without a heartbeat for payout_stall_seconds are FAILED (looked for twice
    within that time, at most every minute)."""

    async def watch() -> None:
        async with state.pool.acquire() as conn:
            failed = await fail_stalled(conn, state.settings.payout_stall_seconds)
        if failed:
            log.warning("stalled payout runs marked failed", runs=failed)

    await every(min(60.0, state.settings.payout_stall_seconds / 2), watch, name="stalled_runs")
