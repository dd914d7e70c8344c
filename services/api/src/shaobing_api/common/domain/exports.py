"""Lists as files a person opens in Excel: CSV (UTF-8 with BOM) or XLSX, watermarked with who
exported it, when and with which filter. Pure: rows and columns in, bytes out, a chunk of rows
at a time, so that a file of any length is written in bounded memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

Columns = Sequence[tuple[str, str, str]]  # (key, zh-CN heading, English heading)


def watermark(who: str, role: str, at: datetime, filters: Mapping[str, Any]) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in filters.items() if v not in (None, False)) or "无/none"
    return _text(
        f"导出人 Exported by: {who} ({role}) · 时间 At: {at:%Y-%m-%d %H:%M:%S %Z} · "
        f"筛选 Filter: {shown} · 内部资料，请勿外传 Internal: do not share"
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    """A cell Excel shows as typed: no control characters, no formula (CSV injection)."""
    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def _cells(row: Mapping[str, Any], columns: Columns) -> list[Any]:
    """Numbers stay numbers; a zh-CN/English mapping shows its Chinese; the rest is text."""
    values = []
    for key, _, _ in columns:
        value = row.get(key)
        if isinstance(value, Mapping):
            value = value.get("zh_cn", "")
        if value is None:
            value = ""
        elif not isinstance(value, int | Decimal) or isinstance(value, bool):
            value = _text(str(value))
        values.append(value)
    return values


def csv_head(mark: str, columns: Columns) -> bytes:
    """The start of the file: a BOM (so Excel shows the Chinese), the watermark, the headings."""
    headings = [f"{zh} {en}" for _, zh, en in columns]
    return "\ufeff".encode() + _csv_lines([[mark], headings])


def csv_rows(rows: Iterable[Mapping[str, Any]], columns: Columns) -> bytes:
    """Rows as CSV lines, to follow csv_head as they are read."""
    return _csv_lines(_cells(r, columns) for r in rows)


def _csv_lines(lines: Iterable[list[Any]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(lines)
    return out.getvalue().encode("utf-8")


class XlsxFile:
    """A workbook in openpyxl's write-only mode: rows go to a temporary file as they are
    appended, not into memory; the watermark in the first row and in the properties."""

    def __init__(self, mark: str, who: str, columns: Columns, title: str) -> None:
        self.columns = columns
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(title)
        self.sheet.freeze_panes = "A3"
        first = WriteOnlyCell(self.sheet, mark)
        first.font = Font(bold=True, color="C00000")
        self.sheet.append([first])
        self.sheet.append([f"{zh} {en}" for _, zh, en in columns])
        self.book.properties.creator = who
        self.book.properties.description = mark

    def append(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.sheet.append(_cells(row, self.columns))

    def save(self, out: IO[bytes]) -> None:
        """Write the finished workbook to `out` (the temporary rows are removed)."""
        self.book.save(out)
