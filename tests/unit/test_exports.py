"""Queue exports open in Excel with the Chinese intact and carry their watermark."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

from openpyxl import load_workbook

from shaobing_api.alerts.models import ALERT_COLUMNS
from shaobing_api.common.domain.exports import XlsxFile, csv_head, csv_rows, watermark

AT = datetime(2026, 11, 26, 10, 30, tzinfo=timezone(timedelta(hours=8), "CST"))
ROW = {
    "id": "8c2e…",
    "severity": "CRITICAL",
    "status": "OPEN",
    "id_number": "310110********0134",
    "days_left": 24,
    "explanation": {"zh_cn": "受益人已死亡，应停发待遇。", "en": "The beneficiary died."},
}
MARK = watermark("wang", "caseworker", AT, {"severity": "CRITICAL", "overdue": False})


def as_csv(rows: list[dict], mark: str) -> bytes:
    chunks = [rows[:1], rows[1:]]  # as read, chunk by chunk
    return csv_head(mark, ALERT_COLUMNS) + b"".join(csv_rows(c, ALERT_COLUMNS) for c in chunks)


def as_xlsx(rows: list[dict], mark: str, who: str) -> bytes:
    book, out = XlsxFile(mark, who, ALERT_COLUMNS, "预警 Alerts"), io.BytesIO()
    book.append(rows)
    book.save(out)
    return out.getvalue()


def test_the_watermark_names_who_when_and_which_filter() -> None:
    assert "wang (caseworker)" in MARK and "2026-11-26 10:30:00 CST" in MARK
    assert "severity=CRITICAL" in MARK and "overdue" not in MARK


def test_the_csv_starts_with_a_bom_and_the_watermark_and_keeps_the_chinese() -> None:
    data = as_csv([ROW], MARK)

    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == [MARK]
    assert rows[1][0] == "预警编号 Alert" and len(rows[1]) == len(ALERT_COLUMNS)
    assert "受益人已死亡，应停发待遇。" in rows[2] and "310110********0134" in rows[2]


def test_the_xlsx_carries_the_watermark_in_its_first_row_and_properties() -> None:
    book = load_workbook(io.BytesIO(as_xlsx([ROW], MARK, "wang")))
    sheet = book.active

    assert sheet["A1"].value == MARK
    assert sheet["A3"].value == "8c2e…" and sheet.cell(3, 11).value == 24
    assert (book.properties.creator, book.properties.description) == ("wang", MARK)


def test_control_characters_and_formulas_from_a_filter_or_a_cell_stay_plain_text() -> None:
    mark = watermark("wang", "caseworker", AT, {"rule_id": "a\x07b"})
    row = {**ROW, "rule_id": '=HYPERLINK("http://x")', "assignee": "@team"}

    sheet = load_workbook(io.BytesIO(as_xlsx([row], mark, "wang"))).active
    assert "rule_id=a\ufffdb" in sheet["A1"].value
    assert sheet.cell(3, 4).value == '\'=HYPERLINK("http://x")'
    assert sheet.cell(3, 14).value == "'@team"
    rows = list(csv.reader(io.StringIO(as_csv([row], mark).decode("utf-8-sig"))))
    assert rows[2][3].startswith("'=")
