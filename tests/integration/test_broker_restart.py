"""A restarted (empty) development broker is refilled from the event log, exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest

from shaobing_dev.stack import Stack, StackConfig, free_ports
from shaobing_runtime.access import Role

from .conftest import AREA, death_of, enrolment, eventually, new_person, token


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Its own stack: restarting the broker must not disturb the session's."""
    config = StackConfig(
        var_dir=Path(tmp_path_factory.mktemp("restart")),
        ports=free_ports(),
        quiet=True,
    )
    with Stack(config) as stack:
        yield stack


async def _alerts(url: str) -> list[tuple[str, int]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            """select a.enrolment_id, count(e.*) as raised from alerts a
               join alert_events e on e.alert_id = a.id and e.kind = 'RAISED'
               group by a.enrolment_id order by 1"""
        )
        return [(r["enrolment_id"], r["raised"]) for r in rows]
    finally:
        await conn.close()


def _post(stack: Stack, *, enrol: list[str] = (), die: list[str] = ()) -> list[str]:
    """Enrol some people and register deaths of some; returns the new enrolment ids."""
    records = [enrolment(p) for p in enrol]
    with httpx.Client(timeout=60) as client:
        if records:
            client.post(
                f"{stack.url('api')}/v1/enrolments",
                json=records,
                headers=token(Role.CASEWORKER, [AREA]),
            ).raise_for_status()
        if die:
            client.post(
                f"{stack.url('ingest')}/v1/sources/death/changes",
                content=orjson.dumps([death_of(p) for p in die]),
                headers=token(Role.FEED, [AREA], sources=["death"]),
            ).raise_for_status()
    return [r["enrolment_id"] for r in records]


def test_replay_after_a_broker_restart_restores_state_and_doubles_nothing(own_stack):
    dead, alive = [new_person() for _ in range(30)], [new_person() for _ in range(10)]
    before = _post(own_stack, enrol=dead, die=dead)
    waiting = _post(own_stack, enrol=alive)
    eventually(lambda: len(asyncio.run(_alerts(own_stack.database_url))) == len(before))

    own_stack.restart_broker()
    # These enrolments reach the new broker only by replay: their deaths alert only if it worked.
    _post(own_stack, die=alive)

    expected = sorted(before + waiting)
    eventually(
        lambda: [e for e, _ in asyncio.run(_alerts(own_stack.database_url))] == expected,
        timeout=120,
    )
    assert all(raised == 1 for _, raised in asyncio.run(_alerts(own_stack.database_url)))
