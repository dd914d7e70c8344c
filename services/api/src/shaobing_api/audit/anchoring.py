"""The audit chain's anchoring outside the database, every AUDIT_ANCHOR_SECONDS, watched."""

from __future__ import annotations

import asyncio
from typing import Any

import prometheus_client
import structlog

from shaobing_runtime import audit
from shaobing_runtime.audit_anchor import store_of
from shaobing_runtime.audit_chain import Verdict

log = structlog.get_logger()
CHAIN_BROKEN = prometheus_client.Gauge(
    "shaobing_audit_chain_broken",
    "1 when the audit entries since the latest anchor did not hold as the api last checked them",
)
ANCHORED = prometheus_client.Gauge(
    "shaobing_audit_anchored_timestamp_seconds",
    "When the api last found the audit chain's head anchored outside the database (or empty)",
)


async def anchor_forever(state: Any) -> None:
    """Every AUDIT_ANCHOR_SECONDS: check the entries since the latest anchor and anchor the head
    they reach (nothing when none is configured: development without AUDIT_ANCHOR_DIR)."""
    store = store_of(state.settings)
    while store is not None:
        try:
            async with state.pool.acquire() as conn:
                verdict = await audit.anchor(conn, state.settings.keyring(), store)
            _watched(verdict)
        except Exception:  # the loop must outlive any one failure; it is logged and alerted on
            log.exception("audit_anchoring_failed")
        await asyncio.sleep(state.settings.audit_anchor_seconds)


def _watched(verdict: Verdict) -> None:
    CHAIN_BROKEN.set(not verdict.intact)
    if verdict.broken is None:
        ANCHORED.set_to_current_time()
    else:
        log.error("audit_chain_broken", seq=verdict.broken.seq, reason=verdict.broken.reason)
