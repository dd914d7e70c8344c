"""Bad input gets a 4xx naming the field or a dead letter with the reason; the rest lands."""

from __future__ import annotations

import asyncio

import asyncpg
import orjson

from shaobing_contracts.topics import Topic
from shaobing_runtime.access import Role

from .conftest import AREA, alerts_for, death_of, enrolment, eventually, new_person, token
from .topic_reader import read_topic


def test_bad_items_are_dead_lettered_and_their_good_neighbours_land(stack, api, ingest):
    person = new_person()
    record = enrolment(person)
    api.post("/v1/enrolments", json=record).raise_for_status()
    bad_checksum = death_of(new_person())
    bad_checksum["payload"]["after"]["id_number"] = person[:17] + (
        "0" if person[17] != "0" else "1"
    )
    unknown_table = death_of(new_person())
    unknown_table["payload"]["source"]["table"] = "payment"
    body = b"\n".join(
        [
            orjson.dumps(bad_checksum),
            b"{not json",
            orjson.dumps(death_of(person)),
            orjson.dumps(unknown_table),
            b'{"ts_ms": 1732000000000}',
        ]
    )

    response = ingest.post(
        "/v1/sources/death/changes", content=body, headers={"content-type": "application/x-ndjson"}
    )

    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["accepted"], result["dead_lettered"], result["ignored"]) == (1, 3, 1)
    fields = {r["index"]: r["field"] for r in result["rejections"]}
    assert fields == {0: "id_number", 1: None, 3: "source.table"}
    assert "line 2" in result["rejections"][1]["reason"]
    eventually(lambda: alerts_for(api, enrolment_id=record["enrolment_id"]))
    letters = asyncio.run(_dead_letters(stack.database_url))
    assert {"id_number", "source.table"} <= {row["field"] for row in letters}
    published = read_topic(stack.bootstrap, Topic.DEAD_LETTERS)
    assert any(orjson.loads(m)["field"] == "id_number" for m in published)


async def _dead_letters(url: str) -> list:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch("select field, reason, raw from dead_letters")
    finally:
        await conn.close()


def test_a_body_that_cannot_be_parsed_at_all_is_a_400_problem(ingest):
    for body in (b"", b"\xff\xfe{", b"42", b"{not json"):
        response = ingest.post("/v1/sources/death/changes", content=body)
        assert response.status_code == 400, body
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["detail"].startswith("body:")


def test_an_invalid_enrolment_gets_a_422_naming_the_field(api):
    record = enrolment(new_person())
    record["beneficiary_id"] = record["beneficiary_id"][:17] + "Y"
    record["monthly_amount"] = 1510.5

    response = api.post("/v1/enrolments", json=record)

    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"beneficiary_id", "monthly_amount"}


def test_a_batch_of_enrolments_keeps_the_good_and_names_the_bad(api):
    good, bad = enrolment(new_person()), enrolment(new_person())
    bad["area_code"] = "3101"

    result = api.post("/v1/enrolments", json=[good, bad]).json()

    assert (result["created"], result["rejected"]) == (1, 1)
    assert result["items"][1]["errors"][0]["field"] == "area_code"


def test_requests_without_a_valid_token_are_refused(stack, api):
    import httpx

    assert httpx.get(f"{stack.url('api')}/v1/alerts").status_code == 401
    forged = {"authorization": "Bearer " + "x" * 40}
    assert httpx.get(f"{stack.url('api')}/v1/alerts", headers=forged).status_code == 401
    feed_on_api = token(Role.FEED, [AREA])
    assert httpx.get(f"{stack.url('api')}/v1/alerts", headers=feed_on_api).status_code == 403
    caseworker_on_ingest = token(Role.CASEWORKER, [AREA])
    response = httpx.post(
        f"{stack.url('ingest')}/v1/sources/death/changes",
        content=b"{}",
        headers=caseworker_on_ingest,
    )
    assert response.status_code == 403
