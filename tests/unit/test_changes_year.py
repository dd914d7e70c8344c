"""A year of changes in all four tables: valid, in time order, and accepted by ingest's own code."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest

from shaobing_contracts.id_number import birth_date_of, normalize_id_number
from shaobing_contracts.provenance import Channel
from shaobing_dev.changes_year import HUKOU, MARRIAGE, SOCIAL, uscc, year_of_changes
from shaobing_dev.city import enrolment_dicts_for, generate_city
from shaobing_dev.csv_feed import csv_lines
from shaobing_dev.debezium_feed import decimal_bytes
from shaobing_dev.demo_files import TABLES, change_events
from shaobing_ingest.domain.cdc.changes import RowChange, parse_change
from shaobing_ingest.domain.cdc.csv_rows import check_header, csv_row_change
from shaobing_ingest.domain.intake import derive
from shaobing_ingest.domain.sources.tables import TABLES as TABLE_DEFS

YEAR_START = datetime(2025, 1, 1)
INGESTED_AT = datetime(2026, 1, 15, tzinfo=UTC)
PEOPLE = 2000


@pytest.fixture(scope="module")
def rows():
    city = generate_city(PEOPLE, seed=5, as_of=YEAR_START.date())
    enrolments = enrolment_dicts_for(city, seed=5)
    return list(year_of_changes(city, enrolments, year_start=YEAR_START, seed=5))


def test_every_table_appears_and_the_volumes_are_plausible(rows):
    counts = Counter((r.table, r.op) for r in rows)
    assert counts[(HUKOU, "r")] == PEOPLE
    assert 0.7 * PEOPLE < counts[(SOCIAL, "r")] < PEOPLE
    assert {r.table for r in rows} == set(TABLES)
    deaths = counts[("death.registrations", "c")]
    assert 5 <= deaths <= 25  # 0.7 % of 2,000 is 14
    statuses = Counter(r.row["status"] for r in rows if r.table == HUKOU and r.op == "u")
    assert statuses["DECEASED"] == deaths
    assert 10 <= statuses["MOVED_OUT"] <= 30 and 25 <= statuses["ACTIVE"] <= 55
    assert 5 <= counts[(MARRIAGE, "c")] <= 20
    pensions = [r for r in rows if r.table == SOCIAL and r.op == "u"]
    assert any(r.row["pension_status"] == "RECEIVING" for r in pensions)
    assert any(r.row["employment_status"] == "EMPLOYED" for r in pensions)


def test_the_old_die_far_more_than_the_young(rows):
    born = [r.row["id_number"] for r in rows if r.table == "death.registrations"]
    ages = [YEAR_START.year - birth_date_of(b).year for b in born]
    assert sum(a >= 70 for a in ages) > len(ages) / 2


def test_id_numbers_are_valid_and_birth_dates_match(rows):
    for r in rows:
        for column in ("id_number", "party_a_id", "party_b_id"):
            if column in r.row:
                assert normalize_id_number(r.row[column]) == r.row[column]
        if "birth_date" in r.row:
            assert birth_date_of(r.row["id_number"]) == r.row["birth_date"]


def test_changes_come_in_time_order_and_never_from_the_future(rows):
    times = [r.recorded_at for r in rows]
    assert times == sorted(times)
    assert times[0] == YEAR_START and times[-1] < datetime(2026, 1, 1)
    for r in rows:
        for value in r.row.values():
            if isinstance(value, datetime):
                assert value <= r.recorded_at
            elif hasattr(value, "isoformat") and not isinstance(value, Decimal):
                assert value <= r.recorded_at.date()


@pytest.mark.parametrize("with_schema", [False, True])
def test_every_debezium_event_parses_and_derives_with_ingest_code(rows, with_schema):
    previous: dict = {}
    kinds: Counter[str] = Counter()
    for row, event in change_events(rows, with_schema=with_schema):
        event = orjson.loads(orjson.dumps(event))
        source = TABLE_DEFS[row.table].source
        change = parse_change(event, source)
        assert isinstance(change, RowChange)
        assert change.after == {k: v for k, v in row.row.items()}
        intake = derive([change], previous, channel=Channel.DEBEZIUM_HTTP, ingested_at=INGESTED_AT)
        outcome = intake.outcomes[0]
        assert outcome.status in ("accepted", "ignored"), (row, outcome)
        kinds.update(type(e).__name__ for e in outcome.events)
        previous = intake.rows
    for kind in ("PersonRegistered", "PersonMoved", "PersonMovedOut", "RegistrationCancelled"):
        assert kinds[kind], kind
    for kind in ("DeathRegistered", "MarriageRegistered", "PensionStarted", "EmploymentStarted"):
        assert kinds[kind], kind


def test_csv_lines_parse_with_ingest_code(rows):
    for table in TABLES:
        lines = list(csv_lines(table, (r.row for r in rows if r.table == table)))
        parsed = list(csv.reader(lines))
        header = check_header(TABLE_DEFS[table], parsed[0])
        assert len(lines) == len(parsed)  # one record per line
        for number, values in enumerate(parsed[1:], 2):
            change = csv_row_change(TABLE_DEFS[table], header, values, number)
            intake = derive([change], {}, channel=Channel.CSV, ingested_at=INGESTED_AT)
            assert intake.outcomes[0].status != "dead_lettered", (table, number, intake.outcomes)


@pytest.mark.parametrize("amount", ["0.00", "0.01", "1234.56", "9999999999.99", "3.09", "130.62"])
def test_decimals_are_base64_never_mistaken_for_decimal_text(amount):
    from shaobing_ingest.domain.cdc.columns import decode_value

    encoded = decimal_bytes(Decimal(amount), 2)
    assert not encoded.isdigit()
    assert decode_value(TABLE_DEFS[SOCIAL].columns["contribution_base"], encoded, {}) == Decimal(
        amount
    )


def test_employer_codes_follow_gb_32100():
    code = uscc(42, "310110")
    assert len(code) == 18 and code.startswith("91310110")
