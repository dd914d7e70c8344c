"""Least privilege at the edges: a feed posts only to its sources, dead letters are masked and
their reads audited, no framework page is served, the sign-in cookie is Secure outside
development, bodies are capped before they are parsed, and exports stream."""

from __future__ import annotations

import csv
import io
import itertools
import sys
import uuid
from collections.abc import Iterator
from datetime import date

import httpx
import orjson
import pytest
from openpyxl import load_workbook

from shaobing_contracts.id_number import make_id_number, mask_id_number
from shaobing_dev.stack import free_port, wait_until
from shaobing_runtime.access import Role
from shaobing_runtime.settings import CommonSettings
from shaobing_runtime.tokens import issue_token

from .conftest import (
    AREA,
    change_of,
    death_of,
    enrolment,
    hukou_row,
    new_person,
    post_changes,
    token,
)
from .payouts import client_as, ready_run

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
    """A second api of the same stack, as outside development (ENVIRONMENT=production, its own
    secret) and with XLSX exports capped at 20 rows: (its URL, its secret)."""
    secret, port = f"production-{uuid.uuid4().hex}", free_port()
    env = stack.service_env("api") | {
        "ENVIRONMENT": "production",
        "JWT_SECRET": secret,
        "API_PORT": str(port),
        "API_MAX_XLSX_ROWS": "20",
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


# --- bodies capped in bytes before they are parsed -------------------------------------------


def _chunked(data: bytes, size: int = 256 * 1024) -> Iterator[bytes]:
    """A body without Content-Length (chunked transfer), as a streaming client sends it."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _refused_as_too_large(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413, response.text[:300]
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == f"body: larger than {limit} bytes"


def test_an_api_body_beyond_its_cap_is_refused_before_it_is_parsed(api):
    record = enrolment(new_person())
    padded = b"{" + b" " * (16 * MiB) + orjson.dumps(record)[1:]  # valid JSON, 16 MiB of spaces
    step = b'{"step": "comment", "version": 1, "text": "' + b"x" * MiB + b'"}'
    steps_url = f"/v1/alerts/{uuid.uuid4()}/steps"

    _refused_as_too_large(api.post("/v1/enrolments", content=padded), 16 * MiB)
    _refused_as_too_large(api.post(steps_url, content=step), MiB)
    _refused_as_too_large(api.post(steps_url, content=_chunked(step)), MiB)
    _refused_as_too_large(api.post("/v1/payout-runs", content=step), MiB)


def test_changes_beyond_the_cap_are_refused_with_or_without_a_content_length(ingest):
    body = b"[" + b" " * (64 * MiB) + b"]"

    _refused_as_too_large(ingest.post("/v1/sources/death/changes", content=body), 64 * MiB)
    chunked = ingest.post("/v1/sources/death/changes", content=_chunked(body))
    _refused_as_too_large(chunked, 64 * MiB)


_elders = itertools.count(1)


def _death_rows(count: int) -> list[str]:
    """Valid death registrations of people nobody enrols (born 1925 in Beijing)."""
    rows = []
    for _ in range(count):
        n = next(_elders)
        born = date(1925, 1 + n // 26_973 % 12, 1 + n // 999 % 27)
        person = make_id_number("110101", born, n % 999 + 1)
        rows.append(f"LP-{n:08d},{person},2026-10-02,CREMATION,2026-11-21 08:15:00")
    return rows


def test_a_csv_beyond_its_size_cap_is_refused_and_the_chunks_before_it_stay(ingest):
    rows = _death_rows(8_000)  # 5,000 rows a chunk: one fits in the 512 KiB the stack allows
    body = "\n".join([DEATH_HEADER, *rows]).encode()
    batch = f"lp-size-{uuid.uuid4().hex[:8]}"

    refused = ingest.post(
        "/v1/sources/death/batches", params={"batch_id": batch}, content=_chunked(body)
    )

    _refused_as_too_large(refused, MiB // 2)
    progress = ingest.get(f"/v1/sources/death/batches/{batch}").json()
    assert (progress["status"], progress["rows_read"], progress["accepted"]) == (
        "FAILED",
        5_000,
        5_000,
    )
    assert progress["error"] == f"body: larger than {MiB // 2} bytes"


def test_a_csv_line_beyond_its_cap_is_a_422_naming_the_line_and_the_limit(ingest):
    rows = _death_rows(5_001)
    body = "\n".join([DEATH_HEADER, *rows, "x" * 70_000, *_death_rows(2)]).encode()
    batch = f"lp-line-{uuid.uuid4().hex[:8]}"

    refused = ingest.post("/v1/sources/death/batches", params={"batch_id": batch}, content=body)

    assert refused.status_code == 422, refused.text[:300]
    detail = refused.json()["detail"]
    assert detail == "body: line 5003 is longer than 65536 characters"
    progress = ingest.get(f"/v1/sources/death/batches/{batch}").json()
    assert (progress["status"], progress["accepted"]) == ("FAILED", 5_000)


# --- exports stream --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def approved_run(stack, api) -> tuple[dict, list[dict]]:
    """An approved payout run over a community of its own with 30 enrolments to pay."""
    area = "310110009001"
    paid = [enrolment(new_person(), area=area) for _ in range(30)]
    api.post("/v1/enrolments", json=paid).raise_for_status()
    with (
        client_as(stack, Role.PAYMENT_OFFICER, "officer-lp") as officer,
        client_as(stack, Role.SUPERVISOR, "supervisor-lp") as supervisor,
    ):
        run = ready_run(officer, area)
        approved = supervisor.post(
            f"/v1/payout-runs/{run['id']}/approval", json={"version": run["version"]}
        )
    assert approved.status_code == 200, approved.text
    return run, paid


def _streamed(client: httpx.Client, url: str, **params: str) -> bytes:
    with client.stream("GET", url, params=params) as response:
        assert response.status_code == 200, response.read()[:300]
        assert "content-length" not in response.headers
        assert response.headers["transfer-encoding"] == "chunked"
        return response.read()


def test_the_payout_file_and_the_exceptions_stream(stack, approved_run):
    run, paid = approved_run
    with client_as(stack, Role.PAYMENT_OFFICER, "officer-lp") as officer:
        as_csv = _streamed(officer, f"/v1/payout-runs/{run['id']}/payout-file", format="csv")
        as_xlsx = _streamed(officer, f"/v1/payout-runs/{run['id']}/payout-file", format="xlsx")
        held = _streamed(officer, f"/v1/payout-runs/{run['id']}/exceptions", format="csv")

    lines = list(csv.reader(io.StringIO(as_csv.decode("utf-8-sig"))))
    assert sorted(line[0] for line in lines[2:]) == sorted(e["enrolment_id"] for e in paid)
    sheet = load_workbook(io.BytesIO(as_xlsx)).active
    assert sheet.max_row == 2 + len(paid) and "officer-lp" in sheet["A1"].value
    assert len(held.decode("utf-8-sig").splitlines()) == 2


def test_the_queue_export_streams(api):
    assert _streamed(api, "/v1/alerts/queue/export", format="csv").startswith(b"\xef\xbb\xbf")
    assert _streamed(api, "/v1/alerts/queue/export", format="xlsx")[:2] == b"PK"


def test_an_xlsx_beyond_its_row_cap_is_a_422_naming_the_format_and_csv_streams_instead(
    production_api, approved_run
):
    (url, secret), (run, paid) = production_api, approved_run
    settings = CommonSettings(environment="production", jwt_secret=secret)
    officer = issue_token(settings, subject="officer-lp", role=Role.PAYMENT_OFFICER, areas=[AREA])
    headers = {"authorization": f"Bearer {officer}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        refused = client.get(f"/v1/payout-runs/{run['id']}/payout-file", params={"format": "xlsx"})
        as_csv = _streamed(client, f"/v1/payout-runs/{run['id']}/payout-file", format="csv")

    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"] == "format: xlsx holds at most 20 rows, not 30; use format=csv"
    assert len(as_csv.decode("utf-8-sig").splitlines()) == 2 + len(paid)
