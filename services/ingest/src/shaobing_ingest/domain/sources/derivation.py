"""What the source derivations share: provenance, and validating one decoded row value.

Values come from parse_change (decoded by the column type) or from the last row stored for the
key (decode_stored_row): str, date, naive wall-clock datetime, Decimal or None. Every check raises
ChangeRejected naming the column; reasons never echo the value (it may be personal data).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from functools import cache, lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo

from shaobing_contracts.area import is_area_code
from shaobing_contracts.id_number import InvalidIdNumber, normalize_id_number
from shaobing_contracts.provenance import Channel, Provenance
from shaobing_contracts.types import MONEY_LIMIT
from shaobing_contracts.validated import validated

from ..cdc.changes import ChangeRejected, RowChange
from .tables import TableDef

SHANGHAI = ZoneInfo("Asia/Shanghai")
Row = Mapping[str, object]
E = TypeVar("E", bound=StrEnum)


def provenance_of(
    change: RowChange, table: TableDef, *, channel: Channel, ingested_at: datetime
) -> Provenance:
    """The change must be of `table` and ingested_at aware; the provenance of its events."""
    if change.table.qualified_name != table.qualified_name:
        raise ChangeRejected(
            "source.table", f"{change.table.qualified_name} is not {table.qualified_name}"
        )
    if ingested_at.tzinfo is None:
        raise ValueError("ingested_at must be timezone-aware")
    return validated(
        Provenance,
        source_system=change.table.source,
        table=change.table.qualified_name,
        primary_key=change.primary_key,
        position=change.position,
        channel=channel,
        ingested_at=ingested_at,
    )


def merged(previous: Row | None, after: Row | None) -> dict[str, object]:
    """The row after an update: columns absent from `after` (unchanged TOAST) are unchanged."""
    return {**(previous or {}), **(after or {})}


def changed(row: Row, previous: Row, columns: Iterable[str]) -> bool:
    """Whether any of `columns` differs (text compared trimmed and upper-cased)."""
    return any(_comparable(row.get(c)) != _comparable(previous.get(c)) for c in columns)


def _comparable(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def id_number(row: Row, column: str = "id_number") -> str:
    value = row.get(column)
    if not isinstance(value, str) or not value:
        raise ChangeRejected(column, "required")
    try:
        return normalize_id_number(value)
    except InvalidIdNumber as exc:
        raise ChangeRejected(column, str(exc)) from exc


def valid_id_number(value: object) -> str | None:
    """The valid ID number of a stored value, or None."""
    try:
        return id_number({"v": value}, "v")
    except ChangeRejected:
        return None


def required_text(row: Row, column: str) -> str:
    value = row.get(column)
    if not isinstance(value, str) or not value.strip():
        raise ChangeRejected(column, "required")
    return value.strip()


def area_code(row: Row, column: str = "area_code") -> str:
    value = row.get(column)
    if not isinstance(value, str) or not value:
        raise ChangeRejected(column, "required")
    if not is_area_code(value):
        raise ChangeRejected(column, "must be a 12-digit area code")
    return value


def one_of(row: Row, column: str, labels: type[E]) -> E:
    member = _members(labels).get(row.get(column))  # values are decoded scalars: hashable
    if member is None:
        raise ChangeRejected(column, f"required, one of {', '.join(labels)}")
    return member


@cache  # looking a label up in a dict is a sixth of calling the enum
def _members(labels: type[E]) -> dict[object, E]:
    return {member.value: member for member in labels}


def past_date(row: Row, column: str, ingested_at: datetime) -> date:
    """A DATE not after today in Shanghai."""
    value = row.get(column)
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ChangeRejected(column, "required")
    if value > shanghai_day(ingested_at):
        raise ChangeRejected(column, "in the future")
    return value


def wall_clock(row: Row, column: str, ingested_at: datetime) -> datetime:
    """An upstream TIMESTAMP (Shanghai wall-clock time) with its zone attached, never shifted.

    Rejected when its day is after today in Shanghai, or before 1901: no registry recorded
    anything then, and Shanghai's local mean time (+08:05:43) has an offset JSON writers round.
    """
    value = row.get(column)
    if not isinstance(value, datetime):
        raise ChangeRejected(column, "required")
    local = value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value.astimezone(SHANGHAI)
    if local.date() > shanghai_day(ingested_at):
        raise ChangeRejected(column, "in the future")
    if local.year < _FIRST_RECORDED_YEAR:
        raise ChangeRejected(column, f"before {_FIRST_RECORDED_YEAR}")
    return local


_FIRST_RECORDED_YEAR = 1901


@lru_cache(maxsize=64)  # a batch shares one ingested_at: the zone conversion once per batch
def shanghai_day(moment: datetime) -> date:
    """The calendar day in Shanghai at an aware moment."""
    return moment.astimezone(SHANGHAI).date()


def start_of_day(day: date) -> datetime:
    """00:00 of a day in Shanghai."""
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


def money(row: Row, column: str) -> Decimal:
    """A NUMERIC(12,2) amount: at least 0."""
    value = row.get(column)
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ChangeRejected(column, "required")
    if not 0 <= value < MONEY_LIMIT:
        raise ChangeRejected(column, f"must be at least 0 and below {MONEY_LIMIT}")
    return value


def committed_at(change: RowChange, provenance: Provenance) -> datetime:
    """When the change was committed upstream (source.ts_ms, else ingested_at), in Shanghai."""
    return (change.position.committed_at or provenance.ingested_at).astimezone(SHANGHAI)
