"""Rows of an upstream table as CSV export lines: a header, then one record per line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from shaobing_ingest.domain.sources.tables import TABLES

from .city import DeathRecord
from .debezium_feed import death_row


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def csv_header(table: str) -> str:
    return ",".join(TABLES[table].columns) + "\n"


def csv_line(table: str, row: Mapping[str, Any]) -> str:
    """One record as one line: no cell holds a newline, so quoting is all csv needs to do."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(
        [_cell(row.get(c)) for c in TABLES[table].columns]
    )
    return buffer.getvalue()


def csv_lines(table: str, rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The header (the table's columns), then one line per row (ISO dates, decimal text)."""
    yield csv_header(table)
    for row in rows:
        yield csv_line(table, row)


def death_csv(records: Iterable[DeathRecord], *, prefix: str = "") -> bytes:
    """Death registrations as one CSV export; `prefix` makes their certificate numbers new."""
    rows = ({**death_row(r), "certificate_no": prefix + r.certificate_no} for r in records)
    return "".join(csv_lines("death.registrations", rows)).encode()
