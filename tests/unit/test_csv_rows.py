"""CSV rows of an export as row changes, decoded by the table's column types."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from shaobing_contracts.id_number import make_id_number
from shaobing_contracts.provenance import SourceSystem
from shaobing_ingest.domain.cdc.csv_rows import BadHeader, check_header, csv_row_change, table_of
from shaobing_ingest.domain.sources.tables import ChangeRejected
from shaobing_ingest.entrypoints.batches import LISTED, BatchResult
from shaobing_ingest.entrypoints.intake_flow import IntakeCounts, Rejection

DEATHS = table_of(SourceSystem.DEATH)
HEADER = ["certificate_no", "id_number", "date_of_death", "source", "recorded_at"]
PERSON = make_id_number("310110", date(1938, 2, 3), 17)


def test_a_row_becomes_a_snapshot_change_with_typed_values_and_its_line_number():
    change = csv_row_change(
        DEATHS, HEADER, ["C1", PERSON, "2026/10/02", "MEDICAL", "2026-11-21 08:15:00"], row=7
    )

    assert (change.op, change.primary_key, change.position.row) == ("r", "C1", 7)
    assert change.after["date_of_death"] == date(2026, 10, 2)
    assert change.after["recorded_at"] == datetime(2026, 11, 21, 8, 15)


def test_numeric_cells_are_decimals_and_empty_cells_are_null():
    table = table_of(SourceSystem.SOCIAL_SECURITY)
    header = ["id_number", "pension_monthly_amount", "employer_uscc"]
    change = csv_row_change(table, header, [PERSON, "3200.50", ""], row=2)

    assert change.after["pension_monthly_amount"] == Decimal("3200.50")
    assert change.after["employer_uscc"] is None


@pytest.mark.parametrize(
    ("values", "field"),
    [
        (["C1", PERSON, "2026-13-01", "MEDICAL", "2026-11-21 08:15:00"], "date_of_death"),
        (["C1", PERSON, "2026-10-01", "ALIENS", "2026-11-21 08:15:00"], "source"),
        (["", PERSON, "2026-10-01", "MEDICAL", "2026-11-21 08:15:00"], "certificate_no"),
        (["C1", PERSON, "2026-10-01"], None),
    ],
)
def test_a_bad_row_is_rejected_naming_the_field_and_the_row(values, field):
    with pytest.raises(ChangeRejected) as rejected:
        csv_row_change(DEATHS, HEADER, values, row=9)

    assert rejected.value.field == field
    assert "row 9" in rejected.value.reason


@pytest.mark.parametrize(
    ("header", "names"),
    [
        (["certificate_no", "died_on"], "died_on"),
        (["id_number", "source"], "certificate_no"),
        (["certificate_no", "certificate_no"], "twice"),
    ],
)
def test_a_header_that_does_not_describe_the_table_is_refused(header, names):
    with pytest.raises(BadHeader, match=names):
        check_header(DEATHS, header)


def _chunk(accepted: int, rejected: int) -> IntakeCounts:
    rejections = [Rejection(index=i, field="id_number", reason="bad") for i in range(rejected)]
    return IntakeCounts(accepted=accepted, dead_lettered=rejected, rejections=rejections)


def test_a_files_answer_counts_every_row_and_lists_only_the_first_problems():
    result = BatchResult(batch_id="b1", rows_read=10_000)

    result.add(_chunk(accepted=4_400, rejected=600))
    assert (len(result.rejections), result.lists_truncated) == (600, False)

    result.add(_chunk(accepted=4_400, rejected=600))
    assert (result.accepted, result.dead_lettered) == (8_800, 1_200)
    assert (len(result.rejections), result.lists_truncated) == (LISTED, True)
    assert [r.index for r in result.rejections[598:602]] == [598, 599, 0, 1]
    assert "event_ids" not in result.model_dump()
