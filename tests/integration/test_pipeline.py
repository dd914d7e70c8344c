"""A death posted to ingest travels broker → matcher → alerts → PostgreSQL → api."""

from __future__ import annotations

import orjson

from .conftest import alerts_for, death_of, enrolment, eventually, new_person


def _post_changes(ingest, items: list) -> dict:
    response = ingest.post("/v1/sources/death/changes", content=orjson.dumps(items))
    assert response.status_code == 200, response.text
    return response.json()


def test_death_of_a_recipient_becomes_one_alert_readable_from_the_api(api, ingest):
    person = new_person()
    record = enrolment(person)
    assert api.post("/v1/enrolments", json=record).json()["created"] == 1

    result = _post_changes(ingest, [death_of(person)])

    assert result["accepted"] == 1
    [alert] = eventually(lambda: alerts_for(api, enrolment_id=record["enrolment_id"]))
    assert (alert["rule_id"], alert["severity"], alert["action"], alert["status"]) == (
        "death-of-beneficiary",
        "CRITICAL",
        "STOP",
        "OPEN",
    )
    assert alert["evidence"][0]["event_id"] == result["event_ids"][0]
    assert alert["evidence"][0]["provenance"]["table"] == "death.registrations"
    assert alert["overpaid_months"] == 2 and alert["overpaid_amount"] == "3020.00"
    assert person not in orjson.dumps(alert).decode()  # a case worker sees it masked
    detail = api.get(f"/v1/alerts/{alert['id']}").json()
    assert detail["explanation"]["zh_cn"] and detail["explanation"]["en"]


def test_an_enrolment_of_someone_known_dead_is_blocked(api, ingest):
    person = new_person()
    assert _post_changes(ingest, [death_of(person)])["accepted"] == 1
    record = enrolment(person)

    api.post("/v1/enrolments", json=[record]).raise_for_status()

    [alert] = eventually(lambda: alerts_for(api, enrolment_id=record["enrolment_id"]))
    assert (alert["rule_id"], alert["action"]) == ("death-at-enrolment", "BLOCK")


def test_reposting_the_same_change_adds_nothing(api, ingest):
    person = new_person()
    record = enrolment(person)
    api.post("/v1/enrolments", json=record).raise_for_status()
    change = death_of(person)
    first = _post_changes(ingest, [change])
    eventually(lambda: alerts_for(api, enrolment_id=record["enrolment_id"]))

    again = _post_changes(ingest, [change, change])
    api.post("/v1/enrolments", json=record).raise_for_status()

    assert (again["accepted"], again["duplicates"]) == (0, 2)
    assert again["event_ids"] == first["event_ids"] * 2
    marker = new_person()  # a later alert proves the pipeline has moved past the re-posts
    marker_enrolment = enrolment(marker)
    api.post("/v1/enrolments", json=marker_enrolment).raise_for_status()
    _post_changes(ingest, [death_of(marker)])
    eventually(lambda: alerts_for(api, enrolment_id=marker_enrolment["enrolment_id"]))
    assert len(alerts_for(api, enrolment_id=record["enrolment_id"])) == 1


def test_a_death_of_a_household_member_reassesses_and_of_a_terminated_enrolment_is_quiet(
    api, ingest
):
    head, member, retired = new_person(), new_person(), new_person()
    household = enrolment(head, members=[member])
    terminated = enrolment(retired, status="TERMINATED")
    api.post("/v1/enrolments", json=[household, terminated]).raise_for_status()
    marker = new_person()
    marker_enrolment = enrolment(marker)
    api.post("/v1/enrolments", json=marker_enrolment).raise_for_status()

    _post_changes(ingest, [death_of(member), death_of(retired), death_of(marker)])

    eventually(lambda: alerts_for(api, enrolment_id=marker_enrolment["enrolment_id"]))
    [member_alert] = alerts_for(api, enrolment_id=household["enrolment_id"])
    assert (member_alert["rule_id"], member_alert["action"]) == (
        "death-of-household-member",
        "REASSESS",
    )
    assert alerts_for(api, enrolment_id=terminated["enrolment_id"]) == []
