"""The pages in headless Chromium (Debian's, driven by Playwright): a case worker signs in,
filters the queue, opens an alert, claims and confirms it with the keyboard and sees it leave
the open queue; a worker of another community cannot open it. A payment officer starts a payout
run and a supervisor overrides its critical hold and approves it. Screenshots go to
test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from shaobing_runtime.access import Role

from .conftest import (
    OTHER_COMMUNITY,
    alerts_for,
    death_of,
    enrolment,
    eventually,
    new_person,
    token,
)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


def _sign_in(
    browser: Browser, stack, areas: list[str], role: Role = Role.CASEWORKER, width: int = 390
) -> Page:
    """Signed in with a dev token; 390 px wide is a phone, as on a home visit."""
    bearer = token(role, areas)["authorization"].split()[1]
    page = browser.new_page(viewport={"width": width, "height": 844})
    page.goto(f"{stack.url('api')}/ui/login?token={bearer}")
    return page


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def test_a_case_worker_works_an_alert_from_the_queue_with_the_keyboard(stack, api, ingest, browser):
    person = new_person()
    record = enrolment(person)
    api.post("/v1/enrolments", json=record).raise_for_status()
    ingest.post("/v1/sources/death/changes", json=[death_of(person)]).raise_for_status()
    [alert] = eventually(lambda: alerts_for(api, enrolment_id=record["enrolment_id"]))
    page = _sign_in(browser, stack, ["310110"])

    page.select_option("select[name=status]", "OPEN")
    page.select_option("select[name=program]", "DIBAO")
    page.select_option("select[name=rule_id]", alert["rule_id"])
    page.click("form button")
    row = page.locator(f"tr[data-alert-id='{alert['id']}']")
    expect(row).to_be_visible()
    open_before = int(page.locator("[data-count=alerts]").inner_text())
    assert open_before == page.locator("#alerts tbody tr").count()
    _shot(page, "queue")

    row.locator("a").click()
    expect(page.locator("#status")).to_have_text("OPEN")
    _shot(page, "alert-open")
    page.keyboard.press("c")
    expect(page.locator("#status")).to_have_text("CLAIMED")
    page.select_option("#action_taken", "PAYMENT_STOPPED")
    page.locator("#action_taken").evaluate("select => select.blur()")  # keys are shortcuts again
    page.keyboard.press("f")
    expect(page.locator("#status")).to_have_text("CONFIRMED")
    expect(page.locator("#timeline")).to_contain_text("CONFIRM")
    _shot(page, "alert-confirmed")

    page.goto(f"{stack.url('api')}/ui/alerts?status=OPEN&program=DIBAO&rule_id={alert['rule_id']}")
    expect(page.locator(f"tr[data-alert-id='{alert['id']}']")).to_have_count(0)
    assert int(page.locator("[data-count=alerts]").inner_text()) < open_before

    elsewhere = _sign_in(browser, stack, [OTHER_COMMUNITY])
    response = elsewhere.goto(f"{stack.url('api')}/ui/alerts/{alert['id']}")
    assert response.status == 404


def test_a_payout_run_is_started_watched_overridden_and_approved(stack, api, ingest, browser):
    area = "310110006001"
    paid, dead = (enrolment(new_person(), area=area) for _ in range(2))
    api.post("/v1/enrolments", json=[paid, dead]).raise_for_status()
    ingest.post("/v1/sources/death/changes", json=[death_of(dead["beneficiary_id"])])
    eventually(lambda: alerts_for(api, enrolment_id=dead["enrolment_id"]))
    base = stack.url("api")

    officer = _sign_in(browser, stack, ["310110"], Role.PAYMENT_OFFICER, width=1280)
    officer.goto(f"{base}/ui/payout-runs")
    officer.fill("input[name=area]", area)
    officer.click("#start button")
    expect(officer.locator("#status")).to_have_text("READY", timeout=60_000)
    expect(officer.locator("#totals tr[data-decision=PAY]")).to_contain_text("1")
    expect(officer.locator(f"tr[data-enrolment='{dead['enrolment_id']}']")).to_contain_text(
        "受益人死亡已登记"
    )
    _shot(officer, "payout-run")
    run_url = officer.url

    supervisor = _sign_in(browser, stack, ["310110"], Role.SUPERVISOR, width=1280)
    supervisor.goto(run_url)
    override = supervisor.locator(f"form.override[data-enrolment='{dead['enrolment_id']}']")
    override.locator("select").select_option("STOP")
    override.locator("input[name=reason]").fill("死亡已核实")
    override.locator("button").click()
    expect(supervisor.locator(f"tr[data-enrolment='{dead['enrolment_id']}']")).to_contain_text(
        "死亡已核实"
    )
    supervisor.click("#approve")
    expect(supervisor.locator("#status")).to_have_text("APPROVED")
    _shot(supervisor, "payout-run-approved")
    supervisor.goto(run_url.split("?")[0] + "/summary")
    expect(supervisor.locator("table.chart")).to_have_count(2)
    _shot(supervisor, "payout-summary")
