"""Least privilege at the edges: a feed posts only to its sources, dead letters are masked and
their reads audited, no framework page is served, the sign-in cookie is Secure outside
development, bodies are capped before they are parsed, and exports stream."""

from __future__ import annotations

import httpx
import orjson

from shaobing_runtime.access import Role

from .conftest import (
    AREA,
    change_of,
    death_of,
    hukou_row,
    new_person,
    token,
)

DEATH_HEADER = "certificate_no,id_number,date_of_death,source,recorded_at"
MiB = 1024 * 1024


def _ingest_as(stack, role: Role, sources: tuple[str, ...] = ()) -> httpx.Client:
    headers = token(role, [AREA], sources=sources)
    return httpx.Client(base_url=stack.url("ingest"), headers=headers, timeout=60)


# --- a feed token names its sources ----------------------------------------------------------


def test_a_feed_token_posts_only_to_the_sources_it_names(stack):
    body = orjson.dumps([death_of(new_person())])
    csv_body = f"{DEATH_HEADER}\n".encode()
    with _ingest_as(stack, Role.FEED, ("hukou",)) as hukou_feed:
        changes = hukou_feed.post("/v1/sources/death/changes", content=body)
        batch = hukou_feed.post("/v1/sources/death/batches", content=csv_body)
        progress = hukou_feed.get("/v1/sources/death/batches/any-batch")
        own = [change_of("hukou.population", hukou_row(new_person()))]
        allowed = hukou_feed.post("/v1/sources/hukou/changes", content=orjson.dumps(own))

    assert [r.status_code for r in (changes, batch, progress)] == [403] * 3
    assert changes.headers["content-type"].startswith("application/problem+json")
    assert changes.json()["detail"].startswith("source: ")
    assert allowed.status_code == 200 and allowed.json()["accepted"] == 1


def test_a_feed_token_naming_no_source_posts_nowhere_and_an_admin_everywhere(stack):
    body = orjson.dumps([death_of(new_person())])
    with _ingest_as(stack, Role.FEED) as nameless, _ingest_as(stack, Role.ADMIN) as admin:
        refused = nameless.post("/v1/sources/death/changes", content=body)
        accepted = admin.post("/v1/sources/death/changes", content=body)

    assert refused.status_code == 403 and refused.json()["detail"].startswith("source: ")
    assert accepted.status_code == 200 and accepted.json()["accepted"] == 1


def test_a_feed_neither_replays_nor_reads_dead_letters(stack):
    with _ingest_as(stack, Role.FEED, ("death",)) as feed:
        assert feed.post("/v1/replay", json={}).status_code == 403
        assert feed.get("/v1/dead-letters").status_code == 403
