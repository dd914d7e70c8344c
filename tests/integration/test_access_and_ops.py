"""Area scoping on the queue, and health, readiness and metrics on every service."""

from __future__ import annotations

import asyncio
from uuid import UUID

import asyncpg
import httpx
import orjson
import pytest

from shaobing_runtime.access import Role

from .conftest import (
    OTHER_COMMUNITY,
    alerts_for,
    dead_beneficiary,
    death_of,
    enrolment,
    eventually,
    new_person,
    token,
)


def test_an_alert_outside_the_callers_community_does_not_exist_for_them(stack, api, ingest):
    person = new_person()
    record = enrolment(person, area=OTHER_COMMUNITY)
    api.post("/v1/enrolments", json=record).raise_for_status()
    ingest.post("/v1/sources/death/changes", content=orjson.dumps([death_of(person)]))
    [alert] = eventually(lambda: alerts_for(api, enrolment_id=record["enrolment_id"]))
    neighbour = token(Role.CASEWORKER, ["310110001001"])

    with httpx.Client(base_url=stack.url("api"), headers=neighbour) as client:
        assert client.get(f"/v1/alerts/{alert['id']}").status_code == 404
        listed = client.get("/v1/alerts", params={"enrolment_id": record["enrolment_id"]})
        assert listed.json()["items"] == []
        by_person = client.get("/v1/alerts", params={"id_number": person})
        assert by_person.json()["items"] == []
        outside = enrolment(new_person(), area=OTHER_COMMUNITY)
        refused = client.post("/v1/enrolments", json=[outside]).json()
        assert refused["items"][0]["errors"][0]["field"] == "area_code"
        hijack = {**record, "area_code": "310110001001"}
        overwrite = client.post("/v1/enrolments", json=[hijack]).json()
        assert overwrite["items"][0]["errors"][0]["field"] == "enrolment_id"


def test_a_supervisor_sees_the_full_id_number_and_the_view_is_recorded(stack, api, ingest):
    person, _, alert = dead_beneficiary(api, ingest)

    supervisor = token(Role.SUPERVISOR, ["310110"])
    detail = httpx.get(f"{stack.url('api')}/v1/alerts/{alert['id']}", headers=supervisor).json()

    assert detail["id_number"] == person
    assert alert["id_number"] != person
    views = asyncio.run(_full_views(stack.database_url, alert["id"]))
    assert [(v["actor"], v["details"]["role"]) for v in views] == [
        ("test-supervisor", "supervisor")
    ]


async def _full_views(url: str, alert_id: str) -> list:
    conn = await asyncpg.connect(url)
    await conn.set_type_codec("jsonb", schema="pg_catalog", encoder=str, decoder=orjson.loads)
    try:
        return await conn.fetch(
            "select actor, details from alert_events where alert_id = $1 and kind = $2",
            UUID(alert_id),
            "FULL_RECORD_VIEWED",
        )
    finally:
        await conn.close()


def test_a_list_showing_full_id_numbers_is_recorded_and_a_masked_one_is_not(stack, api, ingest):
    person, record, alert = dead_beneficiary(api, ingest)
    query = {"enrolment_id": record["enrolment_id"]}
    caseworker, supervisor = token(Role.CASEWORKER, ["310110"]), token(Role.SUPERVISOR, ["310110"])

    httpx.get(f"{stack.url('api')}/v1/alerts", params=query, headers=caseworker)
    assert asyncio.run(_list_reads(stack.database_url, alert["id"])) == []
    listed = httpx.get(f"{stack.url('api')}/v1/alerts", params=query, headers=supervisor).json()

    assert [a["id_number"] for a in listed["items"]] == [person]
    [read] = asyncio.run(_list_reads(stack.database_url, alert["id"]))
    assert (read["actor"], read["role"], read["object_type"]) == (
        "test-supervisor",
        "supervisor",
        "alert",
    )
    assert read["details"]["ids"] == [alert["id"]]
    assert read["details"]["query"] == query


async def _list_reads(url: str, alert_id: str) -> list:
    conn = await asyncpg.connect(url)
    await conn.set_type_codec("jsonb", schema="pg_catalog", encoder=str, decoder=orjson.loads)
    try:
        return await conn.fetch(
            """select actor, role, object_type, details from audit_log
               where action = 'alert.list_read' and details->'ids' ? $1""",
            alert_id,
        )
    finally:
        await conn.close()


def test_paging_walks_every_alert_once(api):
    first = api.get("/v1/alerts", params={"limit": 1}).json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = api.get("/v1/alerts", params={"limit": 1, "cursor": first["next_cursor"]}).json()
    assert second["items"][0]["id"] != first["items"][0]["id"]
    assert api.get("/v1/alerts", params={"cursor": "garbage"}).status_code == 422


@pytest.mark.parametrize("service", ["api", "ingest", "alerts", "matcher"])
def test_every_service_answers_health_readiness_and_metrics(stack, service):
    base = stack.url(service)
    assert httpx.get(f"{base}/healthz").status_code == 200
    assert httpx.get(f"{base}/readyz").status_code == 200
    metrics = httpx.get(f"{base}/metrics")
    assert metrics.status_code == 200
    assert "# TYPE" in metrics.text


def test_the_queue_page_renders_in_chinese_and_english(stack, api):
    caseworker = token(Role.CASEWORKER, ["310110"])["authorization"].split()[1]
    with httpx.Client(base_url=stack.url("api"), follow_redirects=True) as browser:
        page = browser.get("/ui/login", params={"token": caseworker})
        assert page.status_code == 200 and "电子哨兵" in page.text
        assert "Electronic sentinel" in browser.get("/ui/alerts?lang=en").text
