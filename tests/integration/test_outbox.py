"""The outbox's relays: each publishes only its own service's topics (per-service Kafka ACLs),
and nothing too large for the broker ever blocks the rows behind it."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import asyncpg
import orjson

from shaobing_contracts.topics import Topic
from shaobing_runtime.event_log import relay_lock

from .conftest import (
    alerts_for,
    dead_beneficiary,
    death_of,
    enrolment,
    eventually,
    fetch,
    new_person,
)
from .topic_reader import read_topic


async def _holding(url: str, key: int, held: threading.Event, release: threading.Event) -> None:
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute("select pg_advisory_xact_lock($1)", key)
            held.set()
            while not release.is_set():
                await asyncio.sleep(0.1)
    finally:
        await conn.close()


def _published(stack, event_id: str) -> bool:
    [row] = fetch(
        stack.database_url,
        "select published_at from event_log where event_id = $1",
        uuid.UUID(event_id),
    )
    return row["published_at"] is not None


def test_each_relay_publishes_only_its_own_services_topics(stack, api, ingest):
    person = new_person()
    record = enrolment(person)
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(
        target=asyncio.run,
        args=(_holding(stack.owner_database_url, relay_lock("ingest"), held, release),),
    )
    holder.start()  # ingest's relay cannot publish meanwhile; the api's must not do it instead
    try:
        assert held.wait(30)
        api.post("/v1/enrolments", json=record).raise_for_status()
        death = ingest.post("/v1/sources/death/changes", content=orjson.dumps([death_of(person)]))
        [death_id] = death.json()["event_ids"]
        enrolled = fetch(
            stack.database_url,
            "select event_id::text from event_log where key = $1",
            record["enrolment_id"],
        )
        eventually(lambda: all(_published(stack, r[0]) for r in enrolled))  # the api's relay
        time.sleep(2)
        assert not _published(stack, death_id)
    finally:
        release.set()
        holder.join()
    eventually(lambda: alerts_for(api, enrolment_id=record["enrolment_id"]))


def test_a_2_mb_input_is_dead_lettered_cut_on_the_bus_and_never_blocks_the_outbox(
    stack, api, ingest
):
    huge = {"before": None, "after": {"certificate_no": "X" * 2_000_000}, "op": "c"}
    answer = ingest.post("/v1/sources/death/changes", content=orjson.dumps([huge]))
    assert answer.json()["dead_lettered"] == 1, answer.text[:300]

    dead_beneficiary(api, ingest)  # the events behind it are published and matched

    kept = fetch(
        stack.database_url,
        "select length(raw) as n from dead_letters where source = 'death' order by seq desc "
        "limit 20",
    )
    assert any(r["n"] >= 2_000_000 for r in kept)  # the whole input stays where it arrived

    def on_the_bus() -> list[dict]:
        letters = [orjson.loads(v) for v in read_topic(stack.bootstrap, Topic.DEAD_LETTERS)]
        return [letter for letter in letters if '"certificate_no":"XXXXXXXX' in letter["raw"]]

    [letter] = eventually(on_the_bus)
    assert len(letter["raw"]) < 70_000 and "[cut: the first 65536 of" in letter["raw"]


def test_an_event_too_large_for_the_broker_is_set_aside_and_the_rest_is_published(
    stack, api, ingest
):
    big = str(uuid.uuid4())
    fetch(
        stack.owner_database_url,
        """insert into event_log (event_id, topic, key, value)
           values ($1, 'src.hukou.v1', $2, convert_to(repeat('x', 1500000), 'UTF8'))
           returning seq""",
        uuid.UUID(big),
        new_person(),
    )

    dead_beneficiary(api, ingest)  # published and matched behind it

    [row] = fetch(
        stack.database_url,
        "select published_at, set_aside from event_log where event_id = $1",
        uuid.UUID(big),
    )
    assert row["published_at"] is None
    assert "more than KAFKA_MAX_MESSAGE_BYTES" in row["set_aside"]
