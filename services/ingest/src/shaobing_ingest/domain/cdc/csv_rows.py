"""Rows of a CSV export (a header row, then one row per record) as row changes.

A CSV row is a snapshot of the upstream row: it becomes a change with op "r", so the same row
posted again gets the same event id (no LSN: the id covers the row's content) and counts as a
duplicate, while a changed row derives new events.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from shaobing_contracts.provenance import SourcePosition, SourceSystem
from shaobing_contracts.validated import validated

from ..intake import check_key_length, check_storable
from ..sources.tables import TABLES, ChangeRejected, Kind, TableDef
from .changes import RowChange

_CELL: dict[Kind, Callable[[str], object]] = {
    Kind.DATE: lambda v: date.fromisoformat(v.replace("/", "-")),
    Kind.TIMESTAMP: lambda v: datetime.fromisoformat(v.replace("/", "-")).replace(tzinfo=None),
    Kind.NUMERIC: Decimal,
    Kind.CHAR: str.rstrip,
}


class BadHeader(ValueError):
    """The header row does not describe the source's table; the message names the column."""


def table_of(source: SourceSystem) -> TableDef:
    """The one upstream table each source system exports."""
    return next(t for t in TABLES.values() if t.source is source)


def check_header(table: TableDef, header: list[str]) -> list[str]:
    """Column names as given (trimmed); unknown, repeated or missing key columns are refused."""
    names = [h.strip() for h in header]
    unknown = [n for n in names if n not in table.columns]
    if unknown:
        raise BadHeader(f"header: unknown column {unknown[0]!r} for {table.qualified_name}")
    if len(set(names)) != len(names):
        raise BadHeader("header: a column is named twice")
    missing = [k for k in table.primary_key if k not in names]
    if missing:
        raise BadHeader(f"header: key column {missing[0]!r} is missing")
    return names


def csv_row_change(
    table: TableDef, header: list[str], values: list[str], row: int, *, may_hold_nul: bool = True
) -> RowChange:
    """Decode one data row (row = its line number in the file) by the table's column types.

    `may_hold_nul=False` (no line of the chunk has one) skips the search for NUL characters.
    """
    if len(values) != len(header):
        raise ChangeRejected(None, f"row {row} has {len(values)} fields, the header {len(header)}")
    after = {
        name: _cell(table, name, value, row) for name, value in zip(header, values, strict=True)
    }
    key = "|".join(str(after[k]) for k in table.primary_key)
    if any(after[k] in (None, "") for k in table.primary_key):
        raise ChangeRejected(table.primary_key[0], f"row {row}: key is empty")
    change = RowChange(
        op="r",
        table=table,
        before=None,
        after=after,
        primary_key=key,
        position=validated(SourcePosition, op="r", snapshot=True, row=row),
    )
    return check_storable(change) if may_hold_nul else check_key_length(change)


def _cell(table: TableDef, name: str, value: str, row: int) -> object:
    if value.strip() == "":
        return None
    column = table.columns[name]
    try:
        decoded = _CELL.get(column.kind, lambda v: v)(value.strip())
    except (ValueError, InvalidOperation) as exc:
        raise ChangeRejected(name, f"row {row}: not a valid {column}") from exc
    if column.kind is Kind.ENUM and decoded not in column.allowed:
        raise ChangeRejected(name, f"row {row}: not one of {', '.join(sorted(column.allowed))}")
    return decoded
