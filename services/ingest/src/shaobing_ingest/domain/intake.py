"""One posted batch through parsing and derivation: what to store, what to dead-letter.

Pure: the last row seen per upstream key comes in as a dict and goes out updated, so a
create and a delete of the same key within one batch see each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from shaobing_contracts.death import SourceEvent
from shaobing_contracts.provenance import Channel, SourceSystem

from .cdc.body import BodyItem
from .cdc.changes import Ignored, RowChange, parse_change
from .sources.death import derive_death_events
from .sources.hukou import derive_hukou_events
from .sources.marriage import derive_marriage_events
from .sources.social_security import derive_social_security_events
from .sources.tables import ChangeRejected

RowKey = tuple[str, str]  # (schema.table, primary key)
Deriver = Callable[..., list[SourceEvent]]
DERIVERS: dict[str, Deriver] = {
    "death.registrations": derive_death_events,
    "hukou.population": derive_hukou_events,
    "marriage.registrations": derive_marriage_events,
    "social_security.person_status": derive_social_security_events,
}


@dataclass(slots=True)  # one per item: a frozen dataclass's __init__ costs 4x
class ItemOutcome:
    index: int
    status: str  # accepted, ignored, dead_lettered (duplicate is decided when stored)
    events: tuple[SourceEvent, ...] = ()
    field: str | None = None
    reason: str | None = None


@dataclass
class Intake:
    outcomes: list[ItemOutcome] = field(default_factory=list)
    rows: dict[RowKey, dict | None] = field(default_factory=dict)  # None: deleted

    @property
    def events(self) -> list[SourceEvent]:
        return [e for o in self.outcomes for e in o.events]


MAX_KEY_LENGTH = 200  # a primary key longer than this is no upstream key (and breaks indexes)


def check_storable(change: RowChange) -> RowChange:
    """Refuse what PostgreSQL cannot store: NUL characters in text, oversized keys."""
    texts = [change.primary_key, change.position.connector or ""]
    for image in (change.before, change.after):
        texts += [v for v in (image or {}).values() if isinstance(v, str)]
    if "\x00" in "".join(texts):
        raise ChangeRejected(None, "contains a NUL character (U+0000), which text cannot hold")
    return check_key_length(change)


def check_key_length(change: RowChange) -> RowChange:
    if len(change.primary_key) > MAX_KEY_LENGTH:
        raise ChangeRejected(
            change.table.primary_key[0], f"key longer than {MAX_KEY_LENGTH} characters"
        )
    return change


def changes_of(
    items: list[BodyItem], source: SourceSystem, *, may_hold_nul: bool = True
) -> list[RowChange | ItemOutcome]:
    """Parse every item; what cannot be parsed becomes a dead-letter outcome in its place.

    `may_hold_nul=False` (the body has no "\\u0000" escape) skips the search for NUL characters.
    """
    storable = check_storable if may_hold_nul else check_key_length
    parsed: list[RowChange | ItemOutcome] = []
    for item in items:
        if item.error:
            parsed.append(ItemOutcome(item.index, "dead_lettered", reason=item.error))
            continue
        try:
            change = parse_change(item.value, source)
            if isinstance(change, RowChange):
                change = storable(change)
        except ChangeRejected as exc:
            change = ItemOutcome(item.index, "dead_lettered", field=exc.field, reason=exc.reason)
        if isinstance(change, Ignored):
            change = ItemOutcome(item.index, "ignored", reason=change.reason)
        parsed.append(change)
    return parsed


def row_key(change: RowChange) -> RowKey:
    return (change.table.qualified_name, change.primary_key)


def derive(
    parsed: list[RowChange | ItemOutcome],
    previous_rows: dict[RowKey, dict | None],
    *,
    channel: Channel,
    ingested_at: datetime,
) -> Intake:
    """Canonical events for every parsed change, in order, tracking the last row per key."""
    intake = Intake(rows=dict(previous_rows))
    for index, change in enumerate(parsed):
        if isinstance(change, ItemOutcome):
            intake.outcomes.append(change)
        else:
            intake.outcomes.append(_derive_one(index, change, intake, channel, ingested_at))
    return intake


def _derive_one(
    index: int, change: RowChange, intake: Intake, channel: Channel, ingested_at: datetime
) -> ItemOutcome:
    key = row_key(change)
    deriver = DERIVERS.get(key[0])
    try:
        if deriver is None:
            raise ChangeRejected("source.table", f"no events are derived from {key[0]} yet")
        events = deriver(
            change, previous_row=intake.rows.get(key), channel=channel, ingested_at=ingested_at
        )
    except ChangeRejected as exc:
        return ItemOutcome(index, "dead_lettered", field=exc.field, reason=exc.reason)
    # Merge: an update's after-image may lack unchanged TOASTed columns.
    intake.rows[key] = (
        None if change.op == "d" else {**(intake.rows.get(key) or {}), **(change.after or {})}
    )
    if not events:
        return ItemOutcome(index, "ignored", reason="no relevant column changed")
    return ItemOutcome(index, "accepted", events=tuple(events))
