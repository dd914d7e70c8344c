"""The matcher killed mid-stream and restarted loses and duplicates nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest

from shaobing_dev.stack import Stack, StackConfig, free_port
from shaobing_runtime.access import Role

from .conftest import AREA, death_of, enrolment, eventually, new_person, token


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Its own stack: a matcher that failed to come back must not fail the other tests."""
    names = ("broker", "api", "ingest", "alerts", "matcher")
    config = StackConfig(
        var_dir=Path(tmp_path_factory.mktemp("kill")),
        ports={n: free_port() for n in names},
        quiet=True,
    )
    with Stack(config) as stack:
        yield stack


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


def test_matcher_killed_mid_stream_loses_and_duplicates_nothing(own_stack):
    stack = own_stack
    api = httpx.Client(
        base_url=stack.url("api"), timeout=60, headers=token(Role.CASEWORKER, [AREA])
    )
    ingest = httpx.Client(
        base_url=stack.url("ingest"), timeout=60, headers=token(Role.FEED, [AREA])
    )
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
    try:
        eventually(lambda: asyncio.run(_count(stack.database_url, ids))[1] == len(ids), timeout=120)
    except BaseException:
        log = (stack.config.var_dir / "logs" / "matcher.log").read_text(errors="replace")
        print("matcher log tail:\n" + "\n".join(log.splitlines()[-80:]))
        print("alerts, enrolments, raised:", asyncio.run(_count(stack.database_url, ids)))
        raise
    alerts, enrolments, raised = asyncio.run(_count(stack.database_url, ids))
    assert (alerts, enrolments, raised) == (len(ids), len(ids), len(ids))
    api.close()
    ingest.close()
