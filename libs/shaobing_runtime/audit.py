"""The audit trail: append-only, each entry chained to the one before by a keyed hash.

Every decision, reassignment, full-record view and export is one entry. The table refuses
UPDATE, DELETE and TRUNCATE (triggers) and the services' role may only read and append; what
the database's owner could still do around that is found by `verify`: a rewritten entry by
its hash (an HMAC under a key the database does not hold, audit_chain.py), a deleted tail or a
truncation by the latest anchor kept outside the database (audit_anchor.py).

    python -m shaobing_runtime.audit verify   # exit 1 naming the first entry that fails
    python -m shaobing_runtime.audit anchor   # write the chain's head to AUDIT_ANCHOR_DIR now
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson

from .access import Principal
from .audit_anchor import AnchorDirectory, store_of
from .audit_chain import (
    GENESIS,
    AuditEntry,
    ChainCheck,
    Keyring,
    StoredEntry,
    Verdict,
    describe,
    describe_anchoring,
    entry_hash,
    sign_anchor,
)
from .database import create_pool
from .settings import AuditSettings

CHAIN_LOCK = 0x4155_4449_5400  # "AUDIT": one writer at a time keeps the chain linear
_keyring: Keyring | None = None


def use_keyring(keyring: Keyring) -> None:
    """The key this process signs its entries with (set once, by a service's composition root)."""
    global _keyring
    _keyring = keyring


def entry_of(
    principal: Principal,
    action: str,
    object_type: str,
    object_id: str,
    area_code: str | None,
    **details: Any,
) -> AuditEntry:
    plain = orjson.loads(orjson.dumps(details, default=str))  # as the jsonb column keeps it
    return AuditEntry(
        principal.subject, principal.role.value, action, object_type, object_id, area_code, plain
    )


async def append(conn: asyncpg.Connection, entries: list[AuditEntry]) -> None:
    """Append entries in the caller's transaction (which must commit for them to count)."""
    if not entries:
        return
    if _keyring is None:
        raise RuntimeError("audit.use_keyring was not called: no key to sign entries with")
    await conn.execute("select pg_advisory_xact_lock($1)", CHAIN_LOCK)
    prev = await conn.fetchval("select audit_log_tail_hash()") or GENESIS
    at = await conn.fetchval("select date_trunc('milliseconds', clock_timestamp())")
    rows = []
    for entry in entries:
        before, prev = prev, entry_hash(prev, at, entry, _keyring.current)
        rows.append(
            (
                at,
                entry.actor,
                entry.role,
                entry.action,
                entry.object_type,
                entry.object_id,
                entry.area_code,
                entry.details,
                _keyring.key_id,
                before,
                prev,
            )
        )
    await conn.executemany(  # one round trip for a bulk post's thousands of entries, in order
        """insert into audit_log (at, actor, role, action, object_type, object_id,
                                  area_code, details, key_id, prev_hash, hash)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
        rows,
    )


async def stored_entries(conn: asyncpg.Connection, from_seq: int = 0) -> AsyncIterator[StoredEntry]:
    """The entries from `from_seq` on, in seq order (inside the caller's transaction)."""
    query = "select * from audit_log where seq >= $1 order by seq"
    async for row in conn.cursor(query, from_seq):
        yield StoredEntry(
            row["seq"], row["at"], entry_in(row), row["key_id"], row["prev_hash"], row["hash"]
        )


def entry_in(row: asyncpg.Record) -> AuditEntry:
    """The entry an audit_log row holds (its details decoded, as create_pool's codec does)."""
    fields = ("actor", "role", "action", "object_type", "object_id", "area_code", "details")
    return AuditEntry(*(row[f] for f in fields))


async def verify(
    conn: asyncpg.Connection, keyring: Keyring, store: AnchorDirectory | None
) -> Verdict:
    """The whole chain recomputed, and held against the latest anchor in `store`."""
    check = ChainCheck(keyring, store.latest() if store else None)
    async with conn.transaction(readonly=True):
        async for stored in stored_entries(conn):
            check.add(stored)
    return check.verdict()


async def anchor(conn: asyncpg.Connection, keyring: Keyring, store: AnchorDirectory) -> Verdict:
    """Check the entries since the latest anchor and anchor the head they reach; the verdict
    carries the new anchor (the latest one when the head has not moved, or the chain broke)."""
    latest = store.latest()
    check = ChainCheck(keyring, latest, from_anchor=True)
    async with conn.transaction(readonly=True):
        async for stored in stored_entries(conn, latest.seq if latest else 0):
            check.add(stored)
    verdict = check.verdict()
    head = verdict.head
    if not verdict.intact or head is None or (latest and latest.seq == head.seq):
        return verdict
    new = sign_anchor(keyring, head.seq, head.hash, datetime.now(UTC))
    store.write(new)
    return dataclasses.replace(verdict, anchor=new)


async def _command(settings: AuditSettings, command: str) -> Verdict:
    store = store_of(settings)
    pool = await create_pool(settings.database_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            if command == "verify":
                return await verify(conn, settings.keyring(), store)
            if store is None:
                raise SystemExit("AUDIT_ANCHOR_DIR is not set: nowhere to anchor")
            return await anchor(conn, settings.keyring(), store)
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Verify or anchor the audit chain")
    parser.add_argument("command", choices=["verify", "anchor"])
    parser.add_argument("--database-url", help="default: DATABASE_URL")
    args = parser.parse_args()
    settings = AuditSettings()
    if args.database_url:
        settings = settings.model_copy(update={"database_url": args.database_url})
    verdict = asyncio.run(_command(settings, args.command))
    print(describe(verdict) if args.command == "verify" else describe_anchoring(verdict))
    raise SystemExit(0 if verdict.intact else 1)


if __name__ == "__main__":
    main()
