"""A service killed with -9 in the middle of long work: ingest in the middle of a CSV export,
the api in the middle of a payout run. What was done before the kill stays done, nothing is
done twice, and the work is finished by doing it again."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import httpx
import pytest

from shaobing_contracts.id_number import make_id_number
from shaobing_dev.csv_feed import csv_header, csv_line
from shaobing_dev.faults import Faults, bearer
from shaobing_dev.workload import AREA
from shaobing_runtime.access import Role

from .conftest import FAULT_SECONDS, fetch, recovered, through

ROWS = 30_000
HUKOU = "hukou.population"


def _registrations() -> list[str]:
    """A CSV export of household registrations of people of 40 (nobody to notify)."""
    born = [date(1986, 1, 1) + timedelta(days=n // 499) for n in range(ROWS)]
    rows = [
        {
            "id_number": make_id_number("320511", born[n], n % 499 * 2 + 1),
            "name": "李明",
            "gender": "1",
            "birth_date": born[n],
            "household_no": f"H{n}",
            "relation_to_head": "01",
            "area_code": AREA,
            "address": "杨浦区",
            "status": "ACTIVE",
            "updated_at": datetime(2026, 11, 20, 9, 30),
        }
        for n in range(ROWS)
    ]
    return [csv_header(HUKOU), *(csv_line(HUKOU, r) for r in rows)]


def _slowly(lines: list[str]) -> Iterator[bytes]:
    """The file as a feed on a slow line sends it: 1,000 lines at a time."""
    for start in range(0, len(lines), 1000):
        yield "".join(lines[start : start + 1000]).encode()
        time.sleep(0.2)


def _post(stack, lines: list[str], **params: str) -> httpx.Response:
    return httpx.post(
        f"{stack.url('ingest')}/v1/sources/hukou/batches",
        content=_slowly(lines),
        params=params,
        headers=bearer(Role.FEED),
        timeout=120,
    )


def _post_cut_off(stack, lines: list[str], failures: list[Exception]) -> None:
    """The post that the kill of ingest cuts off: how it failed, in `failures`."""
    try:
        _post(stack, lines, batch_id="hukou-killed")
    except httpx.TransportError as exc:
        failures.append(exc)


def _stored_rows(stack, people: list[str]) -> int:
    return fetch(
        stack.database_url,
        "select count(*) from source_rows where source_table = $1 and primary_key = any($2)",
        HUKOU,
        people,
    )


def test_ingest_killed_in_the_middle_of_a_csv_export_takes_the_file_again(
    fault_stack, faults: Faults, workload
):
    lines = _registrations()
    people = [line.split(",")[0] for line in lines[1:]]
    cut_off: list[Exception] = []
    first = threading.Thread(target=_post_cut_off, args=(fault_stack, lines, cut_off))
    first.start()
    deadline = time.monotonic() + 60
    while _stored_rows(fault_stack, people) < 5000 and time.monotonic() < deadline:
        time.sleep(0.2)
    faults.kill("ingest")
    first.join(60)
    assert cut_off, "the post cut off by the kill did not fail"
    stored_before = _stored_rows(fault_stack, people)
    assert 5000 <= stored_before < ROWS
    started_again = time.monotonic()
    faults.restart("ingest")

    again = _post(fault_stack, lines)

    assert again.status_code == 200, again.text
    counts = again.json()
    assert counts["accepted"] == ROWS - stored_before
    # a row as already stored is a duplicate, or changes nothing (ignored): never a second event
    assert counts["duplicates"] + counts["ignored"] == stored_before
    assert counts["dead_lettered"] == 0
    assert _stored_rows(fault_stack, people) == ROWS
    recovered(fault_stack, workload, ended=started_again)


@pytest.fixture
def officer(fault_stack) -> Iterator[httpx.Client]:
    headers = bearer(Role.PAYMENT_OFFICER)
    with httpx.Client(base_url=fault_stack.url("api"), headers=headers, timeout=60) as client:
        yield client


def test_the_api_killed_in_the_middle_of_a_payout_run_fails_it_and_a_new_run_decides_all(
    fault_stack, faults: Faults, workload, officer
):
    with faults.table_locked("payout_run_reasons"):  # the run waits in its first step
        started = officer.post("/v1/payout-runs", json={"month": "2026-12", "area": AREA})
        assert started.status_code == 202, started.text
        time.sleep(2)
        faults.kill("api")
    through(fault_stack, max(FAULT_SECONDS, 12))  # longer than API_PAYOUT_STALL_SECONDS
    started_again = time.monotonic()
    faults.restart("api")

    interrupted = officer.get(f"/v1/payout-runs/{started.json()['id']}").json()
    assert interrupted["status"] == "FAILED", interrupted
    again = officer.post("/v1/payout-runs", json={"month": "2026-12", "area": AREA})
    assert again.status_code == 202, again.text
    deadline = time.monotonic() + 60
    while (run := officer.get(f"/v1/payout-runs/{again.json()['id']}").json())["status"] in (
        "RUNNING",
    ) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert run["status"] == "READY", run
    items = fetch(
        fault_stack.database_url,
        "select count(*) from payout_run_items where run_id = $1",
        run["id"],
    )
    assert items == run["rows_checked"] == run["rows_total"] > 0
    recovered(fault_stack, workload, ended=started_again)
