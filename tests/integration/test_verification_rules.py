"""Rules through the real pipeline: a marriage raises a reassessment, a retraction withdraws."""

from __future__ import annotations

from datetime import date, datetime

import httpx
import orjson

from shaobing_dev.city import DeathRecord
from shaobing_dev.debezium_feed import death_delete_event
from shaobing_runtime.access import Role

from .conftest import alerts_for, death_of, enrolment, eventually, new_person, token
from .test_all_sources import _change, _days, _post


def _enrol(api, person: str) -> str:
    record = enrolment(person)
    api.post("/v1/enrolments", json=record).raise_for_status()
    return record["enrolment_id"]


def test_a_marriage_of_a_beneficiary_raises_a_reassessment(api, ingest):
    person, spouse = new_person(date(1955, 2, 3)), new_person(date(1956, 7, 8))
    enrolment_id = _enrol(api, person)
    registration = {
        "registration_no": f"J-{person[-6:]}",
        "kind": "MARRIAGE",
        "party_a_id": person,
        "party_b_id": spouse,
        "registered_on": _days(date(2026, 11, 2)),
        "office_code": "310110000000",
    }

    assert (
        _post(ingest, "marriage", [_change("marriage.registrations", registration)])["accepted"]
        == 1
    )

    [alert] = eventually(lambda: alerts_for(api, enrolment_id=enrolment_id))
    assert (alert["rule_id"], alert["action"], alert["status"]) == (
        "marriage-change",
        "REASSESS",
        "OPEN",
    )
    assert "结婚" in alert["explanation"]["zh_cn"]
    assert alert["evidence"][0]["provenance"]["table"] == "marriage.registrations"


def test_a_deleted_death_registration_withdraws_the_stop(api, ingest):
    person = new_person()
    enrolment_id = _enrol(api, person)
    certificate = f"SW-W-{person[-6:]}"
    posted = ingest.post(
        "/v1/sources/death/changes",
        content=orjson.dumps([death_of(person, certificate=certificate)]),
    )
    assert posted.json()["accepted"] == 1
    [alert] = eventually(lambda: alerts_for(api, enrolment_id=enrolment_id))
    assert (alert["rule_id"], alert["status"]) == ("death-of-beneficiary", "OPEN")

    record = DeathRecord(certificate, person, date(2026, 9, 5), "MEDICAL", datetime(2026, 11, 20))
    deleted = ingest.post(
        "/v1/sources/death/changes",
        content=orjson.dumps([death_delete_event(record, lsn=99_000_000 + int(person[-4:-1]))]),
    )
    assert deleted.json()["accepted"] == 1, deleted.text

    def withdrawn():
        [alert] = alerts_for(api, enrolment_id=enrolment_id)
        return alert if alert["status"] == "WITHDRAWN" else None

    alert = eventually(withdrawn)
    assert alert["withdrawn_at"] and "撤回" in alert["withdrawal"]["zh_cn"]


def test_the_rules_in_force_are_listed_for_staff_not_for_feeds(stack, api):
    response = api.get("/v1/rules", params={"on": "2026-11-25"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert "death-of-beneficiary" in {r["id"] for r in body["in_force"]}
    assert body["thresholds"]["pension_reassess"]["3101"] == "1510"
    assert body["load_error"] is None
    feed = httpx.get(
        f"{stack.url('api')}/v1/rules", headers=token(Role.FEED, ["310110"]), timeout=10
    )
    assert feed.status_code == 403
