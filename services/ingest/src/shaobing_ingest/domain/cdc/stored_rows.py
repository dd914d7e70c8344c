"""Rows kept by ingest as JSON, read back into the Python values the derivations compare."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal

from ..sources.tables import TABLES, Kind, TableDef

_FROM_JSON: dict[Kind, Callable[[str], object]] = {
    Kind.DATE: date.fromisoformat,
    Kind.TIMESTAMP: datetime.fromisoformat,
    Kind.NUMERIC: Decimal,
}


def decode_stored_row(table: TableDef, row: Mapping[str, object]) -> dict[str, object]:
    """JSON text of dates, timestamps and decimals back to date, datetime and Decimal."""
    return {
        column: value
        if value is None or column not in table.columns
        else _FROM_JSON.get(table.columns[column].kind, lambda v: v)(value)
        for column, value in row.items()
    }


def decode_stored_rows(rows: Mapping[tuple[str, str], Mapping[str, object]]) -> dict:
    """decode_stored_row for every (table, key) → row."""
    return {key: decode_stored_row(TABLES[key[0]], row) for key, row in rows.items()}
