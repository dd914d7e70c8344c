"""Payout runs as the tests drive them: people of each role, enrolments in a test's own
community, a run to READY, its items, the audit of an object.

A test module takes the fixtures `area` and `people` by importing `area_fixture` and
`people_fixture`."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import httpx
import pytest

from shaobing_runtime.access import Role
from shaobing_runtime.settings import CommonSettings
from shaobing_runtime.tokens import issue_token

from .conftest import enrolment, eventually, new_person

MONTH = "2026-12"
_communities = itertools.count(1)


@pytest.fixture(name="area")
def area_fixture() -> str:
    """A community of its own for each test (310110 is the test district)."""
    return f"310110005{next(_communities):03d}"


def client_as(stack, role: Role, subject: str) -> httpx.Client:
    value = issue_token(CommonSettings(), subject=subject, role=role, areas=["310110"])
    headers = {"authorization": f"Bearer {value}"}
    return httpx.Client(base_url=stack.url("api"), headers=headers, timeout=60)


@pytest.fixture(name="people", scope="module")
def people_fixture(stack) -> Iterator[dict[str, httpx.Client]]:
    """A payment officer, a supervisor, a case worker and an auditor of the test district."""
    clients = {
        "officer": client_as(stack, Role.PAYMENT_OFFICER, "officer-qian"),
        "supervisor": client_as(stack, Role.SUPERVISOR, "supervisor-sun"),
        "caseworker": client_as(stack, Role.CASEWORKER, "worker-zhou"),
        "auditor": client_as(stack, Role.AUDITOR, "auditor-wu"),
    }
    try:
        yield clients
    finally:
        for client in clients.values():
            client.close()


def enrol(api: httpx.Client, area: str, **changes) -> dict:
    person = new_person()
    record = enrolment(person, area=area, members=changes.pop("members", None)) | changes
    api.post("/v1/enrolments", json=record).raise_for_status()
    return record


def ready_run(client: httpx.Client, area: str, month: str = MONTH) -> dict:
    """Start a run and wait until it is READY."""
    started = client.post("/v1/payout-runs", json={"month": month, "area": area})
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    return eventually(lambda: finished(client, run_id))


def finished(client: httpx.Client, run_id: str) -> dict | None:
    run = client.get(f"/v1/payout-runs/{run_id}").json()
    assert run["status"] != "FAILED", run["failure"]
    return run if run["status"] == "READY" else None


def items_of(client: httpx.Client, run: dict) -> dict[str, dict]:
    found, cursor = {}, None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/v1/payout-runs/{run['id']}/items", params=params).json()
        found |= {i["enrolment_id"]: i for i in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def codes(item: dict) -> set[str]:
    return {r["code"] for r in item["reasons"]}


def audited(auditor: httpx.Client, object_id: str) -> list[dict]:
    """The audit entries of one object, oldest first."""
    entries = auditor.get("/v1/audit", params={"object_id": object_id}).json()["items"]
    return sorted(entries, key=lambda e: e["seq"])
