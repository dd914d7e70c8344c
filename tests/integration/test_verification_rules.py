"""Rules and policies through the real pipeline: a marriage raises a reassessment, a retraction
withdraws, someone turning 80 is found for the old-age allowance."""

from __future__ import annotations

from datetime import date, datetime

import httpx
import orjson

from shaobing_contracts.id_number import birth_date_of, mask_id_number
from shaobing_dev.city import DeathRecord
from shaobing_dev.debezium_feed import death_delete_event
from shaobing_runtime.access import Role

from .conftest import (
    AREA,
    TODAY_MICROS,
    alerts_for,
    change_of,
    death_of,
    enrolment,
    epoch_days,
    eventually,
    fetch,
    marriage_row,
    new_person,
    person_beside,
    post_changes,
    token,
)


def _enrol(api, person: str) -> str:
    record = enrolment(person)
    api.post("/v1/enrolments", json=record).raise_for_status()
    return record["enrolment_id"]


def test_a_marriage_of_a_beneficiary_raises_a_reassessment(api, ingest):
    person, spouse = new_person(date(1955, 2, 3)), new_person(date(1956, 7, 8))
    enrolment_id = _enrol(api, person)
    registration = marriage_row(person, spouse)

    posted = post_changes(ingest, "marriage", [change_of("marriage.registrations", registration)])
    assert posted["accepted"] == 1

    [alert] = eventually(lambda: alerts_for(api, enrolment_id=enrolment_id))
    assert (alert["rule_id"], alert["action"], alert["status"]) == (
        "marriage-change",
        "REASSESS",
        "OPEN",
    )
    assert "结婚" in alert["explanation"]["zh_cn"]
    assert alert["evidence"][0]["provenance"]["table"] == "marriage.registrations"


def _stopped_then_withdrawn(api, ingest) -> tuple[str, str]:
    """A beneficiary's death registered (a STOP), then its registration deleted upstream:
    (the person, the enrolment id) once the STOP is withdrawn."""
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
    return person, enrolment_id


def test_a_deleted_death_registration_withdraws_the_stop(api, ingest):
    _stopped_then_withdrawn(api, ingest)


def test_a_replayed_window_of_older_events_does_not_undo_the_retraction_after_it(
    stack, api, ingest
):
    person, enrolment_id = _stopped_then_withdrawn(api, ingest)
    registered, retracted = fetch(
        stack.database_url,
        "select accepted_at from event_log where topic = 'src.death.v1' and key = $1 order by seq",
        person,
    )
    window = {"since": registered[0].isoformat(), "until": retracted[0].isoformat()}

    with httpx.Client(base_url=stack.url("ingest"), headers=token(Role.OPS, [AREA])) as ops:
        replayed = ops.post("/v1/replay", json={**window, "topics": ["src.death.v1"]})
    assert replayed.json()["queued"] >= 1, replayed.text

    # A death in the same partition, published after the replayed registration: once its
    # alert is stored, whatever the replay raised for the person is stored too.
    marker = person_beside(person, stack.config.partitions)
    marker_enrolment = _enrol(api, marker)
    post_changes(ingest, "death", [death_of(marker)])
    eventually(lambda: alerts_for(api, enrolment_id=marker_enrolment))
    [alert] = alerts_for(api, enrolment_id=enrolment_id)
    assert alert["status"] == "WITHDRAWN"


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


def _registered_row(person: str, area: str = "310110001001") -> dict:
    return {
        "id_number": person,
        "name": "李桂兰",
        "gender": "2",
        "birth_date": epoch_days(birth_date_of(person)),
        "household_no": f"H-{person[-6:]}",
        "relation_to_head": "户主",
        "area_code": area,
        "address": "杨浦区",
        "status": "ACTIVE",
        "updated_at": TODAY_MICROS,
    }


def _notifications(api, **filters) -> list[dict]:
    response = api.get("/v1/notifications", params={"limit": 500, **filters})
    response.raise_for_status()
    return response.json()["items"]


def _offered(api, person: str, **filters) -> list[dict]:
    """The person's old-age allowance notifications (live ones unless filtered by status)."""
    found = _notifications(api, benefit="GAOLING", **filters)
    return [n for n in found if n["id_number"] == mask_id_number(person)]


def _registered_and_offered(api, ingest, person: str) -> list[dict]:
    """Register the person; their old-age allowance notifications, once the api has them."""
    post_changes(ingest, "hukou", [change_of("hukou.population", _registered_row(person))])
    return eventually(lambda: _offered(api, person))


def test_someone_of_80_registered_here_is_found_for_the_old_age_allowance(api, ingest):
    person = new_person(date(1945, 3, 3))  # 81

    [notification] = _registered_and_offered(api, ingest, person)
    assert (notification["policy_id"], notification["period"], notification["status"]) == (
        "gaoling-eligible",
        "80",
        "NEW",
    )
    assert "高龄津贴" in notification["explanation"]["zh_cn"]


def test_someone_of_85_registered_just_before_their_gaoling_enrolment_is_not_left_to_be_told(
    api, ingest
):
    person = new_person(date(1941, 3, 3))  # 85
    [told] = _registered_and_offered(api, ingest, person)  # the registration came first

    enrolled = enrolment(person, program="GAOLING")
    api.post("/v1/enrolments", json=enrolled).raise_for_status()

    eventually(lambda: not _offered(api, person))  # nobody is to tell them any more
    [withdrawn] = _offered(api, person, status="WITHDRAWN")
    assert withdrawn["id"] == told["id"] and withdrawn["withdrawn_at"]
    assert "不再" in withdrawn["withdrawal"]["zh_cn"] and withdrawn["withdrawal"]["en"]


def test_the_daily_tick_runs_on_demand_for_ops_only(stack, api, ingest):
    _registered_and_offered(api, ingest, new_person(date(1944, 7, 7)))  # someone to resend
    url = f"{stack.url('matcher')}/v1/daily-tick"

    ops = token(Role.OPS, ["310110"])

    first = httpx.post(url, headers=ops, timeout=60)
    again = httpx.post(url, headers=ops, timeout=60)  # the first stored what it sent
    resent = httpx.post(url, params={"resend": "true"}, headers=ops, timeout=60)
    unclear = httpx.post(url, params={"resend": "maybe"}, headers=ops, timeout=60)
    caseworker = httpx.post(url, headers=token(Role.CASEWORKER, ["310110"]), timeout=60)
    anonymous = httpx.post(url, timeout=60)

    assert first.status_code == 200 and again.json() == {"messages": 0}
    assert resent.status_code == 200 and resent.json()["messages"] > 0
    assert unclear.status_code == 422 and "resend" in unclear.json()["detail"]
    assert (caseworker.status_code, anonymous.status_code) == (403, 401)
