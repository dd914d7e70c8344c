"""Which of two versions of a fact is the newer, so that a replay cannot roll a state back.

A replay of a time window (`mark_for_replay(since=…)`) publishes older events again after newer
ones. A fact's version is when ingest accepted its event, then its source position (LSN) if it
has one. Ingest derives a row's events against the last row it accepted for that key, so for
one fact its order of intake is the order of what Shaobing knows; the LSN orders the events of
one intake (one Debezium batch). LSNs alone would not do: CSV rows have none, a snapshot's rows
share one, and a new upstream database starts them again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import msgspec

from shaobing_contracts.source_event import SourceEvent

Version = tuple[datetime, int | None]


class _Position(msgspec.Struct):
    lsn: str | None = None


class _Placed(msgspec.Struct):
    ingested_at: datetime
    position: _Position


class _PlacedEvidence(msgspec.Struct):
    provenance: _Placed


_PLACED = msgspec.json.Decoder(_PlacedEvidence)


def version_of(evidence: msgspec.Raw) -> Version:
    """The version of the fact a contract Evidence (JSON) records, read without the rest."""
    provenance = _PLACED.decode(evidence).provenance
    return provenance.ingested_at, _number(provenance.position.lsn)


def event_version(event: SourceEvent) -> Version:
    provenance = event.provenance
    return provenance.ingested_at, _number(provenance.position.lsn)


def _number(lsn: str | None) -> int | None:
    return int(lsn) if lsn and lsn.isdigit() else None


def older(version: Version, than: Version) -> bool:
    """Whether a fact of `version` is older than one of `than` (an LSN decides only within one
    intake, and only when both have one)."""
    (at, lsn), (then, then_lsn) = version, than
    if at != then:
        return at < then
    return lsn is not None and then_lsn is not None and lsn < then_lsn


def outdated(event: SourceEvent, evidence: msgspec.Raw | None) -> bool:
    """Whether the fact the evidence records is newer than the event (a replayed older one)."""
    return evidence is not None and older(event_version(event), version_of(evidence))


def superseded(
    retracted: Mapping[str, Version], key: str, evidence: msgspec.Raw | None, version: Version
) -> bool:
    """Whether a newer version of the fact `key` is known: the fact itself (its evidence), or
    its retraction."""
    if evidence is not None:
        return older(version, version_of(evidence))
    retraction = retracted.get(key)
    return retraction is not None and older(version, retraction)


def with_retraction(
    retracted: Mapping[str, Version], key: str, version: Version, most: int
) -> dict[str, Version]:
    """The retractions with this one, the newest `most` (a retraction forgotten only weakens the
    guard against a replay of something retracted long ago)."""
    kept = {k: v for k, v in retracted.items() if k != key}
    kept[key] = version
    if len(kept) > most:
        del kept[min(kept, key=lambda k: kept[k][0])]
    return kept


def without_retraction(retracted: dict[str, Version], key: str) -> dict[str, Version]:
    """The retractions but that of `key`, registered again since."""
    if key not in retracted:
        return retracted
    return {k: v for k, v in retracted.items() if k != key}
