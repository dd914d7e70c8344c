"""Marriage registry (婚姻登记, marriage.registrations) row changes → MarriageRegistered /
MarriageRetracted, one event per party.

Each party gets its own event, keyed by its ID number, with the other party as spouse_id.
Upstream keeps REPLICA IDENTITY DEFAULT: an update's `before` is null and a delete's holds the
registration number and placeholders, so the caller passes `previous_row`, the last row it
ingested for the registration number:

- no previous row (create, snapshot read, or an update of a row never ingested): both parties
  registered;
- kind, a party, registered_on or office_code changed: both parties registered again, and a
  party no longer on the registration retracted;
- anything else: nothing;
- a delete: each party of the previous row retracted; a delete of a registration never
  ingested is rejected (it would retract no one).

recorded_at of a registration is registered_on at 00:00 in Shanghai; of a retraction, when the
delete or correction was committed upstream (source.ts_ms, else ingested_at).
"""

from __future__ import annotations

from datetime import datetime

from shaobing_contracts.id_number import birth_date_of
from shaobing_contracts.marriage import MarriageKind, MarriageRegistered, MarriageRetracted
from shaobing_contracts.provenance import Channel, Provenance
from shaobing_contracts.validated import validated

from ..cdc.changes import ChangeRejected, RowChange
from ..cdc.event_ids import event_id
from .derivation import (
    Row,
    area_code,
    changed,
    committed_at,
    id_number,
    merged,
    one_of,
    past_date,
    provenance_of,
    required_text,
    start_of_day,
    valid_id_number,
)
from .tables import MARRIAGE_REGISTRATIONS

_RELEVANT = ("kind", "party_a_id", "party_b_id", "registered_on", "office_code")
_REGISTERED = "marriage_registered"
_RETRACTED = "marriage_retracted"

MarriageEvent = MarriageRegistered | MarriageRetracted


def derive_marriage_events(
    change: RowChange,
    *,
    previous_row: Row | None,
    channel: Channel,
    ingested_at: datetime,
) -> list[MarriageEvent]:
    """The events one registration change means; raises ChangeRejected if it is invalid.

    ingested_at must be timezone-aware.
    """
    provenance = provenance_of(
        change, MARRIAGE_REGISTRATIONS, channel=channel, ingested_at=ingested_at
    )
    if change.op == "d":
        return _on_delete(change, previous_row, provenance)
    row = merged(previous_row, change.after)
    if previous_row is not None and not changed(row, previous_row, _RELEVANT):
        return []
    registered = _registered(row, change, provenance)
    if previous_row is None:
        return list(registered)
    current = {e.id_number for e in registered}
    retracted = [
        _retracted(party, spouse, change, provenance)
        for party, spouse in _parties(previous_row)
        if party not in current
    ]
    return [*retracted, *registered]


def _on_delete(
    change: RowChange, previous: Row | None, provenance: Provenance
) -> list[MarriageEvent]:
    """Retract for the parties of the last row ingested (before holds "" placeholders)."""
    if previous is None:
        raise ChangeRejected("registration_no", "delete of a registration that was never ingested")
    return [_retracted(party, spouse, change, provenance) for party, spouse in _parties(previous)]


def _registered(
    row: Row, change: RowChange, provenance: Provenance
) -> tuple[MarriageRegistered, MarriageRegistered]:
    party_a = id_number(row, "party_a_id")
    party_b = id_number(row, "party_b_id")
    if party_a == party_b:
        raise ChangeRejected("party_b_id", "the same person as party_a_id")
    registration_no = required_text(row, "registration_no")
    kind = one_of(row, "kind", MarriageKind)
    registered_on = past_date(row, "registered_on", provenance.ingested_at)
    if registered_on < max(birth_date_of(party_a), birth_date_of(party_b)):
        raise ChangeRejected("registered_on", "before the birth date of a party")
    office_code = area_code(row, "office_code")

    def registered(party: str, spouse: str) -> MarriageRegistered:
        return validated(
            MarriageRegistered,
            event_id=event_id(
                provenance, event_type=_REGISTERED, id_number=party, image=change.after
            ),
            id_number=party,
            recorded_at=start_of_day(registered_on),
            provenance=provenance,
            kind=kind,
            registration_no=registration_no,
            registered_on=registered_on,
            occurred_on=registered_on,
            office_code=office_code,
            spouse_id=spouse,
        )

    return registered(party_a, party_b), registered(party_b, party_a)


def _parties(previous: Row) -> list[tuple[str, str | None]]:
    """(party, spouse) for each valid party of a stored row; an invalid one registered no one."""
    party_a = valid_id_number(previous.get("party_a_id"))
    party_b = valid_id_number(previous.get("party_b_id"))
    pairs = [(party_a, party_b), (party_b, party_a)]
    return [(party, spouse) for party, spouse in pairs if party is not None and party != spouse]


def _retracted(
    party: str, spouse: str | None, change: RowChange, provenance: Provenance
) -> MarriageRetracted:
    image = change.before if change.op == "d" else change.after
    return validated(
        MarriageRetracted,
        event_id=event_id(provenance, event_type=_RETRACTED, id_number=party, image=image),
        id_number=party,
        recorded_at=committed_at(change, provenance),
        provenance=provenance,
        registration_no=change.primary_key,
        spouse_id=spouse,
    )
