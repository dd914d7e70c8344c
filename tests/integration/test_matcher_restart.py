"""The matcher killed mid-stream and restarted loses and duplicates nothing."""

from __future__ import annotations

import asyncio

import asyncpg
import orjson

from .conftest import death_of, enrolment, eventually, new_person


async def _count(url: str, enrolment_ids: list[str]) -> tuple[int, int, int]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            """select count(*) as alerts, count(distinct enrolment_id) as enrolments,
                      (select count(*) from alert_events e join alerts a on a.id = e.alert_id
                       where a.enrolment_id = any($1) and e.kind = 'RAISED') as raised
               from alerts where enrolment_id = any($1)""",
            enrolment_ids,
        )
        return row["alerts"], row["enrolments"], row["raised"]
    finally:
        await conn.close()


def test_matcher_killed_mid_stream_loses_and_duplicates_nothing(stack, api, ingest):
    people = [new_person() for _ in range(240)]
    records = [enrolment(p) for p in people]
    ids = [r["enrolment_id"] for r in records]
    api.post("/v1/enrolments", json=records).raise_for_status()
    deaths = [death_of(p) for p in people]
    ingest.post("/v1/sources/death/changes", content=orjson.dumps(deaths[:80]))
    eventually(lambda: asyncio.run(_count(stack.database_url, ids))[0] > 0)

    ingest.post("/v1/sources/death/changes", content=orjson.dumps(deaths[80:160]))
    stack.stop_service("matcher", kill=True)  # kill -9 while those are in flight
    ingest.post("/v1/sources/death/changes", content=orjson.dumps(deaths[160:]))
    stack.start_service("matcher")
    stack.wait_ready(("matcher",))

    # Deaths after the restart only alert if the enrolments came back from the changelog.
    eventually(lambda: asyncio.run(_count(stack.database_url, ids))[1] == len(ids), timeout=120)
    alerts, enrolments, raised = asyncio.run(_count(stack.database_url, ids))
    assert (alerts, enrolments, raised) == (len(ids), len(ids), len(ids))
