"""The synthetic city: valid, consistent, deterministic; its Debezium feed decodes back."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from shaobing_contracts.death import DeathSource
from shaobing_contracts.enrolment import Enrolment
from shaobing_contracts.id_number import birth_date_of, is_male, normalize_id_number
from shaobing_dev.city import (
    age_on,
    deaths_for,
    enrolment_dicts_for,
    enrolments_for,
    generate_city,
)
from shaobing_dev.debezium_feed import (
    death_change_events,
    death_delete_event,
    envelope_schema,
    epoch_days,
    epoch_micros,
)

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "debezium-samples"
START = datetime(2026, 3, 1, 8, 0)


@pytest.fixture(scope="module")
def city():
    return generate_city(6000, seed=11)


@pytest.fixture(scope="module")
def enrolments(city):
    return enrolment_dicts_for(city, seed=11)


@pytest.fixture(scope="module")
def deaths(city, enrolments):
    return deaths_for(city, enrolments, count=400, recipient_share=0.4, start=START, seed=11)


def test_generates_exactly_the_people_asked_for(city):
    assert len(city.residents) == 6000
    assert sum(len(h.members) for h in city.households) == 6000


def test_every_id_number_is_valid_and_unique(city):
    ids = [r.id_number for r in city.residents]
    assert all(normalize_id_number(i) == i for i in ids)
    assert len(set(ids)) == len(ids)


def test_id_numbers_stay_unique_when_a_birth_day_is_crowded():
    crowded = generate_city(20_000, seed=3)
    assert len({r.id_number for r in crowded.residents}) == 20_000


def test_sex_digit_parity_matches_gender(city):
    assert all(is_male(r.id_number) == (r.gender == "1") for r in city.residents)
    assert {r.gender for r in city.residents} == {"1", "2"}


def test_birth_date_in_id_number_is_the_birth_date(city):
    assert all(birth_date_of(r.id_number) == r.birth_date for r in city.residents)


def test_most_residents_were_born_in_the_district_and_some_elsewhere(city):
    local = sum(r.id_number.startswith("310110") for r in city.residents) / len(city.residents)
    assert 0.7 < local < 0.95


def test_household_members_share_area_and_household_number(city):
    for household in city.households:
        assert 1 <= len(household.members) <= 5
        assert household.members[0].relation_to_head == "户主"
        assert sum(m.relation_to_head == "户主" for m in household.members) == 1
        assert {m.household_no for m in household.members} == {household.household_no}
        assert {m.area_code for m in household.members} == {household.area_code}
    assert len({h.household_no for h in city.households}) == len(city.households)


def test_area_codes_are_communities_of_the_district_and_its_streets(city):
    assert len(city.streets) == 4 and len(city.communities) == 12
    assert all(code[:9] in city.streets for code in city.communities)
    assert {r.area_code for r in city.residents} <= set(city.communities)
    assert all(code.startswith("310110") and len(code) == 12 for code in city.communities)


def test_ages_form_a_pyramid_with_many_elderly(city):
    ages = [age_on(r.birth_date, city.as_of) for r in city.residents]
    share = {n: sum(a >= n for a in ages) / len(ages) for n in (60, 80, 90)}
    assert 0.2 < share[60] < 0.45 and 0.03 < share[80] < 0.12 and share[90] > 0.005
    assert min(ages) >= 0 and max(ages) <= 106 and sum(a < 18 for a in ages) > 300


def test_names_are_a_surname_and_one_or_two_given_characters(city):
    assert {len(r.name) for r in city.residents} == {2, 3}


def test_every_enrolment_dict_validates_as_an_enrolment(enrolments):
    models = [Enrolment.model_validate(d) for d in enrolments]
    assert [m.model_dump(mode="json") for m in models] == enrolments


def test_enrolments_for_wraps_the_dicts(city, enrolments):
    models = enrolments_for(city, seed=11)
    assert [m.model_dump(mode="json") for m in models] == enrolments


def test_enrolment_ids_are_unique_and_name_program_and_district(enrolments):
    ids = [e["enrolment_id"] for e in enrolments]
    assert len(set(ids)) == len(ids)
    assert all(i[:2] in {"DB", "TK", "GL", "CJ"} and i[3:10] == "310110-" for i in ids)
    assert {e["program"] for e in enrolments} == {"DIBAO", "TEKUN", "GAOLING", "CANJI_SHENGHUO"}


def test_enrolments_carry_realistic_status_month_and_account(enrolments):
    statuses = Counter(e["status"] for e in enrolments)
    assert statuses["ACTIVE"] > 0.9 * len(enrolments) and statuses["TERMINATED"] > 0
    assert all("2020-01" <= e["start_month"] <= "2026-01" for e in enrolments)
    assert all(e["payout_account"].isdigit() for e in enrolments)
    assert {len(e["payout_account"]) for e in enrolments} == {16, 17, 18, 19}


def test_gaoling_goes_only_to_residents_aged_80_or_more_by_tier(city, enrolments):
    born = {r.id_number: r.birth_date for r in city.residents}
    gaoling = [e for e in enrolments if e["program"] == "GAOLING"]
    assert gaoling
    for e in gaoling:
        age = age_on(born[e["beneficiary_id"]], city.as_of)
        assert e["household_members"] == [e["beneficiary_id"]]
        assert age >= 80
        tier = "500.00" if age >= 100 else "300.00" if age >= 90 else "100.00"
        assert e["monthly_amount"] == tier


def test_dibao_covers_the_whole_household_with_the_head_as_beneficiary(city, enrolments):
    households = {h.members[0].id_number: h for h in city.households}
    dibao = [e for e in enrolments if e["program"] == "DIBAO"]
    assert 0.05 < len(dibao) / len(city.households) < 0.11
    for e in dibao:
        members = households[e["beneficiary_id"]].members
        assert e["household_members"] == [m.id_number for m in members]
        assert e["area_code"] == members[0].area_code
        assert 1000 * len(members) <= float(e["monthly_amount"]) <= 1600 * len(members)


def test_tekun_goes_only_to_elderly_people_living_alone(city, enrolments):
    alone = {h.members[0].id_number for h in city.households if len(h.members) == 1}
    tekun = [e for e in enrolments if e["program"] == "TEKUN"]
    assert tekun and all(e["beneficiary_id"] in alone for e in tekun)


def test_nobody_dies_twice_and_certificates_are_unique(deaths):
    assert len(deaths) == 400
    assert len({d.id_number for d in deaths}) == 400
    assert len({d.certificate_no for d in deaths}) == 400
    assert deaths[0].certificate_no == "SW2026-0000001"


def test_deaths_are_recorded_in_order_within_the_span(deaths):
    times = [d.recorded_at for d in deaths]
    assert times == sorted(times)
    assert START <= times[0] <= times[-1] < START + timedelta(days=30)


def test_date_of_death_is_never_after_the_recording_and_some_are_late(city, deaths):
    born = {r.id_number: r.birth_date for r in city.residents}
    assert all(born[d.id_number] <= d.date_of_death <= d.recorded_at.date() for d in deaths)
    late = [d for d in deaths if (d.recorded_at.date() - d.date_of_death).days >= 30]
    assert 0.04 < len(late) / len(deaths) < 0.18
    assert all((d.recorded_at.date() - d.date_of_death).days <= 92 for d in deaths)
    assert {d.source for d in deaths} == set(DeathSource)


def test_recipient_share_of_deaths_is_respected(enrolments, deaths):
    active = {e["beneficiary_id"] for e in enrolments if e["status"] == "ACTIVE"}
    assert sum(d.id_number in active for d in deaths) == 160


def test_old_people_die_far_more_often(city, deaths):
    born = {r.id_number: r.birth_date for r in city.residents}
    dead = [age_on(born[d.id_number], city.as_of) >= 70 for d in deaths]
    alive = [age_on(r.birth_date, city.as_of) >= 70 for r in city.residents]
    assert sum(dead) / len(dead) > 3 * sum(alive) / len(alive)


def test_asking_for_more_deaths_than_candidates_fails(city, enrolments):
    with pytest.raises(ValueError, match="candidates"):
        deaths_for(city, enrolments, count=2000, recipient_share=1.0, start=START)


def test_the_same_seed_gives_identical_output():
    first, second = generate_city(1500, seed=5), generate_city(1500, seed=5)
    assert first == second
    assert enrolment_dicts_for(first, seed=5) == enrolment_dicts_for(second, seed=5)
    one = deaths_for(first, enrolment_dicts_for(first), count=30, start=START, seed=5)
    assert one == deaths_for(second, enrolments_for(second), count=30, start=START, seed=5)


def test_a_different_seed_gives_a_different_city():
    assert generate_city(500, seed=1).residents != generate_city(500, seed=2).residents


def test_an_empty_city_is_possible_and_a_bad_district_is_refused():
    assert generate_city(0).residents == ()
    with pytest.raises(ValueError):
        generate_city(10, city_area="3101")


@pytest.mark.parametrize(
    ("day", "days"),
    [(date(1970, 1, 1), 0), (date(2025, 7, 31), 20300), (date(1950, 3, 9), -7238)],
)
def test_dates_become_signed_epoch_days_and_decode_back(day, days):
    assert epoch_days(day) == days
    assert date(1970, 1, 1) + timedelta(days=days) == day


def test_birth_dates_before_1970_round_trip_as_epoch_days(city):
    for r in city.residents[:500]:
        assert date(1970, 1, 1) + timedelta(days=epoch_days(r.birth_date)) == r.birth_date
    assert any(epoch_days(r.birth_date) < 0 for r in city.residents[:500])


def test_timestamps_are_wall_clock_micros_never_shifted():
    assert epoch_micros(datetime(2018, 6, 20, 15, 13, 16, 945104)) == 1529507596945104
    late_evening = datetime(2026, 1, 31, 23, 30)
    decoded = datetime(1970, 1, 1) + timedelta(microseconds=epoch_micros(late_evening))
    assert decoded == late_evening


def test_create_events_carry_each_registration_and_decode_back(deaths):
    events = death_change_events(deaths, with_schema=False)
    assert len(events) == len(deaths)
    for event, record in zip(events, deaths, strict=True):
        after = event["after"]
        assert event["op"] == "c" and event["before"] is None
        assert after["certificate_no"] == record.certificate_no
        assert after["id_number"] == record.id_number and after["source"] == record.source.value
        assert date(1970, 1, 1) + timedelta(days=after["date_of_death"]) == record.date_of_death
        micros = timedelta(microseconds=after["recorded_at"])
        assert datetime(1970, 1, 1) + micros == record.recorded_at


def test_source_block_names_the_death_registry_and_lsns_increase(deaths):
    events = death_change_events(deaths[:50], with_schema=False, start_lsn=5_000_000)
    sources = [e["source"] for e in events]
    assert {(s["db"], s["schema"], s["table"], s["name"]) for s in sources} == {
        ("death_registry", "death", "registrations", "civil")
    }
    assert all(s["version"] == "2.7.3.Final" and s["snapshot"] == "false" for s in sources)
    lsns = [s["lsn"] for s in sources]
    assert lsns[0] == 5_000_000 and lsns == sorted(set(lsns))
    assert all(json.loads(s["sequence"])[1] == str(s["lsn"]) for s in sources)
    assert [s["txId"] for s in sources] == sorted({s["txId"] for s in sources})


def test_source_ts_ms_is_the_real_utc_instant_of_a_shanghai_wall_clock(deaths):
    event = death_change_events(deaths[:1], with_schema=False)[0]
    utc = datetime(1970, 1, 1) + timedelta(milliseconds=event["source"]["ts_ms"])
    assert timedelta(hours=7, minutes=59) < deaths[0].recorded_at - utc <= timedelta(hours=8)
    assert event["ts_ms"] > event["source"]["ts_ms"]


def test_with_schema_wraps_payload_in_the_kafka_connect_envelope(deaths):
    event = death_change_events(deaths[:3], with_schema=True)[2]
    assert set(event) == {"schema", "payload"}
    assert event["payload"]["after"]["certificate_no"] == deaths[2].certificate_no
    fields = {f["field"]: f for f in event["schema"]["fields"][1]["fields"]}
    assert fields["date_of_death"]["name"] == "io.debezium.time.Date"
    assert fields["date_of_death"]["type"] == "int32"
    assert fields["recorded_at"]["name"] == "io.debezium.time.MicroTimestamp"
    assert fields["source"]["parameters"] == {"allowed": "MEDICAL,CREMATION,POLICE,COURT"}
    assert event["schema"]["name"] == "civil.death.registrations.Envelope"
    json.dumps(event, ensure_ascii=False)


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared Debezium samples not present")
def test_schema_and_payload_follow_the_real_debezium_2_7_sample_exactly(deaths):
    sample = json.loads((SAMPLES / "06-pg-2.7-create-with-schema-event-block.json").read_text())
    ours, real = envelope_schema(), sample["schema"]
    assert ours["fields"][2:] == real["fields"][2:]  # source, transaction, op, ts_*
    assert [f["field"] for f in ours["fields"]] == [f["field"] for f in real["fields"]]
    assert {k: v for k, v in ours.items() if k not in ("fields", "name")} == {
        k: v for k, v in real.items() if k not in ("fields", "name")
    }
    payload = death_change_events(deaths[:1], with_schema=False)[0]
    assert list(payload) == list(sample["payload"])
    assert list(payload["source"]) == list(sample["payload"]["source"])


def test_delete_event_carries_the_key_and_placeholders_only(deaths):
    event = death_delete_event(deaths[0], 99_000_000)
    assert event["op"] == "d" and event["after"] is None
    assert event["before"] == {
        "certificate_no": deaths[0].certificate_no,
        "id_number": "",
        "date_of_death": 0,
        "source": "",
        "recorded_at": 0,
    }
    assert event["source"]["lsn"] == 99_000_000 and event["source"]["table"] == "registrations"
    assert set(death_delete_event(deaths[0], 99_000_000, with_schema=True)) == {"schema", "payload"}
