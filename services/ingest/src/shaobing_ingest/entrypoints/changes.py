"""POST /v1/sources/{source}/changes: Debezium change events, one, an array or NDJSON.

A Debezium Server retries any non-2xx and then stops, so per-item problems are answered 2xx
with the item dead-lettered and reported; only a body that cannot be parsed at all is a 4xx.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request

from shaobing_contracts.provenance import Channel, SourceSystem

from ..domain.cdc.body import SplitBody, UnparseableBody, may_hold_nul, split_body
from ..domain.intake import changes_of
from .intake_flow import IntakeResult, store_batch
from .source_access import Feed

router = APIRouter(prefix="/v1/sources", tags=["sources"])


@router.post("/{source}/changes", response_model=IntakeResult)
async def post_changes(request: Request, source: SourceSystem, principal: Feed) -> IntakeResult:
    """Accept Debezium change events for one source system; see the module docstring. A body
    beyond INGEST_MAX_BODY_BYTES is refused (413) before it is read."""
    body = await request.body()
    split = _split(body)
    return await store_batch(
        request.app.state,
        changes_of(split.items, source, may_hold_nul=may_hold_nul(body)),
        split.raw,
        [i.index for i in split.items],
        source=source.value,
        channel=Channel.DEBEZIUM_HTTP,
    )


def _split(body: bytes) -> SplitBody:
    try:
        return split_body(body)
    except UnparseableBody as exc:
        raise HTTPException(400, f"body: {exc}") from exc
