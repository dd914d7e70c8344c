"""Least privilege at the edges: a feed posts only to its sources, dead letters are masked and
their reads audited, no framework page is served, the sign-in cookie is Secure outside
development, bodies are capped before they are parsed, and exports stream."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator

import httpx
import orjson
import pytest

from shaobing_contracts.id_number import mask_id_number
from shaobing_dev.stack import free_port, wait_until
from shaobing_runtime.access import Role
from shaobing_runtime.settings import CommonSettings
from shaobing_runtime.tokens import issue_token

from .conftest import (
    AREA,
    change_of,
    death_of,
    hukou_row,
    new_person,
    post_changes,
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


# --- dead letters: raw input by role, every read audited -------------------------------------


def _letter(stack, role: Role, certificate: str) -> dict:
    query = {"source": "death", "field": "source.table", "limit": 500}
    with _ingest_as(stack, role) as client:
        page = client.get("/v1/dead-letters", params=query)
    assert page.status_code == 200, page.text
    [letter] = [d for d in page.json()["items"] if certificate in d["raw"]]
    return letter


def _dead_letter_reads(stack, letter_id: str) -> list[dict]:
    admin = token(Role.ADMIN, [AREA])
    entries = httpx.get(
        f"{stack.url('api')}/v1/audit",
        params={"object_type": "dead_letter", "limit": 500},
        headers=admin,
    ).json()["items"]
    return [e for e in entries if letter_id in e["details"]["ids"]]


def test_dead_letters_show_the_raw_input_in_full_only_to_admins_and_each_read_is_audited(
    stack, ingest
):
    person, certificate = new_person(), f"SW-LP-{uuid.uuid4().hex[:10]}"
    change = death_of(person, certificate=certificate)
    change["payload"]["source"]["table"] = "payment"
    assert post_changes(ingest, "death", [change])["dead_lettered"] == 1

    for_ops = _letter(stack, Role.OPS, certificate)
    for_admin = _letter(stack, Role.ADMIN, certificate)

    assert person not in for_ops["raw"] and mask_id_number(person) in for_ops["raw"]
    assert person in for_admin["raw"]
    reads = _dead_letter_reads(stack, for_ops["id"])
    shown = sorted((e["actor"], e["details"]["raw_shown"]) for e in reads)
    assert shown == [("test-admin", True), ("test-ops", False)]
    assert all(e["details"]["query"]["field"] == "source.table" for e in reads)


# --- only Shaobing's pages -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/router", "/router/", "/table/", "/", "/stats/", "/graph/"])
def test_the_matcher_serves_no_page_of_faust(stack, path):
    assert httpx.get(f"{stack.url('matcher')}{path}").status_code == 404


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("api", "/redoc"),
        ("ingest", "/redoc"),
        ("api", "/docs/oauth2-redirect"),
        ("alerts", "/docs"),
        ("alerts", "/openapi.json"),
    ],
)
def test_no_framework_page_beyond_the_api_documentation(stack, service, path):
    assert httpx.get(f"{stack.url(service)}{path}").status_code == 404


def test_the_api_documentation_stays_where_the_readme_points(stack):
    for service in ("api", "ingest"):
        assert httpx.get(f"{stack.url(service)}/docs").status_code == 200
        assert httpx.get(f"{stack.url(service)}/openapi.json").status_code == 200


# --- the sign-in cookie ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def production_api(stack) -> Iterator[tuple[str, str]]:
    """A second api of the same stack with ENVIRONMENT=production: (its URL, its secret)."""
    secret, port = f"production-{uuid.uuid4().hex}", free_port()
    env = stack.service_env("api") | {
        "ENVIRONMENT": "production",
        "JWT_SECRET": secret,
        "API_PORT": str(port),
    }
    process = stack.spawn("api-production", [sys.executable, "-m", "shaobing_api"], env)
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: _answers(f"{url}/readyz"), 120, "the production api ready")
    yield url, secret
    process.terminate()
    process.wait(20)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _sign_in_cookie(base_url: str, settings: CommonSettings) -> str:
    value = issue_token(settings, subject="wang", role=Role.CASEWORKER, areas=[AREA])
    response = httpx.get(f"{base_url}/ui/login", params={"token": value})
    assert response.status_code == 303, response.text
    return response.headers["set-cookie"]


def test_the_sign_in_cookie_is_secure_outside_development(stack, production_api):
    url, secret = production_api
    production = CommonSettings(environment="production", jwt_secret=secret)

    outside = _sign_in_cookie(url, production).lower()
    development = _sign_in_cookie(stack.url("api"), CommonSettings()).lower()

    assert "; secure" in outside and "httponly" in outside and "samesite=strict" in outside
    assert "; secure" not in development and "httponly" in development
