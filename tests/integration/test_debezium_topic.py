"""With a real Debezium in front, changes arrive on Kafka topics and take the same way in."""

from __future__ import annotations

import httpx
import orjson
from kafka import KafkaProducer

from shaobing_runtime.access import Role

from .conftest import (
    AREA,
    DEBEZIUM_TOPIC,
    alerts_for,
    death_of,
    enrolment,
    eventually,
    new_person,
    token,
)


def test_changes_on_a_debezium_topic_raise_the_alert_and_bad_records_are_dead_lettered(
    stack, api, ingest
):
    person = new_person()
    record = enrolment(person)
    api.post("/v1/enrolments", json=record).raise_for_status()
    change = death_of(person)
    producer = KafkaProducer(bootstrap_servers=stack.bootstrap)
    key = orjson.dumps({"certificate_no": change["payload"]["after"]["certificate_no"]})
    for value in (b"{not json", orjson.dumps(change), None, orjson.dumps(change)):
        producer.send(DEBEZIUM_TOPIC, key=key, value=value)  # garbage, change, tombstone, again
    producer.flush()
    producer.close()

    [alert] = eventually(lambda: alerts_for(api, enrolment_id=record["enrolment_id"]))

    assert alert["evidence"][0]["provenance"]["channel"] == "debezium_kafka"
    letters = eventually(
        lambda: [
            d
            for d in stack_dead_letters(stack)
            if d["source"] == "death" and "not JSON" in d["reason"] and "{not json" in d["raw"]
        ]
    )
    assert letters


def stack_dead_letters(stack) -> list[dict]:
    response = httpx.get(
        f"{stack.url('ingest')}/v1/dead-letters",
        headers=token(Role.OPS, [AREA]),
        params={"limit": 500},
    )
    return response.json()["items"]
