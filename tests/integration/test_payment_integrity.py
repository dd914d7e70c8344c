"""Payment integrity: an enrolment is paid at most once a month, what is approved is what is
paid, every enrolment write is audited and a new payout account waits for a second person, and
the duties around a run are kept apart (who starts it neither overrides nor approves it; a run
the stall watcher failed stays failed; a run busy in one long step is not taken for stalled).

The months from 2030 are this module's own: a run over the whole test district (310110) covers
every test's enrolments and must not overlap another test's run of its month.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import asyncpg
import httpx

from shaobing_runtime.access import Role

from .conftest import PAYOUT_STALL_SECONDS, eventually, fetch, new_person
from .payouts import (
    area_fixture,  # noqa: F401 (the fixture `area`)
    audited,
    client_as,
    codes,
    enrol,
    finished,
    items_of,
    people_fixture,  # noqa: F401 (the fixture `people`)
    ready_run,
)

DISTRICT = "310110"
T = TypeVar("T")


def _start(client: httpx.Client, area: str, month: str) -> httpx.Response:
    return client.post("/v1/payout-runs", json={"month": month, "area": area})


async def _holding_reasons(database_url: str, during: Callable[[], T]) -> T:
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute("lock table payout_run_reasons in share mode")
            return await asyncio.to_thread(during)
    finally:
        await conn.close()


def while_runs_gather(stack, during: Callable[[], T]) -> T:
    """Do `during` while every run waits in its first step (gathering reasons) for a lock."""
    return asyncio.run(_holding_reasons(stack.database_url, during))


def _runs_ended(stack) -> float:
    """Payout runs the api's workers have finished, READY or failed."""
    metrics = httpx.get(f"{stack.url('api')}/metrics").text
    counts = re.findall(r"^shaobing_payout_runs_total\{.*\} (\S+)$", metrics, re.M)
    return sum(float(v) for v in counts)


def test_a_district_run_overlapping_a_ready_street_run_of_the_month_is_refused_naming_it(
    api, people
):
    month, street = "2030-01", "310110021"
    enrol(api, f"{street}001")
    enrol(api, "310110023001")  # in the district, not in the street
    officer, supervisor = people["officer"], people["supervisor"]
    street_run = ready_run(officer, street, month)

    refused = _start(officer, DISTRICT, month)
    cancelled = supervisor.post(
        f"/v1/payout-runs/{street_run['id']}/cancellation",
        json={"version": street_run["version"], "reason": "改为全区统一核查"},
    )
    district_run = ready_run(officer, DISTRICT, month)

    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert street_run["id"] in detail and street in detail and detail.startswith("area")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "CANCELLED"
    assert district_run["rows_total"] > street_run["rows_total"] == 1
    assert _start(officer, street, month).status_code == 409


def test_a_street_run_inside_a_ready_district_run_of_the_month_is_refused_naming_it(api, people):
    month, street = "2030-02", "310110022"
    enrol(api, f"{street}001")
    officer = people["officer"]
    district_run = ready_run(officer, DISTRICT, month)

    for area in (street, f"{street}001"):
        refused = _start(officer, area, month)
        assert refused.status_code == 409, refused.text
        assert district_run["id"] in refused.json()["detail"]
    assert ready_run(officer, street, "2030-03")["rows_total"] == 1  # another month is free


def test_two_starts_of_the_same_month_and_area_at_once_give_one_run_and_409s_never_a_500(
    stack, api, area
):
    enrol(api, area)
    officers = [client_as(stack, Role.PAYMENT_OFFICER, f"officer-{n}") for n in range(4)]

    def start_all() -> list[int]:
        with ThreadPoolExecutor(len(officers)) as pool:
            answers = pool.map(lambda officer: _start(officer, area, "2026-12"), officers)
            return sorted(a.status_code for a in answers)

    statuses = while_runs_gather(stack, start_all)  # the run stays RUNNING meanwhile

    assert statuses == [202, 409, 409, 409]
    for officer in officers:
        officer.close()


def test_a_run_the_stall_watcher_failed_never_becomes_ready(stack, api, people, area):
    enrol(api, area)
    officer = people["officer"]
    ended = _runs_ended(stack)

    def fail_it_while_it_gathers() -> str:
        started = _start(officer, area, "2026-12")
        assert started.status_code == 202, started.text
        fetch(
            stack.database_url,  # what the watcher does to a run that stopped beating
            """update payout_runs set status = 'FAILED', finished_at = clock_timestamp(),
                      failure = 'interrupted: the api stopped while it ran; start it again'
               where id = $1""",
            started.json()["id"],
        )
        return started.json()["id"]

    run_id = while_runs_gather(stack, fail_it_while_it_gathers)
    eventually(lambda: _runs_ended(stack) > ended)  # its worker has stopped

    run = officer.get(f"/v1/payout-runs/{run_id}").json()
    assert (run["status"], run["rows_checked"]) == ("FAILED", 0)
    assert run["failure"].startswith("interrupted")


def test_a_run_busy_in_one_step_longer_than_the_stall_limit_is_not_taken_for_stalled(
    stack, api, people, area
):
    enrol(api, area)
    officer = people["officer"]

    def wait_past_the_stall_limit() -> tuple[dict, dict]:
        started = _start(officer, area, "2026-12")
        assert started.status_code == 202, started.text
        time.sleep(PAYOUT_STALL_SECONDS * 1.6)
        return started.json(), officer.get(f"/v1/payout-runs/{started.json()['id']}").json()

    started, meanwhile = while_runs_gather(stack, wait_past_the_stall_limit)

    assert meanwhile["status"] == "RUNNING", meanwhile["failure"]
    assert meanwhile["heartbeat_at"] > started["heartbeat_at"]
    assert eventually(lambda: finished(officer, started["id"]))


def _payout_file(client: httpx.Client, run: dict) -> dict[str, list[str]]:
    answer = client.get(f"/v1/payout-runs/{run['id']}/payout-file", params={"format": "csv"})
    assert answer.status_code == 200, answer.text
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    return {row[0]: row for row in rows[2:]}  # after the watermark and the headings


def test_the_payout_file_pays_the_account_and_amount_that_were_checked_and_approved(
    api, people, area
):
    record = enrol(api, area)
    officer, supervisor = people["officer"], people["supervisor"]
    run = ready_run(officer, area)
    approval = {"version": run["version"]}
    assert supervisor.post(f"/v1/payout-runs/{run['id']}/approval", json=approval).is_success
    later = {**record, "payout_account": "6222020299998887776", "monthly_amount": "2000.00"}
    api.post("/v1/enrolments", json=later).raise_for_status()

    flagged = officer.get(f"/v1/payout-runs/{run['id']}").json()
    [row] = _payout_file(officer, run).values()

    assert flagged["changed_since_check"] == 1
    checked = [record["enrolment_id"], "DIBAO", record["beneficiary_id"], record["payout_account"]]
    assert row[:5] == [*checked, "1510.00"]
    assert row[-1] != ""  # marked: changed since the check, paid as approved


def test_an_enrolment_changed_after_its_run_was_checked_is_flagged_and_holds_up_approval(
    api, people, area
):
    enrol(api, area)
    changed = enrol(api, area)
    officer, supervisor = people["officer"], people["supervisor"]
    run = ready_run(officer, area)
    household = [*changed["household_members"], new_person()]
    api.post("/v1/enrolments", json={**changed, "household_members": household}).raise_for_status()

    flagged = officer.get(f"/v1/payout-runs/{run['id']}").json()
    listed = items_of(officer, run)
    refused = supervisor.post(
        f"/v1/payout-runs/{run['id']}/approval", json={"version": flagged["version"]}
    )
    rerun = ready_run(officer, area)

    assert flagged["changed_since_check"] == 1
    assert [e for e, i in listed.items() if i["changed_since_check"]] == [changed["enrolment_id"]]
    assert refused.status_code == 409 and changed["enrolment_id"] in refused.json()["detail"]
    assert rerun["changed_since_check"] == 0
    approved = supervisor.post(
        f"/v1/payout-runs/{rerun['id']}/approval", json={"version": rerun["version"]}
    )
    assert approved.status_code == 200, approved.text


def test_every_enrolment_write_is_audited_with_before_and_after_and_the_account_masked(
    api, people, area
):
    record = enrol(api, area)
    api.post("/v1/enrolments", json=record).raise_for_status()  # unchanged: nothing written
    later = {**record, "payout_account": "6222020211112224444", "monthly_amount": "1600.00"}
    api.post("/v1/enrolments", json=later).raise_for_status()

    entries = audited(people["auditor"], record["enrolment_id"])

    assert [e["action"] for e in entries] == ["enrolment.create", "enrolment.update"]
    created, updated = (e["details"] for e in entries)
    assert created["before"] is None
    assert created["after"]["payout_account"] == "***************3445"
    assert created["after"]["monthly_amount"] == "1510.00"
    masked = "*" * 15
    assert updated["before"] == {"monthly_amount": "1510.00", "payout_account": f"{masked}3445"}
    assert updated["after"] == {"monthly_amount": "1600.00", "payout_account": f"{masked}4444"}
    assert updated["version"] == 2 and entries[1]["actor"] == "test-caseworker"
    shown = str(entries)
    assert record["payout_account"] not in shown and later["payout_account"] not in shown


def test_a_new_payout_account_holds_the_next_payment_until_another_supervisor_confirms_it(
    stack, api, people, area
):
    record = enrol(api, area)
    officer, sun = people["officer"], people["supervisor"]
    new_account = {**record, "payout_account": "6222020255556667777"}
    sun.post("/v1/enrolments", json=new_account).raise_for_status()
    run = ready_run(officer, area)
    [held] = items_of(officer, run).values()
    [reason] = held["reasons"]
    override = sun.post(
        f"/v1/payout-runs/{run['id']}/items/{record['enrolment_id']}/override",
        json={"decision": "PAY", "reason": "先发放"},
    )
    page = officer.get(f"/ui/payout-runs/{run['id']}")
    url = f"/v1/enrolments/{record['enrolment_id']}/account-confirmation"
    by_himself = sun.post(url, json={"version": reason["details"]["version"]})
    with client_as(stack, Role.SUPERVISOR, "supervisor-li") as li:
        stale = li.post(url, json={"version": 1})
        confirmed = li.post(url, json={"version": reason["details"]["version"]})
    rerun = ready_run(officer, area)
    [paid] = items_of(officer, rerun).values()

    assert (held["decision"], codes(held)) == ("HOLD", {"ACCOUNT_CHANGE_UNCONFIRMED"})
    assert reason["details"]["changed_by"] == "supervisor-sun"
    assert override.status_code == 409, override.text
    assert "账户" in page.text and reason["zh_cn"] in page.text
    assert (by_himself.status_code, stale.status_code) == (403, 409)
    assert confirmed.status_code == 200, confirmed.text
    assert paid["decision"] == "PAY"
    approval = {"version": rerun["version"]}
    assert sun.post(f"/v1/payout-runs/{rerun['id']}/approval", json=approval).is_success
    [row] = _payout_file(officer, rerun).values()
    assert row[3] == new_account["payout_account"]
    entries = audited(people["auditor"], record["enrolment_id"])
    actions = [e["action"] for e in entries if e["object_type"] == "enrolment"]  # not list reads
    assert actions == ["enrolment.create", "enrolment.update", "enrolment.account_confirmed"]


def test_who_started_a_run_may_not_override_its_items(api, people, area):
    record = enrol(api, area)
    supervisor, officer = people["supervisor"], people["officer"]
    run = ready_run(supervisor, area)
    url = f"/v1/payout-runs/{run['id']}/items/{record['enrolment_id']}/override"
    decided = {"decision": "HOLD", "reason": "待核实"}

    assert supervisor.post(url, json=decided).status_code == 403
    assert officer.post(url, json=decided).status_code == 200


def test_every_override_bumps_the_runs_version_so_an_approval_of_an_older_one_is_refused(
    api, people, area
):
    record = enrol(api, area)
    officer, supervisor = people["officer"], people["supervisor"]
    run = ready_run(officer, area)

    overridden = supervisor.post(
        f"/v1/payout-runs/{run['id']}/items/{record['enrolment_id']}/override",
        json={"decision": "HOLD", "reason": "待核实"},
    )
    stale = supervisor.post(
        f"/v1/payout-runs/{run['id']}/approval", json={"version": run["version"]}
    )

    assert overridden.json()["version"] == run["version"] + 1
    assert stale.status_code == 409, stale.text
