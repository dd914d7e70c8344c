"""The matcher killed mid-stream and restarted loses and duplicates nothing: the hot path's
person states and the enrolment fan-out's members are recovered from their changelogs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest

from shaobing_dev.bench_matcher import events_processed
from shaobing_dev.stack import Stack, StackConfig, answers, free_ports
from shaobing_runtime.access import Role

from .conftest import AREA, death_of, enrolment, eventually, new_person, token
from .topic_reader import read_records


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Its own stack: a matcher that failed to come back must not fail the other tests."""
    config = StackConfig(
        var_dir=Path(tmp_path_factory.mktemp("kill")),
        ports=free_ports(),
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


async def _alerted(url: str, enrolment_ids: list[str]) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "select enrolment_id from alerts where enrolment_id = any($1)", enrolment_ids
        )
        return {r["enrolment_id"] for r in rows}
    finally:
        await conn.close()


def _explain_failure(stack: Stack, person_of: dict[str, str]) -> None:
    """What the broker holds for each person left without an alert, and the matcher's errors."""
    alerted = asyncio.run(_alerted(stack.database_url, list(person_of)))
    topics = ("src.death.v1", "person-enrolments.v1", "alerts.v1", "dead-letters.v1")
    records = {t: read_records(stack.bootstrap, t) for t in topics}
    changelog = read_records(stack.bootstrap, "shaobing-matcher-person-state-changelog")
    for enrolment_id in sorted(set(person_of) - alerted):
        key = person_of[enrolment_id].encode()
        print(f"no alert for {enrolment_id}:")
        for topic, found in records.items():
            print(f"  {topic}: {[(r.partition, r.offset) for r in found if r.key == key]}")
        for r in (r for r in changelog if r.key == key):  # what the state was, record by record
            state = orjson.loads(r.value) if r.value else {}
            facts = (list(state.get("deaths", {})), list(state.get("enrolments", {})))
            print(f"  changelog {r.partition}/{r.offset}: deaths, enrolments = {facts}")
    log = (stack.config.var_dir / "logs" / "matcher.log").read_text(errors="replace")
    lines = log.splitlines()
    noted = [line for line in lines if '"error"' in line]
    print("matcher errors:\n" + "\n".join(noted)[-4000:])
    print("matcher log tail:\n" + "\n".join(lines[-30:]))


def _clients(stack: Stack) -> tuple[httpx.Client, httpx.Client]:
    """The api as a case worker, ingest as the death registry's feed."""
    api = httpx.Client(
        base_url=stack.url("api"), timeout=60, headers=token(Role.CASEWORKER, [AREA])
    )
    ingest = httpx.Client(
        base_url=stack.url("ingest"),
        timeout=60,
        headers=token(Role.FEED, [AREA], sources=["death"]),
    )
    return api, ingest


def _enrolled(api: httpx.Client, n: int) -> tuple[list[str], list[str], list[dict]]:
    """n new people, each the beneficiary of an enrolment: the people, the enrolment ids and
    the death registrations to come."""
    people = [new_person() for _ in range(n)]
    records = [enrolment(p) for p in people]
    api.post("/v1/enrolments", json=records).raise_for_status()
    return people, [r["enrolment_id"] for r in records], [death_of(p) for p in people]


def _each_alerted_once(stack: Stack, ids: list[str], people: list[str]) -> None:
    """Every enrolment ends with one alert, raised once: nothing lost, nothing twice."""
    try:
        eventually(lambda: asyncio.run(_count(stack.database_url, ids))[1] == len(ids), timeout=120)
    except BaseException:
        _explain_failure(stack, dict(zip(ids, people, strict=True)))
        raise
    assert asyncio.run(_count(stack.database_url, ids)) == (len(ids), len(ids), len(ids))


def test_matcher_killed_mid_stream_loses_and_duplicates_nothing(own_stack):
    stack = own_stack
    api, ingest = _clients(stack)
    people, ids, deaths = _enrolled(api, 240)
    ingest.post("/v1/sources/death/changes", content=orjson.dumps(deaths[:80]))
    eventually(lambda: asyncio.run(_count(stack.database_url, ids))[0] > 0)

    ingest.post("/v1/sources/death/changes", content=orjson.dumps(deaths[80:160]))
    stack.stop_service("matcher", kill=True)  # kill -9 while those are in flight
    ingest.post("/v1/sources/death/changes", content=orjson.dumps(deaths[160:]))
    stack.start_service("matcher")
    stack.wait_ready(("matcher",))

    # Deaths after the restart only alert if the enrolments came back from the changelog.
    _each_alerted_once(stack, ids, people)
    api.close()
    ingest.close()


def _person_enrolments(bootstrap: str) -> list[tuple[str, str, str | None]]:
    """(person, enrolment, role) of every message on person-enrolments.v1."""
    found = []
    for r in read_records(bootstrap, "person-enrolments.v1"):
        message = orjson.loads(r.value)
        found.append((r.key.decode(), message["enrolment"]["enrolment_id"], message["role"]))
    return found


async def _rules_alerted(url: str, enrolment_ids: list[str]) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "select enrolment_id, rule_id from alerts where enrolment_id = any($1)", enrolment_ids
        )
        return [(r["enrolment_id"], r["rule_id"]) for r in rows]
    finally:
        await conn.close()


def test_fan_out_killed_mid_stream_still_tells_a_member_who_left_after_the_restart(own_stack):
    stack = own_stack
    api, ingest = _clients(stack)
    households = [(new_person(), new_person()) for _ in range(150)]
    records = [enrolment(head, members=[member]) for head, member in households]
    member_of = {r["enrolment_id"]: r["household_members"][1] for r in records}
    changed, kept = records[:135], records[135:]  # kept: unchanged, the control group
    api.post("/v1/enrolments", json=records[:50]).raise_for_status()
    eventually(lambda: len(_person_enrolments(stack.bootstrap)) > 0)
    api.post("/v1/enrolments", json=records[50:100]).raise_for_status()
    stack.stop_service("matcher", kill=True)  # kill -9 while those are fanned out
    api.post("/v1/enrolments", json=records[100:]).raise_for_status()
    stack.start_service("matcher")
    stack.wait_ready(("matcher",))

    def fanned_out(role: str | None, among: list[dict]) -> bool:
        sent = set(_person_enrolments(stack.bootstrap))
        return all((member_of[r["enrolment_id"]], r["enrolment_id"], role) in sent for r in among)

    eventually(lambda: fanned_out("MEMBER", records), timeout=120)  # none lost
    # The members leave; only members recovered from the changelog can be told they left.
    left = [{**r, "household_members": [r["beneficiary_id"]]} for r in changed]
    api.post("/v1/enrolments", json=left).raise_for_status()
    eventually(lambda: fanned_out(None, changed), timeout=120)
    assert not fanned_out(None, kept)

    # What a case worker sees: a member who left dies without alerting the enrolment.
    deaths = [death_of(member_of[r["enrolment_id"]]) for r in records]
    ingest.post("/v1/sources/death/changes", content=orjson.dumps(deaths)).raise_for_status()
    ids = [r["enrolment_id"] for r in records]
    control = {(r["enrolment_id"], "death-of-household-member") for r in kept}
    eventually(lambda: control <= set(asyncio.run(_rules_alerted(stack.database_url, ids))))
    alerted = asyncio.run(_rules_alerted(stack.database_url, ids))
    assert sorted(alerted) == sorted(control)
    api.close()
    ingest.close()


def _ready(stack: Stack, worker: str) -> bool:
    return answers(f"{stack.url(worker)}/readyz")


def test_two_workers_share_the_partitions_and_one_takes_over_from_the_other_killed(own_stack):
    stack = own_stack
    api, ingest = _clients(stack)
    stack.start_service("matcher-2")  # joins the groups: the partitions are shared out
    eventually(lambda: _ready(stack, "matcher") and _ready(stack, "matcher-2"), timeout=120)
    people, ids, deaths = _enrolled(api, 200)
    ingest.post("/v1/sources/death/changes", content=orjson.dumps(deaths[:100]))
    eventually(lambda: asyncio.run(_count(stack.database_url, ids))[1] >= 100, timeout=120)
    assert events_processed(stack, ["matcher-2"]) > 0 and events_processed(stack, ["matcher"]) > 0

    ingest.post("/v1/sources/death/changes", content=orjson.dumps(deaths[100:]))
    stack.stop_service("matcher-2", kill=True)  # its partitions go to the first worker

    # Its partitions' deaths alert only once their enrolments came back from the changelog.
    _each_alerted_once(stack, ids, people)
    api.close()
    ingest.close()
