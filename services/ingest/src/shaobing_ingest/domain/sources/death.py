"""Death registry (死亡登记) row changes → DeathRegistered / DeathRetracted.

Upstream keeps REPLICA IDENTITY DEFAULT: an update's `before` is null and a delete's holds only
the key, so the caller passes `previous_row`, the last row it ingested for the certificate.
"""

from __future__ import annotations

from datetime import date, datetime

from shaobing_contracts.death import DeathRegistered, DeathRetracted, DeathSource
from shaobing_contracts.id_number import birth_date_of
from shaobing_contracts.provenance import Channel, Provenance
from shaobing_contracts.validated import validated

from ..cdc.changes import ChangeRejected, RowChange
from ..cdc.event_ids import event_id
from .derivation import (
    Row,
    changed,
    committed_at,
    id_number,
    merged,
    one_of,
    past_date,
    provenance_of,
    required_text,
    valid_id_number,
    wall_clock,
)
from .tables import DEATH_REGISTRATIONS

_RELEVANT = ("id_number", "date_of_death", "source")
_REGISTERED = "death_registered"
_RETRACTED = "death_retracted"

DeathEvent = DeathRegistered | DeathRetracted


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
    provenance = provenance_of(
        change, DEATH_REGISTRATIONS, channel=channel, ingested_at=ingested_at
    )
    if change.op == "d":
        return _on_delete(change, previous_row, provenance)
    if change.op == "u" and previous_row is not None:
        return _on_update(change, previous_row, provenance)
    return [_registered(change.after or {}, change, provenance)]


def _on_update(change: RowChange, previous: Row, provenance: Provenance) -> list[DeathEvent]:
    """Only id_number, date_of_death and source matter; a new person retracts the old one."""
    row = merged(previous, change.after)
    if not changed(row, previous, _RELEVANT):
        return []
    registered = _registered(row, change, provenance)
    old_person = valid_id_number(previous.get("id_number"))
    if old_person is None or old_person == registered.id_number:
        return [registered]
    return [_retracted(old_person, change, provenance), registered]


def _on_delete(change: RowChange, previous: Row | None, provenance: Provenance) -> list[DeathEvent]:
    """Retract for the person of the last row ingested (before.id_number is a "" placeholder).

    A previous row without a valid ID number never registered anyone: nothing to retract.
    """
    if previous is None:
        raise ChangeRejected("certificate_no", "delete of a registration that was never ingested")
    person = valid_id_number(previous.get("id_number"))
    return [] if person is None else [_retracted(person, change, provenance)]


def _registered(row: Row, change: RowChange, provenance: Provenance) -> DeathRegistered:
    person = id_number(row)
    return validated(
        DeathRegistered,
        event_id=event_id(provenance, event_type=_REGISTERED, id_number=person, image=change.after),
        id_number=person,
        recorded_at=wall_clock(row, "recorded_at", provenance.ingested_at),
        provenance=provenance,
        certificate_no=required_text(row, "certificate_no"),
        date_of_death=_date_of_death(row, person, provenance.ingested_at),
        death_source=one_of(row, "source", DeathSource),
    )


def _retracted(person: str, change: RowChange, provenance: Provenance) -> DeathRetracted:
    image = change.before if change.op == "d" else change.after
    return validated(
        DeathRetracted,
        event_id=event_id(provenance, event_type=_RETRACTED, id_number=person, image=image),
        id_number=person,
        recorded_at=committed_at(change, provenance),
        provenance=provenance,
        certificate_no=change.primary_key,
    )


def _date_of_death(row: Row, person: str, ingested_at: datetime) -> date:
    died = past_date(row, "date_of_death", ingested_at)
    if died < birth_date_of(person):
        raise ChangeRejected("date_of_death", "before the birth date in the ID number")
    return died
