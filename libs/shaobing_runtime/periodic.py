"""Work a service does every so often (pruning, business figures, escalation, the watch over
stalled payout runs): a round that fails is logged and the next one comes, so a database away
for a while, a broken connection or a bug in one round never ends the loop silently."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from .database import is_transient

log = structlog.get_logger()


async def every(seconds: float, work: Callable[[], Awaitable[object]], *, name: str) -> None:
    """`work()` now and then every `seconds`, until cancelled."""
    while True:
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(
                "periodic_work_failed",
                work=name,
                error=f"{type(exc).__name__}: {exc}",
                transient=is_transient(exc),
            )
        await asyncio.sleep(seconds)
