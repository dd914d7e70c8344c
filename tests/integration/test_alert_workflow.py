"""The alert workflow through the api: steps, stale versions, other people's claims, areas, bulk
steps, and the audit chain that records them (tampering found by the verify command)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import asyncpg
import httpx
import orjson
import pytest

from shaobing_contracts.id_number import birth_date_of, mask_id_number
from shaobing_runtime.access import Role
from shaobing_runtime.settings import CommonSettings
from shaobing_runtime.tokens import issue_token

from .conftest import (
    AREA,
    OTHER_COMMUNITY,
    alerts_for,
    audit_command,
    change_of,
    death_of,
    enrolment,
    eventually,
    new_person,
    post_changes,
)


def _as(stack, role: Role, subject: str, areas: list[str]) -> httpx.Client:
    token = issue_token(CommonSettings(), subject=subject, role=role, areas=areas)
    return httpx.Client(
        base_url=stack.url("api"), timeout=60, headers={"authorization": f"Bearer {token}"}
    )


def _new_alert(api, ingest) -> dict:
    person = new_person()
    record = enrolment(person)
    api.post("/v1/enrolments", json=record).raise_for_status()
    ingest.post("/v1/sources/death/changes", content=orjson.dumps([death_of(person)]))
    [alert] = eventually(lambda: alerts_for(api, enrolment_id=record["enrolment_id"]))
    return alert


def _step(client: httpx.Client, alert: dict, step: str, **fields) -> httpx.Response:
    body = {"step": step, "version": alert["version"], **fields}
    return client.post(f"/v1/alerts/{alert['id']}/steps", json=body)


@pytest.fixture(scope="module")
def people(stack):
    clients = {
        "wang": _as(stack, Role.CASEWORKER, "wang", [AREA]),
        "li": _as(stack, Role.CASEWORKER, "li", [AREA]),
        "zhao": _as(stack, Role.SUPERVISOR, "zhao", [AREA]),
        "elsewhere": _as(stack, Role.CASEWORKER, "sun", [OTHER_COMMUNITY]),
        "auditor": _as(stack, Role.AUDITOR, "qian", [AREA]),
    }
    yield clients
    for client in clients.values():
        client.close()


def test_an_alert_is_claimed_confirmed_and_reopened_with_every_step_checked(api, ingest, people):
    alert = _new_alert(api, ingest)
    wang, li, zhao = people["wang"], people["li"], people["zhao"]

    claimed = _step(wang, alert, "claim")
    assert claimed.status_code == 200, claimed.text
    assert (claimed.json()["status"], claimed.json()["claimed_by"]) == ("CLAIMED", "wang")
    assert _step(wang, alert, "claim").status_code == 409  # stale version
    claimed = claimed.json()
    assert _step(li, claimed, "confirm", action_taken="PAYMENT_STOPPED").status_code == 409
    assert _step(wang, claimed, "confirm").status_code == 422  # what was done?
    assert _step(wang, claimed, "comment", text="a\u0000b").status_code == 422  # no NUL in text

    confirmed = _step(wang, claimed, "confirm", action_taken="PAYMENT_STOPPED", text="已停发")
    assert confirmed.status_code == 200, confirmed.text
    confirmed = confirmed.json()
    assert (confirmed["status"], confirmed["decided_by"]) == ("CONFIRMED", "wang")
    assert confirmed["decision"]["action_taken"] == "PAYMENT_STOPPED"
    assert _step(wang, confirmed, "reopen").status_code == 403
    reopened = _step(zhao, confirmed, "reopen", text="家属提出异议")
    assert reopened.status_code == 200 and reopened.json()["status"] == "OPEN"


def test_outside_the_callers_area_a_step_finds_no_alert(api, ingest, people):
    alert = _new_alert(api, ingest)

    assert _step(people["elsewhere"], alert, "claim").status_code == 404
    assert _step(people["auditor"], alert, "claim").status_code == 403


def test_a_bulk_step_takes_each_alert_on_its_own(api, ingest, people):
    first, second = _new_alert(api, ingest), _new_alert(api, ingest)
    stale = {"id": second["id"], "version": second["version"] + 5}

    response = people["wang"].post(
        "/v1/alerts/steps",
        json={"step": "claim", "items": [{"id": first["id"], "version": first["version"]}, stale]},
    )

    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["done"], result["refused"]) == (1, 1)
    assert [i["status"] for i in result["items"]] == [200, 409]


async def _tamper(url: str, seq: int, actor: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute("alter table audit_log disable trigger audit_log_append_only")
            await conn.execute("update audit_log set actor = $2 where seq = $1", seq, actor)
            await conn.execute("alter table audit_log enable trigger audit_log_append_only")
    finally:
        await conn.close()


def test_the_audit_chain_records_the_steps_and_the_verify_command_finds_a_tampered_row(
    stack, api, ingest, people
):
    alert = _new_alert(api, ingest)
    _step(people["wang"], alert, "claim").raise_for_status()
    auditor = people["auditor"]

    entries = auditor.get("/v1/audit", params={"object_id": alert["id"]}).json()["items"]
    assert [e["action"] for e in entries] == ["alert.claim"]
    assert entries[0]["actor"] == "wang"
    assert auditor.get("/v1/audit/verification").json()["intact"] is True
    assert people["wang"].get("/v1/audit").status_code == 403

    seq = entries[0]["seq"]
    asyncio.run(_tamper(stack.owner_database_url, seq, "somebody-else"))
    try:
        found = audit_command(stack, "verify")
        assert found.returncode == 1 and f"broken at seq {seq}" in found.stdout, found
        assert auditor.get("/v1/audit/verification").json()["broken_at"] == seq
    finally:
        asyncio.run(_tamper(stack.owner_database_url, seq, "wang"))
    assert audit_command(stack, "verify").returncode == 0


def test_the_audit_trail_refuses_updates_and_deletes(stack):
    async def attempt() -> str:
        conn = await asyncpg.connect(stack.owner_database_url)
        try:
            await conn.execute("delete from audit_log")
        except asyncpg.RaiseError as exc:
            return str(exc)
        finally:
            await conn.close()
        return "deleted"

    assert asyncio.run(attempt()) == "audit_log is append-only"


def test_a_notification_is_contacted_then_applied_for_and_a_stale_step_refused(
    stack, api, ingest, people
):
    person = new_person(date(1944, 6, 6))  # 82: the old-age allowance
    row = {
        "id_number": person,
        "name": "周玉珍",
        "gender": "2",
        "birth_date": (birth_date_of(person) - date(1970, 1, 1)).days,
        "household_no": f"H-{person[-6:]}",
        "relation_to_head": "户主",
        "area_code": "310110001001",
        "address": "杨浦区",
        "status": "ACTIVE",
        "updated_at": 1_795_600_000_000_000,
    }
    assert post_changes(ingest, "hukou", [change_of("hukou.population", row)])["accepted"] == 1
    masked = mask_id_number(person)

    def offered() -> list[dict]:
        found = people["wang"].get("/v1/notifications", params={"benefit": "GAOLING", "limit": 500})
        return [n for n in found.json()["items"] if n["id_number"] == masked]

    [notification] = eventually(offered)
    with _signed_in(stack, "wang", [AREA]) as browser:
        page = browser.get("/ui/notifications", params={"benefit": "gaoling", "status": ""}).text
        assert f'data-notification="{notification["id"]}"' in page and "已联系" in page
    url = f"/v1/notifications/{notification['id']}/steps"
    contacted = people["wang"].post(
        url, json={"step": "contact", "version": notification["version"], "text": "电话联系"}
    )
    assert contacted.status_code == 200, contacted.text
    assert contacted.json()["status"] == "CONTACTED"
    stale = people["wang"].post(url, json={"step": "applied", "version": notification["version"]})
    assert stale.status_code == 409
    applied = people["wang"].post(
        url, json={"step": "applied", "version": contacted.json()["version"]}
    )
    assert applied.status_code == 200 and applied.json()["status"] == "APPLIED"
    reopen = people["wang"].post(url, json={"step": "reopen", "version": applied.json()["version"]})
    assert reopen.status_code == 403


SEVERITY_ORDER = ["CRITICAL", "HIGH", "MEDIUM", "LOW"]


def test_the_queue_puts_the_most_severe_and_soonest_due_first_with_time_left(api, ingest, people):
    alert = _new_alert(api, ingest)

    page = people["wang"].get("/v1/alerts/queue", params={"limit": 500}).json()

    keys = [(SEVERITY_ORDER.index(i["severity"]), i["due_date"]) for i in page["items"]]
    assert keys == sorted(keys)
    [mine] = [i for i in page["items"] if i["id"] == alert["id"]]
    assert mine["days_left"] >= 0 and mine["overdue"] is False
    counted = {(c["status"], c["severity"]): c["alerts"] for c in page["counts"]}
    assert counted[("OPEN", "CRITICAL")] >= 1
    assert all(i["status"] in ("OPEN", "CLAIMED") for i in page["items"])
    elsewhere = people["elsewhere"].get("/v1/alerts/queue").json()["items"]
    assert alert["id"] not in {i["id"] for i in elsewhere}
    overdue = people["wang"].get("/v1/alerts/queue", params={"overdue": "true"}).json()
    assert alert["id"] not in {i["id"] for i in overdue["items"]}
    assert all(i["overdue"] and i["days_left"] < 0 for i in overdue["items"])
    assert sum(c["overdue"] for c in page["counts"]) == len(overdue["items"])


def test_the_queue_exports_as_csv_and_xlsx_watermarked_and_audited(api, ingest, people):
    _new_alert(api, ingest)
    wang, auditor = people["wang"], people["auditor"]

    as_csv = wang.get("/v1/alerts/queue/export", params={"format": "csv", "severity": "CRITICAL"})
    as_xlsx = wang.get("/v1/alerts/queue/export", params={"format": "xlsx"})

    assert as_csv.status_code == 200, as_csv.text
    text = as_csv.content.decode("utf-8-sig")
    assert text.startswith("导出人 Exported by: wang (caseworker)") and "severity=CRITICAL" in text
    assert as_xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert as_xlsx.content[:2] == b"PK"  # a zip: the xlsx container
    exports = auditor.get("/v1/audit", params={"object_id": "alerts", "actor": "wang"}).json()
    assert [e["details"]["format"] for e in exports["items"][:2]] == ["xlsx", "csv"]


@contextmanager
def _signed_in(stack, subject: str, areas: list[str]) -> Iterator[httpx.Client]:
    token = issue_token(CommonSettings(), subject=subject, role=Role.CASEWORKER, areas=areas)
    with httpx.Client(base_url=stack.url("api"), timeout=60) as browser:
        browser.get("/ui/login", params={"token": token})
        yield browser


def test_the_alert_page_shows_the_case_and_its_steps_and_works_them(stack, api, ingest):
    alert = _new_alert(api, ingest)
    with _signed_in(stack, "zhou", [AREA]) as browser:
        page = browser.get(f"/ui/alerts/{alert['id']}")
        assert page.status_code == 200
        assert alert["explanation"]["zh_cn"] in page.text
        assert 'data-step="claim"' in page.text and "death.registrations" in page.text
        # The page's buttons post to the api with the same cookie.
        claimed = browser.post(
            f"/v1/alerts/{alert['id']}/steps", json={"step": "claim", "version": alert["version"]}
        )
        assert claimed.status_code == 200, claimed.text
        english = browser.get(f"/ui/alerts/{alert['id']}?lang=en").text
        assert 'data-step="confirm"' in english and "CLAIM" in english  # the timeline
    with _signed_in(stack, "sun", [OTHER_COMMUNITY]) as elsewhere:
        assert elsewhere.get(f"/ui/alerts/{alert['id']}").status_code == 404
