"""CSV exports in: bad rows become dead letters naming the row, the rest lands, once."""

from __future__ import annotations

import httpx

from shaobing_runtime.access import Role

from .conftest import AREA, alerts_for, enrolment, eventually, new_person, token

HEADER = "certificate_no,id_number,date_of_death,source,recorded_at"


def _row(certificate: str, person: str, died: str = "2026-10-02") -> str:
    return f"{certificate},{person},{died},CREMATION,2026-11-21 08:15:00"


def test_bad_rows_in_the_middle_are_dead_letters_with_row_numbers_and_the_rest_lands(api, ingest):
    people = [new_person() for _ in range(4)]
    record = enrolment(people[0])
    api.post("/v1/enrolments", json=record).raise_for_status()
    bad_checksum = people[2][:17] + ("1" if people[2][17] != "1" else "2")
    lines = [
        HEADER,
        _row("沪死证-C1", people[0]),
        _row("沪死证-C2", people[1]),
        _row("沪死证-C3", bad_checksum),
        _row("沪死证-C4", people[3], died="2026-13-01"),
        _row("沪死证-C5", people[2]),
    ]
    body = "\r\n".join(lines).encode("gb18030")

    first = ingest.post(
        "/v1/sources/death/batches", params={"encoding": "gb18030"}, content=body
    ).json()
    again = ingest.post(
        "/v1/sources/death/batches", params={"encoding": "gb18030"}, content=body
    ).json()

    assert (first["accepted"], first["dead_lettered"], first["rows_read"]) == (3, 2, 5)
    assert {(r["index"], r["field"]) for r in first["rejections"]} == {
        (4, "id_number"),
        (5, "date_of_death"),
    }
    assert (again["accepted"], again["duplicates"]) == (0, 3)
    [alert] = eventually(lambda: alerts_for(api, enrolment_id=record["enrolment_id"]))
    assert alert["evidence"][0]["facts"]["certificate_no"] == "沪死证-C1"
    assert alert["evidence"][0]["provenance"]["channel"] == "csv"
    progress = ingest.get(f"/v1/sources/death/batches/{first['batch_id']}").json()
    assert (progress["status"], progress["rows_read"], progress["dead_lettered"]) == ("DONE", 5, 2)


def test_a_csv_whose_header_or_encoding_is_wrong_is_a_400_naming_it(stack, ingest):
    wrong_header = b"certificate_no,id_number,died_on\nC1,x,2026-01-01\n"
    not_utf8 = f"{HEADER}\n{_row('沪死证-X', new_person())}\n".encode("gb18030")

    header = ingest.post("/v1/sources/death/batches", content=wrong_header)
    encoding = ingest.post("/v1/sources/death/batches", content=not_utf8)

    assert header.status_code == 400 and "died_on" in header.json()["detail"]
    assert encoding.status_code == 400 and "utf-8" in encoding.json()["detail"]
    caseworker = token(Role.CASEWORKER, [AREA])
    refused = httpx.post(
        f"{stack.url('ingest')}/v1/sources/death/batches", content=wrong_header, headers=caseworker
    )
    assert refused.status_code == 403
