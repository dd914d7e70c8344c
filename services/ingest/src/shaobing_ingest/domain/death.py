"""Death registry (死亡登记) row changes → DeathRegistered / DeathRetracted.

Upstream keeps REPLICA IDENTITY DEFAULT: an update's `before` is null and a delete's holds only
the key, so the caller passes `previous_row`, the last row it ingested for the certificate.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shaobing_contracts.death import DeathRegistered, DeathRetracted, DeathSource
from shaobing_contracts.id_number import InvalidIdNumber, birth_date_of, normalize_id_number
from shaobing_contracts.provenance import Channel, Provenance

from .changes import ChangeRejected, RowChange
from .event_ids import event_id
from .tables import DEATH_REGISTRATIONS

SHANGHAI = ZoneInfo("Asia/Shanghai")
_RELEVANT = ("id_number", "date_of_death", "source")
_REGISTERED = "death_registered"
_RETRACTED = "death_retracted"

DeathEvent = DeathRegistered | DeathRetracted
Row = Mapping[str, object]


def derive_death_events(
    change: RowChange,
    *,
    previous_row: Row | None,
    channel: Channel,
    ingested_at: datetime,
) -> list[DeathEvent]:
    """The events one death-registry change means; raises ChangeRejected if it is invalid.

    A retraction's recorded_at is when the delete or correction was committed upstream
    (source.ts_ms, else ingested_at), in Asia/Shanghai. ingested_at must be timezone-aware.
    """
    if change.table.qualified_name != DEATH_REGISTRATIONS.qualified_name:
        raise ChangeRejected("source.table", f"{change.table.qualified_name} is not the registry")
    if ingested_at.tzinfo is None:
        raise ValueError("ingested_at must be timezone-aware")
    provenance = Provenance(
        source_system=change.table.source,
        table=change.table.qualified_name,
        primary_key=change.primary_key,
        position=change.position,
        channel=channel,
        ingested_at=ingested_at,
    )
    if change.op == "d":
        return _on_delete(change, previous_row, provenance)
    if change.op == "u" and previous_row is not None:
        return _on_update(change, previous_row, provenance)
    return [_registered(change.after or {}, change, provenance)]


def _on_update(change: RowChange, previous: Row, provenance: Provenance) -> list[DeathEvent]:
    """Only id_number, date_of_death and source matter; a new person retracts the old one."""
    row = {**previous, **(change.after or {})}  # columns absent from `after` are unchanged
    if all(_comparable(row.get(c)) == _comparable(previous.get(c)) for c in _RELEVANT):
        return []
    registered = _registered(row, change, provenance)
    old_person = _person(previous.get("id_number"))
    if old_person is None or old_person == registered.id_number:
        return [registered]
    return [_retracted(old_person, change, provenance), registered]


def _on_delete(change: RowChange, previous: Row | None, provenance: Provenance) -> list[DeathEvent]:
    """Retract for the person of the last row ingested (before.id_number is a "" placeholder).

    A previous row without a valid ID number never registered anyone: nothing to retract.
    """
    if previous is None:
        raise ChangeRejected("certificate_no", "delete of a registration that was never ingested")
    person = _person(previous.get("id_number"))
    return [] if person is None else [_retracted(person, change, provenance)]


def _registered(row: Row, change: RowChange, provenance: Provenance) -> DeathRegistered:
    id_number = _id_number(row.get("id_number"))
    return DeathRegistered(
        event_id=event_id(
            provenance, event_type=_REGISTERED, id_number=id_number, image=change.after
        ),
        id_number=id_number,
        recorded_at=_recorded_at(row.get("recorded_at")),
        provenance=provenance,
        certificate_no=_certificate_no(row.get("certificate_no")),
        date_of_death=_date_of_death(row.get("date_of_death"), id_number, provenance.ingested_at),
        death_source=_death_source(row.get("source")),
    )


def _retracted(person: str, change: RowChange, provenance: Provenance) -> DeathRetracted:
    image = change.before if change.op == "d" else change.after
    committed = change.position.committed_at or provenance.ingested_at
    return DeathRetracted(
        event_id=event_id(provenance, event_type=_RETRACTED, id_number=person, image=image),
        id_number=person,
        recorded_at=committed.astimezone(SHANGHAI),
        provenance=provenance,
        certificate_no=change.primary_key,
    )


def _id_number(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ChangeRejected("id_number", "required")
    try:
        return normalize_id_number(value)
    except InvalidIdNumber as exc:
        raise ChangeRejected("id_number", str(exc)) from exc


def _person(value: object) -> str | None:
    """The valid ID number of a stored row, or None."""
    try:
        return _id_number(value)
    except ChangeRejected:
        return None


def _comparable(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _date_of_death(value: object, id_number: str, ingested_at: datetime) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ChangeRejected("date_of_death", "required")
    if value > ingested_at.astimezone(SHANGHAI).date():
        raise ChangeRejected("date_of_death", "in the future")
    if value < birth_date_of(id_number):
        raise ChangeRejected("date_of_death", "before the birth date in the ID number")
    return value


def _death_source(value: object) -> DeathSource:
    try:
        return DeathSource(value)
    except ValueError as exc:
        allowed = ", ".join(DeathSource)
        raise ChangeRejected("source", f"required, one of {allowed}") from exc


def _certificate_no(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ChangeRejected("certificate_no", "required")
    return value


def _recorded_at(value: object) -> datetime:
    """Upstream TIMESTAMP is Shanghai wall-clock time: attach the zone, never shift."""
    if not isinstance(value, datetime):
        raise ChangeRejected("recorded_at", "required")
    if value.tzinfo is None:
        return value.replace(tzinfo=SHANGHAI)
    return value.astimezone(SHANGHAI)
