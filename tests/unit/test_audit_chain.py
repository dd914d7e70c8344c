"""The audit chain without a database: keyed hashes, signed anchors, and what verification
finds when the database's owner rewrites, deletes or truncates."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from shaobing_api.config import ApiSettings
from shaobing_runtime.audit_anchor import AnchorDirectory, anchor_of_json, json_of_anchor
from shaobing_runtime.audit_chain import (
    GENESIS,
    AuditEntry,
    ChainCheck,
    Keyring,
    StoredEntry,
    Verdict,
    anchor_is_signed,
    describe,
    entry_hash,
    sign_anchor,
)
from shaobing_runtime.settings import DEV_AUDIT_KEY, AuditSettings

KEYRING = Keyring("2", {"2": b"k" * 32, "1": b"r" * 32})
T0 = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)


def _entry(n: int) -> AuditEntry:
    return AuditEntry(f"worker-{n}", "caseworker", "alert.claim", "alert", f"a-{n}", "310110", {})


def _chain(count: int, key_id: str | None = "2", *, after: StoredEntry | None = None) -> list:
    """`count` entries hashed as append() does (key_id None: the unkeyed chain of 0010)."""
    rows, prev, seq = [], after.hash if after else GENESIS, after.seq if after else 0
    key = KEYRING.keys[key_id] if key_id else None
    for n in range(seq + 1, seq + count + 1):
        at = T0 + timedelta(seconds=n)
        hash_ = entry_hash(prev, at, _entry(n), key)
        rows.append(StoredEntry(n, at, _entry(n), key_id, prev, hash_))
        prev = hash_
    return rows


def _verdict(rows: list[StoredEntry], anchor=None, *, from_anchor: bool = False) -> Verdict:
    check = ChainCheck(KEYRING, anchor, from_anchor=from_anchor)
    for row in rows:
        check.add(row)
    return check.verdict()


def _anchor_at(row: StoredEntry, keyring: Keyring = KEYRING):
    return sign_anchor(keyring, row.seq, row.hash, T0 + timedelta(hours=1))


def _rehashed(rows: list[StoredEntry], key: bytes | None, key_id: str | None) -> list:
    """What the owner can do: recompute every hash (with `key`, when it has one)."""
    out, prev = [], GENESIS if rows[0].seq == 1 else rows[0].prev_hash
    for row in rows:
        hash_ = entry_hash(prev, row.at, row.entry, key)
        out.append(dataclasses.replace(row, key_id=key_id, prev_hash=prev, hash=hash_))
        prev = hash_
    return out


def test_the_unkeyed_hash_is_the_sha256_of_migration_0010s_chain():
    entry = AuditEntry(
        "wang",
        "caseworker",
        "alert.claim",
        "alert",
        "a-1",
        "310110001001",
        {"from": "OPEN", "to": "CLAIMED", "n": [1, 2]},
    )
    at = datetime(2026, 12, 1, 8, 30, 0, 123000, tzinfo=UTC)
    assert entry_hash(GENESIS, at, entry, None) == (
        "05de0a4def86b69fb3c94e6c6f02cc1fcbc86a3b6aab77e2c9586c7650751692"
    )
    assert entry_hash(GENESIS, at, entry, b"k" * 32) != entry_hash(GENESIS, at, entry, None)


def test_a_keyed_chain_after_the_unkeyed_one_is_intact_and_anchored():
    rows = _chain(3, None)
    rows += _chain(3, "1", after=rows[-1])
    rows += _chain(3, "2", after=rows[-1])  # a rotated key: "1" retired, still verifying

    verdict = _verdict(rows, _anchor_at(rows[5]))

    assert (verdict.intact, verdict.entries, verdict.head) == (True, 9, rows[-1])
    assert describe(verdict).startswith("audit chain intact: 9 entries, anchored at seq 6")


def test_an_entry_rewritten_and_rehashed_without_the_key_breaks_the_chain_there():
    rows = _chain(6)
    changed = dataclasses.replace(rows[3], entry=dataclasses.replace(rows[3].entry, actor="x"))

    for forged in (
        [*rows[:3], *_rehashed([changed, *rows[4:]], None, None)],  # unkeyed, as 0010 hashed
        [*rows[:3], *_rehashed([changed, *rows[4:]], b"guess" * 8, "2")],  # another key
        [*rows[:3], *_rehashed([changed, *rows[4:]], None, "2")],  # sha256 under the key's id
    ):
        assert _verdict(forged).broken.seq == 4


def test_the_whole_chain_rehashed_as_the_unkeyed_one_is_found_by_the_anchor():
    rows = _chain(6)
    anchor = _anchor_at(rows[4])
    changed = dataclasses.replace(rows[1], entry=dataclasses.replace(rows[1].entry, actor="x"))

    forged = _rehashed([rows[0], changed, *rows[2:]], None, None)

    assert _verdict(forged).intact  # without the anchor it would pass
    assert _verdict(forged, anchor).broken.seq == 5


def test_a_deleted_entry_breaks_the_link_of_the_next():
    rows = _chain(5)
    assert _verdict([*rows[:2], *rows[3:]]).broken.seq == 4
    assert _verdict(rows[1:]).broken.seq == 2  # the first ones gone


@pytest.mark.parametrize("kept", [3, 0])
def test_a_tail_deleted_or_the_table_truncated_is_found_by_the_anchor(kept):
    rows = _chain(5)
    anchor = _anchor_at(rows[3])

    verdict = _verdict(rows[:kept], anchor)

    assert verdict.broken.seq == 4
    assert "deleted from its tail, or the table truncated" in verdict.broken.reason
    assert verdict.entries == kept


def test_entries_appended_after_the_anchor_are_intact():
    rows = _chain(5)
    assert _verdict(rows, _anchor_at(rows[1])).intact


def test_an_anchor_not_signed_by_a_held_key_breaks_the_verification():
    rows = _chain(3)
    forged = _anchor_at(rows[2], Keyring("2", {"2": b"f" * 32}))

    assert not anchor_is_signed(KEYRING, forged)
    assert "not signed" in _verdict(rows, forged).broken.reason


def test_an_entry_keyed_with_a_key_not_held_breaks_the_chain():
    rows = _chain(2) + _chain(1, "1", after=_chain(2)[-1])
    held = Keyring("2", {"2": KEYRING.keys["2"]})
    check = ChainCheck(held, None)
    for row in rows:
        check.add(row)
    assert check.verdict().broken.seq == 3


def test_from_the_anchor_on_only_the_entries_after_it_are_checked():
    rows = _chain(6)
    anchor = _anchor_at(rows[2])

    assert _verdict(rows[2:], anchor, from_anchor=True).intact
    assert _verdict(rows[3:], anchor, from_anchor=True).broken.seq == 3  # the anchored one gone
    assert "holds nothing from seq 3 on" in _verdict([], anchor, from_anchor=True).broken.reason
    rewritten = dataclasses.replace(rows[2], hash="0" * 64)
    assert _verdict([rewritten, *rows[3:]], anchor, from_anchor=True).broken.seq == 3


def test_the_latest_anchor_is_read_back_as_written_a_line_in_progress_is_not(tmp_path):
    rows = _chain(3)
    store = AnchorDirectory(tmp_path)
    first, second = _anchor_at(rows[0]), _anchor_at(rows[2])
    store.write(first)
    store.write(second)

    assert store.latest() == second and anchor_is_signed(KEYRING, store.latest())
    assert anchor_of_json(json_of_anchor(first)) == first
    with next(tmp_path.iterdir()).open("ab") as day:
        day.write(b'{"seq": 9')  # a write cut short
    assert store.latest() == second


def test_outside_development_the_default_key_a_short_one_and_no_anchors_are_refused(tmp_path):
    production = {"environment": "production", "jwt_secret": "j" * 48}
    for key in (DEV_AUDIT_KEY, "short"):
        with pytest.raises(ValidationError, match="AUDIT_CHAIN_KEY"):
            AuditSettings(**production, audit_chain_key=key)
    with pytest.raises(ValidationError, match="AUDIT_ANCHOR_DIR"):
        ApiSettings(**production, audit_chain_key="k" * 48)
    settings = ApiSettings(
        **production,
        audit_chain_key="k" * 48,
        audit_chain_key_id="2",
        audit_chain_retired_keys={"1": "r" * 48},
        audit_anchor_dir=tmp_path,
    )
    assert settings.keyring() == Keyring("2", {"1": b"r" * 48, "2": b"k" * 48})
