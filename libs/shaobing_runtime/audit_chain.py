"""The audit chain's arithmetic, without I/O: keyed hashes, signed anchors, verification.

Each entry's hash is an HMAC-SHA256, under a key the services hold and the database does not,
of the previous entry's hash and the entry's canonical JSON: whoever owns the database can
disable its triggers and rewrite rows, but cannot recompute a hash. Entries written before the
key (the plain sha256 chain of migration 0010) are still verified, but only ahead of the first
keyed entry: an unkeyed entry after a keyed one is a rewrite under the old scheme.

What hashes cannot show is a chain cut short: deleting the newest entries, or all of them,
leaves a chain that verifies. An anchor is the chain's head (seq and hash) at a time, signed
with the key and kept where the database's owner cannot write (audit_anchor.py); a chain that
no longer holds the anchored entry, or holds another one there, was cut or rewritten.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    role: str
    action: str
    object_type: str
    object_id: str
    area_code: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class StoredEntry:
    """An entry as the table holds it; `key_id` None for the unkeyed entries of 0010."""

    seq: int
    at: datetime
    entry: AuditEntry
    key_id: str | None
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Keyring:
    """The key that signs new entries and anchors (`key_id`), and retired ones still verified."""

    key_id: str
    keys: Mapping[str, bytes]

    @property
    def current(self) -> bytes:
        return self.keys[self.key_id]


def _canonical(value: dict[str, Any]) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z)


def _mac(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def entry_hash(prev_hash: str, at: datetime, entry: AuditEntry, key: bytes | None) -> str:
    """HMAC-SHA256 under `key` of the previous hash and the entry as canonical JSON (sorted
    keys, UTC instant); without a key the plain sha256 of migration 0010's chain."""
    message = prev_hash.encode() + _canonical(
        {
            "at": at.isoformat(),
            "actor": entry.actor,
            "role": entry.role,
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "area_code": entry.area_code,
            "details": entry.details,
        }
    )
    return hashlib.sha256(message).hexdigest() if key is None else _mac(key, message)


@dataclass(frozen=True)
class Anchor:
    """The chain's head at a time, signed with the key named `key_id`."""

    seq: int
    hash: str
    at: datetime
    key_id: str
    signature: str

    def signed_part(self) -> bytes:
        fields = {"seq": self.seq, "hash": self.hash, "at": self.at, "key_id": self.key_id}
        return _canonical(fields)


def sign_anchor(keyring: Keyring, seq: int, hash_: str, at: datetime) -> Anchor:
    unsigned = Anchor(seq, hash_, at, keyring.key_id, "")
    return Anchor(seq, hash_, at, keyring.key_id, _mac(keyring.current, unsigned.signed_part()))


def anchor_is_signed(keyring: Keyring, anchor: Anchor) -> bool:
    key = keyring.keys.get(anchor.key_id)
    expected = key is not None and _mac(key, anchor.signed_part())
    return bool(expected) and hmac.compare_digest(expected, anchor.signature)


@dataclass(frozen=True)
class Break:
    """Where the chain stops holding: the first entry that does not match, or the anchored
    entry the chain no longer has."""

    seq: int
    reason: str


@dataclass(frozen=True)
class Verdict:
    entries: int
    head: StoredEntry | None
    anchor: Anchor | None
    broken: Break | None

    @property
    def intact(self) -> bool:
        return self.broken is None


class ChainCheck:
    """Entries fed in seq order, from the first one, or (`from_anchor`) from the anchored entry
    on, trusting what came before it; `verdict()` once all are in."""

    def __init__(self, keyring: Keyring, anchor: Anchor | None, *, from_anchor: bool = False):
        self._keyring, self._anchor = keyring, anchor
        self._prev = GENESIS
        self._keyed = False
        self._awaiting_anchor = anchor is not None
        self._from_anchor = self._resuming = from_anchor and anchor is not None
        self._entries = 0
        self._head: StoredEntry | None = None
        self._broken = _unsigned(keyring, anchor)

    def add(self, row: StoredEntry) -> None:
        """Take the next entry (after a break it is only counted)."""
        self._entries += 1
        self._head = row
        if self._broken is None:
            self._broken = self._resumed(row) if self._resuming else self._followed(row)
            self._resuming = False
            self._prev, self._keyed = row.hash, self._keyed or row.key_id is not None

    def verdict(self) -> Verdict:
        return Verdict(self._entries, self._head, self._anchor, self._broken or self._cut_short())

    def _followed(self, row: StoredEntry) -> Break | None:
        if row.prev_hash != self._prev:
            return Break(row.seq, "it does not follow the entry before it (one deleted, or moved)")
        if row.key_id is None and self._keyed:
            return Break(row.seq, "it is unkeyed after keyed entries (rewritten, and rehashed)")
        key = None if row.key_id is None else self._keyring.keys.get(row.key_id)
        if row.key_id is not None and key is None:
            return Break(row.seq, f"it is keyed with {row.key_id!r}, a key not held here")
        if row.hash != entry_hash(self._prev, row.at, row.entry, key):
            return Break(row.seq, "its hash does not match it (rewritten)")
        return self._resumed(row) if self._awaiting_anchor else None

    def _resumed(self, row: StoredEntry) -> Break | None:
        """At or past the anchored seq: the anchored entry itself, unchanged."""
        anchor = self._anchor
        if anchor is None or row.seq < anchor.seq:
            return None
        self._awaiting_anchor = False
        if (row.seq, row.hash) != (anchor.seq, anchor.hash):
            reason = "it differs from" if row.seq == anchor.seq else "the chain skips"
            return Break(anchor.seq, f"{reason} the entry {_anchored(anchor)} (rewritten)")
        return None

    def _cut_short(self) -> Break | None:
        if self._anchor is None or not self._awaiting_anchor:
            return None
        end = f"ends at seq {self._head.seq}" if self._head else "is empty"
        if self._head is None and self._from_anchor:
            end = f"holds nothing from seq {self._anchor.seq} on"
        return Break(
            self._anchor.seq,
            f"the chain {end}, short of the entry {_anchored(self._anchor)} "
            "(entries deleted from its tail, or the table truncated)",
        )


def _unsigned(keyring: Keyring, anchor: Anchor | None) -> Break | None:
    if anchor is None or anchor_is_signed(keyring, anchor):
        return None
    return Break(anchor.seq, f"the anchor of {anchor.at.isoformat()} is not signed by a key held")


def _anchored(anchor: Anchor) -> str:
    return f"anchored at {anchor.at.isoformat()}"


def describe(verdict: Verdict) -> str:
    """What the verify command prints."""
    if verdict.broken is not None:
        return f"audit chain broken at seq {verdict.broken.seq}: {verdict.broken.reason}"
    anchored = (
        f"anchored at seq {verdict.anchor.seq} ({verdict.anchor.at.isoformat()})"
        if verdict.anchor
        else "not anchored yet: a deleted tail or a truncation could not be told"
    )
    return f"audit chain intact: {verdict.entries} entries, {anchored}"


def describe_anchoring(verdict: Verdict) -> str:
    """What the anchor command prints."""
    if verdict.broken is not None:
        return f"not anchored: {describe(verdict)}"
    if verdict.anchor is None:
        return "nothing to anchor: the chain is empty"
    return f"audit chain anchored at seq {verdict.anchor.seq} ({verdict.anchor.at.isoformat()})"
