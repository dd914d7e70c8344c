"""Isolation: cross-area and cross-role attempts that must all fail, at the api and below it.

The query-layer tests run SQL that forgets the area filter on a connection scoped as the api
scopes each request: PostgreSQL's row-level security still keeps other areas out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import httpx
import orjson
import pytest

from shaobing_runtime.access import Principal, Role
from shaobing_runtime.database import create_pool, scoped

from .conftest import (
    COMMUNITY,
    OTHER_COMMUNITY,
    alerts_for,
    death_of,
    enrolment,
    eventually,
    new_person,
    token,
)

NEIGHBOUR = COMMUNITY  # next to OTHER_COMMUNITY, same street


@pytest.fixture(scope="module")
def foreign_alert(api: httpx.Client, ingest: httpx.Client) -> dict:
    """An open alert in OTHER_COMMUNITY, as the district sees it."""
    person = new_person()
    record = enrolment(person, area=OTHER_COMMUNITY)
    api.post("/v1/enrolments", json=record).raise_for_status()
    ingest.post("/v1/sources/death/changes", content=orjson.dumps([death_of(person)]))
    [alert] = eventually(lambda: alerts_for(api, enrolment_id=record["enrolment_id"]))
    return {**alert, "person": person}


@pytest.fixture(scope="module")
def neighbour(stack) -> Iterator[httpx.Client]:
    headers = token(Role.SUPERVISOR, [NEIGHBOUR])  # sees full IDs, but only in its community
    with httpx.Client(base_url=stack.url("api"), headers=headers, timeout=30) as client:
        yield client


def test_a_worker_of_another_community_cannot_list_get_search_or_export_it(
    neighbour: httpx.Client, foreign_alert: dict
) -> None:
    attempts = {
        "get": neighbour.get(f"/v1/alerts/{foreign_alert['id']}"),
        "page": neighbour.get(f"/ui/alerts/{foreign_alert['id']}"),
    }
    assert {k: r.status_code for k, r in attempts.items()} == {"get": 404, "page": 404}
    searches = [
        neighbour.get("/v1/alerts", params={"id_number": foreign_alert["person"]}),
        neighbour.get("/v1/alerts", params={"enrolment_id": foreign_alert["enrolment_id"]}),
        neighbour.get("/v1/alerts", params={"area": OTHER_COMMUNITY}),
        neighbour.get("/v1/alerts/queue", params={"rule_id": foreign_alert["rule_id"]}),
    ]
    assert [r.status_code for r in searches] == [200] * 4
    assert all(foreign_alert["id"] not in r.text for r in searches)
    export = neighbour.get("/v1/alerts/queue/export", params={"format": "csv"})
    assert export.status_code == 200 and foreign_alert["id"] not in export.text
    assert foreign_alert["person"] not in neighbour.get("/ui/alerts").text


def test_a_worker_of_another_community_cannot_change_it(
    api: httpx.Client, neighbour: httpx.Client, foreign_alert: dict
) -> None:
    version = foreign_alert["version"]
    claim = neighbour.post(
        f"/v1/alerts/{foreign_alert['id']}/steps", json={"step": "claim", "version": version}
    )
    bulk = neighbour.post(
        "/v1/alerts/steps",
        json={"step": "claim", "items": [{"id": foreign_alert["id"], "version": version}]},
    )

    assert claim.status_code == 404
    assert bulk.json()["items"][0]["status"] == 404
    unchanged = api.get(f"/v1/alerts/{foreign_alert['id']}").json()
    assert (unchanged["status"], unchanged["version"]) == ("OPEN", version)


@pytest.mark.parametrize(
    ("role", "method", "path"),
    [
        (Role.CASEWORKER, "GET", "/v1/audit"),
        (Role.PAYMENT_OFFICER, "GET", "/v1/audit/verification"),
        (Role.OPS, "GET", "/v1/alerts"),
        (Role.OPS, "GET", "/v1/alerts/queue/export"),
        (Role.FEED, "GET", "/v1/notifications"),
        (Role.AUDITOR, "POST", "/v1/enrolments"),
        (Role.PAYMENT_OFFICER, "POST", "/v1/enrolments"),
    ],
)
def test_a_role_without_the_right_is_refused(stack, role: Role, method: str, path: str) -> None:
    headers = token(role, ["310110"])
    response = httpx.request(method, f"{stack.url('api')}{path}", headers=headers, json=[])
    assert response.status_code == 403, response.text


def test_no_token_a_forged_token_or_a_wildcard_area_gets_nothing(stack) -> None:
    url = f"{stack.url('api')}/v1/alerts"
    forged = token(Role.ADMIN, ["310110"])["authorization"][:-4] + "AAAA"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"authorization": forged}).status_code == 401
    assert httpx.get(url, headers=token(Role.ADMIN, ["%"])).status_code == 401


# The query layer: SQL without an area filter on a connection scoped like an api request.


async def _scoped_rows(database_url: str, areas: tuple[str, ...], sql: str, *args) -> list:
    pool = await create_pool(database_url, max_size=1)
    try:
        async with scoped(pool, Principal("query-layer", Role.CASEWORKER, areas)) as conn:
            return await conn.fetch(sql, *args)
    finally:
        await pool.close()


async def _seed_enrolments(database_url: str) -> dict[str, str]:
    """One enrolment in each of two communities, written as the owning role (as a service)."""
    ids = {COMMUNITY: f"ISO-{new_person()}", OTHER_COMMUNITY: f"ISO-{new_person()}"}
    conn = await asyncpg.connect(database_url)
    try:
        for area, enrolment_id in ids.items():
            await conn.execute(
                """insert into enrolments (enrolment_id, program, beneficiary_id,
                       household_members, monthly_amount, area_code, status, start_month,
                       payout_account)
                   values ($1, 'DIBAO', $2, array[$2], 1510, $3, 'ACTIVE', '2024-01', '6222')""",
                enrolment_id,
                enrolment_id[4:],
                area,
            )
    finally:
        await conn.close()
    return ids


@pytest.fixture(scope="module")
def seeded(stack) -> dict[str, str]:
    return asyncio.run(_seed_enrolments(stack.database_url))


FORGETFUL = "select enrolment_id from enrolments where enrolment_id = any($1::text[])"


def test_a_query_that_forgets_the_area_filter_sees_only_the_callers_areas(stack, seeded):
    ids = list(seeded.values())
    mine = asyncio.run(_scoped_rows(stack.database_url, (COMMUNITY,), FORGETFUL, ids))
    district = asyncio.run(_scoped_rows(stack.database_url, ("310110",), FORGETFUL, ids))

    assert [r["enrolment_id"] for r in mine] == [seeded[COMMUNITY]]
    assert sorted(r["enrolment_id"] for r in district) == sorted(ids)


@pytest.mark.parametrize("areas", [(), ("%",), ("31011_",), ("310110' or true --",)])
def test_no_area_or_a_pattern_for_an_area_sees_nothing(stack, seeded, areas):
    rows = asyncio.run(_scoped_rows(stack.database_url, areas, FORGETFUL, list(seeded.values())))
    assert rows == []


def test_alerts_and_notifications_of_other_areas_are_out_of_reach(stack):
    for table in ("alerts", "notifications"):
        sql = f"select count(*) filter (where area_code not like $1) as foreign from {table}"
        [row] = asyncio.run(_scoped_rows(stack.database_url, (COMMUNITY,), sql, f"{COMMUNITY}%"))
        assert row["foreign"] == 0, table


async def _write_elsewhere(database_url: str, sql: str, *args) -> str:
    pool = await create_pool(database_url, max_size=1)
    try:
        async with scoped(pool, Principal("query-layer", Role.CASEWORKER, (COMMUNITY,))) as conn:
            return await conn.execute(sql, *args)
    finally:
        await pool.close()


def test_rows_of_another_area_cannot_be_changed_and_none_can_be_moved_or_made_there(stack, seeded):
    update = "update enrolments set status = 'TERMINATED' where enrolment_id = $1"
    assert asyncio.run(_write_elsewhere(stack.database_url, update, seeded[OTHER_COMMUNITY])) == (
        "UPDATE 0"
    )
    move = "update enrolments set area_code = $2 where enrolment_id = $1"
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        asyncio.run(_write_elsewhere(stack.database_url, move, seeded[COMMUNITY], OTHER_COMMUNITY))
    plant = """insert into enrolments (enrolment_id, program, beneficiary_id, household_members,
                   monthly_amount, area_code, status, start_month, payout_account)
               values ('ISO-PLANTED', 'DIBAO', 'x', '{}', 1, $1, 'ACTIVE', '2024-01', '1')"""
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        asyncio.run(_write_elsewhere(stack.database_url, plant, OTHER_COMMUNITY))
