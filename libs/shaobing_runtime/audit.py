"""The audit trail: append-only, each entry chained to the one before by a hash.

Every decision, reassignment, full-record view and export is one entry. `verify` recomputes the
chain and names the first entry that does not match, so tampering with any row is found
(`python -m shaobing_runtime.audit verify`). The table refuses UPDATE and DELETE (a trigger);
the chain catches what a superuser could still do around it.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from .access import Principal
from .database import create_pool

GENESIS = "0" * 64
_LOCK = 0x4155_4449_5400  # "AUDIT": one writer at a time keeps the chain linear


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    role: str
    action: str
    object_type: str
    object_id: str
    area_code: str | None
    details: dict[str, Any]


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


def chain_hash(prev_hash: str, at: datetime, entry: AuditEntry) -> str:
    """sha256 of the previous hash and the entry as canonical JSON (sorted keys, UTC instant)."""
    canonical = orjson.dumps(
        {
            "at": at.isoformat(),
            "actor": entry.actor,
            "role": entry.role,
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "area_code": entry.area_code,
            "details": entry.details,
        },
        option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z,
    )
    return hashlib.sha256(prev_hash.encode() + canonical).hexdigest()


async def append(conn: asyncpg.Connection, entries: list[AuditEntry]) -> None:
    """Append entries in the caller's transaction (which must commit for them to count)."""
    if not entries:
        return
    await conn.execute("select pg_advisory_xact_lock($1)", _LOCK)
    prev = await conn.fetchval("select audit_log_tail_hash()") or GENESIS
    at = await conn.fetchval("select date_trunc('milliseconds', clock_timestamp())")
    for entry in entries:
        before, prev = prev, chain_hash(prev, at, entry)
        await conn.execute(
            """insert into audit_log (at, actor, role, action, object_type, object_id,
                                      area_code, details, prev_hash, hash)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
            at,
            entry.actor,
            entry.role,
            entry.action,
            entry.object_type,
            entry.object_id,
            entry.area_code,
            entry.details,
            before,
            prev,
        )


async def verify(conn: asyncpg.Connection) -> int | None:
    """The seq of the first entry whose hash or link does not match, or None when intact."""
    prev = GENESIS
    async with conn.transaction():
        async for row in conn.cursor("select * from audit_log order by seq"):
            entry = AuditEntry(
                row["actor"],
                row["role"],
                row["action"],
                row["object_type"],
                row["object_id"],
                row["area_code"],
                row["details"],
            )
            if row["prev_hash"] != prev or row["hash"] != chain_hash(prev, row["at"], entry):
                return row["seq"]
            prev = row["hash"]
    return None


async def _verify_command(database_url: str) -> int:
    pool = await create_pool(database_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            broken = await verify(conn)
            count = await conn.fetchval("select count(*) from audit_log")
    finally:
        await pool.close()
    if broken is None:
        print(f"audit chain intact: {count} entries")
        return 0
    print(f"audit chain broken at seq {broken}: that entry or the one before it was altered")
    return 1


def main() -> None:
    parser = argparse.ArgumentParser(description="Verify the audit chain")
    parser.add_argument("command", choices=["verify"])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    raise SystemExit(asyncio.run(_verify_command(args.database_url)))


if __name__ == "__main__":
    main()
