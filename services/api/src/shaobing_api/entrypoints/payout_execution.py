"""Running a payout run in the background: slice after slice, progress after each; a run whose
worker died (the api restarted) is marked FAILED by every api's watcher."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import prometheus_client
import structlog

from shaobing_runtime.periodic import every

from ..adapters.payout_store import (
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


async def execute(pool: asyncpg.Pool, run: asyncpg.Record, slice_size: int, workers: int) -> None:
    """Decide every enrolment of the run (as the owning role: the run's area bounds it)."""
    started = asyncio.get_running_loop().time()
    try:
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


def start(state: Any, run: asyncpg.Record) -> None:
    """Run it as a task the app keeps a reference to (until it ends)."""
    settings = state.settings
    task = asyncio.create_task(
        execute(state.pool, run, settings.payout_slice_size, settings.payout_workers)
    )
    state.payout_tasks.add(task)
    task.add_done_callback(state.payout_tasks.discard)


async def watch_stalled(state: Any) -> None:
    """Every minute: RUNNING runs without a heartbeat for payout_stall_seconds are FAILED."""

    async def watch() -> None:
        async with state.pool.acquire() as conn:
            failed = await fail_stalled(conn, state.settings.payout_stall_seconds)
        if failed:
            log.warning("stalled payout runs marked failed", runs=failed)

    await every(60, watch, name="stalled_payout_runs")
