"""A real Prometheus and Alertmanager against the suite's stack: all four services are healthy
targets, their metrics are clean for promtool and present after a little load, and a stopped
service's ServiceDown alert reaches a webhook through the project's own routing."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx
import pytest
import yaml

from shaobing_dev.dashboards import rendered
from shaobing_dev.monitoring import ALERTMANAGER, SERVICES, Monitoring, available, start_monitoring
from shaobing_dev.stack import Stack, free_port
from shaobing_runtime.access import Role

from .conftest import alerts_for, death_of, enrolment, eventually, new_person, token

pytestmark = pytest.mark.skipif(not available(), reason="prometheus not installed (make test does)")

# What the dashboards and rules read; each must be on the running services.
DOCUMENTED = [
    "up",
    "shaobing_ingest_items_total",
    "shaobing_ingest_last_event_timestamp_seconds",
    "shaobing_event_log_published_total",
    "shaobing_consumer_lag_messages",
    "shaobing_consumer_lag_seconds",
    "shaobing_dependency_up",
    "shaobing_matcher_events_total",
    "shaobing_matcher_alerts_raised_total",
    "shaobing_alerts_stored_total",
    "shaobing_ingest_to_alert_seconds_bucket",
    "shaobing_source_to_alert_seconds_bucket",
    "shaobing_alerts_open",
    "shaobing_alerts_overdue",
    "shaobing_notifications",
    "shaobing_audit_anchored_timestamp_seconds",
    "http_requests_total",
]


class _Webhook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def webhook() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()


@pytest.fixture(scope="module")
def monitoring(stack: Stack, webhook: int) -> Iterator[Monitoring]:
    routes = yaml.safe_load(ALERTMANAGER.read_text(encoding="utf-8"))
    routes["route"] |= {"group_wait": "1s", "group_interval": "1s"}
    for route in routes["route"]["routes"]:
        route["group_wait"] = "1s"
    text = yaml.safe_dump(routes).replace("127.0.0.1:9099", f"127.0.0.1:{webhook}")
    running = start_monitoring(
        stack,
        prometheus_port=free_port(),
        alertmanager_port=free_port(),
        interval="1s",
        for_override="3s",
        alertmanager_config=text,
    )
    yield running
    running.stop()


def _query(monitoring: Monitoring, expr: str) -> list[dict]:
    answer = httpx.get(f"{monitoring.prometheus}/api/v1/query", params={"query": expr}).json()
    return answer["data"]["result"]


def test_the_four_services_are_healthy_targets(monitoring: Monitoring) -> None:
    def healthy() -> set[str]:
        targets = httpx.get(f"{monitoring.prometheus}/api/v1/targets").json()["data"]
        return {t["labels"]["job"] for t in targets["activeTargets"] if t["health"] == "up"}

    assert eventually(lambda: healthy() == {f"shaobing-{s}" for s in SERVICES} or None)
    rules = httpx.get(f"{monitoring.prometheus}/api/v1/rules").json()["data"]["groups"]
    assert {g["name"] for g in rules} >= {"shaobing.services", "shaobing.pipeline"}


def test_every_metric_is_clean_and_the_documented_ones_are_there_after_some_load(
    stack: Stack, monitoring: Monitoring, api: httpx.Client, ingest: httpx.Client
) -> None:
    person = new_person()
    record = enrolment(person)
    api.post("/v1/enrolments", json=record).raise_for_status()
    ingest.post("/v1/sources/death/changes", json=[death_of(person)]).raise_for_status()
    eventually(lambda: alerts_for(api, enrolment_id=record["enrolment_id"]))
    for service in SERVICES:
        text = httpx.get(f"{stack.url(service)}/metrics").text
        lint = subprocess.run(
            ["promtool", "check", "metrics"], input=text, capture_output=True, text=True
        )
        assert lint.returncode == 0, f"{service}: {lint.stdout}{lint.stderr}"

    def missing() -> list[str]:
        return [m for m in DOCUMENTED if not _query(monitoring, f"count({m})")]

    eventually(lambda: not missing() or None, timeout=90)


def _decide_and_pay(stack: Stack, alert: dict, area: str) -> None:
    """A decision (time to clear, validity) and a payout run (its amounts), as people do."""
    supervisor = httpx.Client(base_url=stack.url("api"), headers=token(Role.SUPERVISOR, [area]))
    officer = httpx.Client(base_url=stack.url("api"), headers=token(Role.PAYMENT_OFFICER, [area]))
    with supervisor, officer:
        url = f"/v1/alerts/{alert['id']}/steps"
        claimed = supervisor.post(url, json={"step": "claim", "version": alert["version"]}).json()
        confirm = {
            "step": "confirm",
            "version": claimed["version"],
            "action_taken": "PAYMENT_STOPPED",
        }
        supervisor.post(url, json=confirm).raise_for_status()
        run = officer.post("/v1/payout-runs", json={"month": "2026-12", "area": area}).json()
        eventually(lambda: officer.get(f"/v1/payout-runs/{run['id']}").json()["status"] == "READY")


def test_every_dashboard_query_returns_data_after_a_little_load(
    stack: Stack, monitoring: Monitoring, api: httpx.Client, ingest: httpx.Client
) -> None:
    area = "310110007001"
    decided, left_open = (enrolment(new_person(), area=area) for _ in range(2))
    api.post("/v1/enrolments", json=[decided, left_open]).raise_for_status()
    deaths = [death_of(e["beneficiary_id"]) for e in (decided, left_open)]
    bad = {**deaths[0], "payload": {**deaths[0]["payload"], "op": "x"}}  # a dead letter
    ingest.post("/v1/sources/death/changes", json=[*deaths, bad]).raise_for_status()
    [alert] = eventually(lambda: alerts_for(api, enrolment_id=decided["enrolment_id"]))
    eventually(lambda: alerts_for(api, enrolment_id=left_open["enrolment_id"]))
    _decide_and_pay(stack, alert, area)
    queries = [t["expr"] for path, text in rendered().items() for t in _targets(text)]

    deadline = time.monotonic() + 120
    while empty := [q for q in queries if not _query(monitoring, q)]:
        assert time.monotonic() < deadline, f"no data for: {empty}"
        time.sleep(2)


def _targets(text: str) -> list[dict]:
    return [t for p in json.loads(text)["panels"] for t in p["targets"]]


def test_a_stopped_service_wakes_someone_through_alertmanager(
    stack: Stack, monitoring: Monitoring
) -> None:
    eventually(lambda: _query(monitoring, 'up{job="shaobing-alerts"} == 1'))
    stack.stop_service("alerts")
    try:

        def paged() -> list[dict]:
            return [
                a
                for message in _Webhook.received
                for a in message["alerts"]
                if a["labels"]["alertname"] == "ShaobingServiceDown"
                and a["labels"]["job"] == "shaobing-alerts"
                and a["status"] == "firing"
            ]

        [alert] = eventually(paged, timeout=90)[:1]
        assert alert["labels"]["severity"] == "critical"
        assert alert["annotations"]["runbook_url"].endswith("docs/runbooks/service-down.md")
    finally:
        stack.start_service("alerts")
        stack.wait_ready(("alerts",))
