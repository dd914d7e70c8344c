"""Dead letters stay queryable; a replay of everything publishes again and doubles nothing."""

from __future__ import annotations

import httpx
import orjson
from kafka import KafkaProducer

from shaobing_contracts.topics import Topic
from shaobing_runtime.access import Role

from .conftest import AREA, alerts_for, death_of, enrolment, eventually, fetch, new_person, token


def test_a_dead_letter_can_be_read_back_with_its_reason_and_raw_input(stack, ingest):
    bad = death_of(new_person())
    bad["payload"]["after"]["date_of_death"] = 99_999  # far in the future
    ingest.post("/v1/sources/death/changes", content=orjson.dumps([bad])).raise_for_status()
    admin = token(Role.ADMIN, [AREA])  # the raw input in full (ops see its ID numbers masked)

    with httpx.Client(base_url=stack.url("ingest"), headers=admin) as client:
        page = client.get("/v1/dead-letters", params={"field": "date_of_death"}).json()
        denied = client.get("/v1/dead-letters", headers=token(Role.CASEWORKER, [AREA]))

    letter = next(i for i in page["items"] if bad["payload"]["after"]["certificate_no"] in i["raw"])
    assert letter["source"] == "death" and "future" in letter["reason"]
    assert orjson.loads(letter["raw"]) == bad
    assert denied.status_code == 403


def _alert_rows(url: str) -> int:
    return fetch(url, "select count(*) from alerts")[0][0]


def test_replaying_every_event_raises_nothing_new(stack, api, ingest):
    person = new_person()
    record = enrolment(person)
    api.post("/v1/enrolments", json=record).raise_for_status()
    ingest.post("/v1/sources/death/changes", content=orjson.dumps([death_of(person)]))
    eventually(lambda: alerts_for(api, enrolment_id=record["enrolment_id"]))
    before = _alert_rows(stack.database_url)

    with httpx.Client(base_url=stack.url("ingest"), headers=token(Role.OPS, [AREA])) as client:
        queued = client.post("/v1/replay", json={}).json()["queued"]
        refused = client.post(
            "/v1/replay", json={"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}
        )

    assert queued > 0 and refused.status_code == 422
    marker = new_person()  # an alert raised after the replay proves it has been processed
    marker_enrolment = enrolment(marker)
    api.post("/v1/enrolments", json=marker_enrolment).raise_for_status()
    ingest.post("/v1/sources/death/changes", content=orjson.dumps([death_of(marker)]))
    eventually(lambda: alerts_for(api, enrolment_id=marker_enrolment["enrolment_id"]), timeout=120)
    assert _alert_rows(stack.database_url) == before + 1


def _dead_letters_after_sending(stack, topic: Topic, value: bytes, marker: str) -> list[dict]:
    """Send `value` onto `topic`; the dead letters (any service's) whose raw input has `marker`."""
    producer = KafkaProducer(bootstrap_servers=stack.bootstrap)
    producer.send(topic, key=b"310110", value=value)
    producer.flush()
    producer.close()

    def kept() -> list[dict]:
        response = httpx.get(
            f"{stack.url('ingest')}/v1/dead-letters",
            params={"source": topic.value},
            headers=token(Role.OPS, [AREA]),
        )
        return [d for d in response.json()["items"] if marker in d["raw"]]

    return eventually(kept, timeout=90)


def test_a_message_on_alerts_v1_that_is_no_alert_is_kept_as_a_dead_letter(stack):
    value = b'{"event_type": "alert_raised", "id": 7}'
    [letter] = _dead_letters_after_sending(stack, Topic.ALERTS, value, '"id": 7')
    assert letter["reason"].startswith("not an alert message")


def test_what_the_matcher_cannot_read_is_kept_as_a_dead_letter_and_queryable(stack):
    value = b'{"event_type": "death_registered", "x": 8}'
    [letter] = _dead_letters_after_sending(stack, Topic.DEATH, value, '"x": 8')
    assert letter["service"] == "matcher" and letter["reason"]


def test_an_enrolment_the_fan_out_cannot_read_is_kept_as_a_dead_letter(stack):
    value = b'{"enrolment": {"enrolment_id": "T-BAD-9"}, "y": 9}'
    [letter] = _dead_letters_after_sending(stack, Topic.ENROLMENTS, value, '"y": 9')
    assert letter["service"] == "matcher" and "ValidationError" in letter["reason"]
