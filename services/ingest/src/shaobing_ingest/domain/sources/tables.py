"""The upstream tables ingest accepts (design.md §4): columns, PostgreSQL types, primary keys.

The column type, not the CDC message, decides what a value is: the message may lack a schema
(and with it the scale of a NUMERIC), and converters differ between deployments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType

from shaobing_contracts.provenance import SourceSystem


class ChangeRejected(Exception):
    """An item that cannot be accepted; `field` names what is wrong (None: the whole item)."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


class Kind(StrEnum):
    TEXT = "TEXT"
    CHAR = "CHAR"
    DATE = "DATE"
    TIMESTAMP = "TIMESTAMP"
    NUMERIC = "NUMERIC"
    ENUM = "ENUM"


@dataclass(frozen=True)
class ColumnType:
    """A PostgreSQL column type as ingest needs it; build with TEXT, char(), numeric()…"""

    kind: Kind
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    allowed: frozenset[str] = frozenset()

    def __str__(self) -> str:
        if self.kind is Kind.CHAR:
            return f"CHAR({self.length})"
        if self.kind is Kind.NUMERIC:
            return f"NUMERIC({self.precision},{self.scale})"
        if self.kind is Kind.ENUM:
            return f"ENUM({','.join(sorted(self.allowed))})"
        return self.kind.value


TEXT = ColumnType(Kind.TEXT)
DATE = ColumnType(Kind.DATE)
TIMESTAMP = ColumnType(Kind.TIMESTAMP)  # without time zone: a wall-clock value


def char(length: int) -> ColumnType:
    """CHAR(n): blank-padded to n characters upstream."""
    return ColumnType(Kind.CHAR, length=length)


def numeric(precision: int, scale: int) -> ColumnType:
    """NUMERIC(p, s)."""
    return ColumnType(Kind.NUMERIC, precision=precision, scale=scale)


def enum(*allowed: str) -> ColumnType:
    """A PostgreSQL ENUM with its labels."""
    return ColumnType(Kind.ENUM, allowed=frozenset(allowed))


@dataclass(frozen=True)
class TableDef:
    """One upstream table: which source owns it, its primary key and its columns."""

    source: SourceSystem
    schema: str
    name: str
    primary_key: tuple[str, ...]
    columns: Mapping[str, ColumnType] = field(hash=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))
        missing = [c for c in self.primary_key if c not in self.columns]
        if missing:
            raise ValueError(f"{self.qualified_name}: key columns {missing} are not columns")

    @cached_property  # asked several times per item
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


_ID = char(18)
_AREA = char(12)
_MONEY = numeric(12, 2)

HUKOU_POPULATION = TableDef(
    source=SourceSystem.HUKOU,
    schema="hukou",
    name="population",
    primary_key=("id_number",),
    columns={
        "id_number": _ID,
        "name": TEXT,
        "gender": char(1),
        "birth_date": DATE,
        "household_no": TEXT,
        "relation_to_head": TEXT,
        "area_code": _AREA,
        "address": TEXT,
        "status": enum("ACTIVE", "MOVED_OUT", "DECEASED", "CANCELLED"),
        "updated_at": TIMESTAMP,
    },
)

MARRIAGE_REGISTRATIONS = TableDef(
    source=SourceSystem.MARRIAGE,
    schema="marriage",
    name="registrations",
    primary_key=("registration_no",),
    columns={
        "registration_no": TEXT,
        "kind": enum("MARRIAGE", "DIVORCE", "REMARRIAGE", "ANNULMENT"),
        "party_a_id": _ID,
        "party_b_id": _ID,
        "registered_on": DATE,
        "office_code": _AREA,
    },
)

DEATH_REGISTRATIONS = TableDef(
    source=SourceSystem.DEATH,
    schema="death",
    name="registrations",
    primary_key=("certificate_no",),
    columns={
        "certificate_no": TEXT,
        "id_number": _ID,
        "date_of_death": DATE,
        "source": enum("MEDICAL", "CREMATION", "POLICE", "COURT"),
        "recorded_at": TIMESTAMP,
    },
)

SOCIAL_SECURITY_PERSON_STATUS = TableDef(
    source=SourceSystem.SOCIAL_SECURITY,
    schema="social_security",
    name="person_status",
    primary_key=("id_number",),
    columns={
        "id_number": _ID,
        "pension_status": enum("NONE", "RECEIVING", "SUSPENDED", "TERMINATED"),
        "pension_monthly_amount": _MONEY,
        "employment_status": enum("UNEMPLOYED", "EMPLOYED", "SELF_EMPLOYED"),
        "employer_uscc": char(18),  # unified social credit code; nullable
        "contribution_base": _MONEY,
        "unemployment_benefit": _MONEY,  # monthly amount, 0 when none
        "updated_at": TIMESTAMP,
    },
)

TABLES: Mapping[str, TableDef] = MappingProxyType(
    {
        t.qualified_name: t
        for t in (
            HUKOU_POPULATION,
            MARRIAGE_REGISTRATIONS,
            DEATH_REGISTRATIONS,
            SOCIAL_SECURITY_PERSON_STATUS,
        )
    }
)


def table_for(
    source: SourceSystem, qualified_name: str, *, tables: Mapping[str, TableDef] = TABLES
) -> TableDef:
    """The definition of `schema.table`, which must belong to `source`."""
    table = tables.get(qualified_name)
    if table is None:
        raise ChangeRejected("source.table", f"unknown table {qualified_name!r}")
    if table.source != source:
        raise ChangeRejected(
            "source.table", f"{qualified_name} belongs to source {table.source}, not {source}"
        )
    return table
