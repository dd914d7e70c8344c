"""Enrolments into PostgreSQL, each change also into the event log for the matcher and into the
audit trail (before and after, the account masked), in the writer's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg

from shaobing_contracts.codec import encode
from shaobing_contracts.enrolment import Enrolment, EnrolmentFacts, EnrolmentRecorded
from shaobing_contracts.topics import Topic
from shaobing_runtime import audit
from shaobing_runtime.access import Principal
from shaobing_runtime.event_log import OutgoingEvent, append

from ..domain.enrolment_changes import AUDITED, audit_details, mask_account

_ENROLMENT_EVENTS = uuid.UUID("0b8d4a8e-51a4-4c55-a7f4-3d8f3f5f6c21")
# Enrolment writes exclude the payout runs' item writes (which share it): a slice reads every
# enrolment committed before it, and an enrolment written after it finds the item to flag.
ITEMS_LOCK = 0x5041_594F_5554  # "PAYOUT"
_ACCOUNT_CHANGED = "e.payout_account is distinct from excluded.payout_account"

_UPSERT = """
insert into enrolments as e (enrolment_id, program, beneficiary_id, household_members,
                             monthly_amount, area_code, status, start_month, payout_account)
select enrolment_id, program, beneficiary_id, string_to_array(members, ','), monthly_amount,
       area_code, status, start_month, payout_account
from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::text[],
            $7::text[], $8::text[], $9::text[])
    as t(enrolment_id, program, beneficiary_id, members, monthly_amount, area_code, status,
         start_month, payout_account)
on conflict (enrolment_id) do update set
    program = excluded.program, beneficiary_id = excluded.beneficiary_id,
    household_members = excluded.household_members, monthly_amount = excluded.monthly_amount,
    area_code = excluded.area_code, status = excluded.status, start_month = excluded.start_month,
    payout_account = excluded.payout_account, version = e.version + 1, updated_at = now(),
    account_changed_by = case when {changed} then $10 else e.account_changed_by end,
    account_changed_at = case when {changed} then now() else e.account_changed_at end,
    account_confirmed_by = case when {changed} then null else e.account_confirmed_by end,
    account_confirmed_at = case when {changed} then null else e.account_confirmed_at end
where (e.program, e.beneficiary_id, e.household_members, e.monthly_amount, e.area_code,
       e.status, e.start_month, e.payout_account)
    is distinct from
      (excluded.program, excluded.beneficiary_id, excluded.household_members,
       excluded.monthly_amount, excluded.area_code, excluded.status, excluded.start_month,
       excluded.payout_account)
returning new.enrolment_id, new.version, old.version as old_version, {returned}
""".format(
    changed=_ACCOUNT_CHANGED,
    returned=", ".join(f"new.{f}, old.{f} as old_{f}" for f in AUDITED),
)


async def record_enrolments(
    conn: asyncpg.Connection,
    enrolments: Sequence[Enrolment],
    writer: Principal,
    correlation_id: str | None,
) -> dict[str, int]:
    """Upsert; returns enrolment_id → new version for those created or changed.

    A changed payout account awaits another person's confirmation (its payments are held).
    """
    await lock_against_runs(conn)
    rows = await conn.fetch(_UPSERT, *_columns(enrolments), writer.subject)
    changed = {r["enrolment_id"]: r["version"] for r in rows}
    now = datetime.now(UTC)
    by_id = {e.enrolment_id: e for e in enrolments}
    await append(
        conn, [_event(by_id[eid], version, now, correlation_id) for eid, version in changed.items()]
    )
    await audit.append(conn, [_audited(writer, row) for row in rows])
    return changed


async def lock_against_runs(conn: asyncpg.Connection) -> None:
    """No payout run writes items until this transaction ends (ITEMS_LOCK). Take it before any
    row lock of enrolments: a run's slice waits for it while holding none."""
    await conn.execute("select pg_advisory_xact_lock($1)", ITEMS_LOCK)


def _audited(writer: Principal, row: asyncpg.Record) -> audit.AuditEntry:
    after = {f: row[f] for f in ("version", *AUDITED)}
    before = None if row["old_version"] is None else {f: row[f"old_{f}"] for f in AUDITED}
    action = "enrolment.create" if before is None else "enrolment.update"
    details = audit_details(before, after)
    return audit.entry_of(
        writer, action, "enrolment", row["enrolment_id"], row["area_code"], **details
    )


async def account_change(conn: asyncpg.Connection, enrolment_id: str) -> asyncpg.Record | None:
    """The enrolment's version and any change of its payout account awaiting confirmation."""
    return await conn.fetchrow(
        """select version, area_code, payout_account, account_changed_at,
                  case when account_confirmed_by is null then account_changed_by end
                      as unconfirmed_by
           from enrolments where enrolment_id = $1 for update""",
        enrolment_id,
    )


async def confirm_account(conn: asyncpg.Connection, enrolment_id: str, by: str) -> dict:
    """The new payout account confirmed: the next run pays it."""
    row = await conn.fetchrow(
        """update enrolments set account_confirmed_by = $2, account_confirmed_at = now()
           where enrolment_id = $1
           returning enrolment_id, version, payout_account, account_confirmed_by as confirmed_by,
                     account_confirmed_at as confirmed_at""",
        enrolment_id,
        by,
    )
    return {**dict(row), "payout_account": mask_account(row["payout_account"])}


async def held_elsewhere(conn: asyncpg.Connection, enrolment_ids: list[str]) -> set[str]:
    """Those of the ids stored outside the caller's areas (a scoped connection cannot see them).

    Locked until the upsert commits: the area cannot change between check and write.
    """
    rows = await conn.fetch("select enrolments_elsewhere($1::text[]) as id", enrolment_ids)
    return {r["id"] for r in rows}


def _columns(enrolments: Sequence[Enrolment]) -> list[list]:
    return [
        [e.enrolment_id for e in enrolments],
        [e.program.value for e in enrolments],
        [e.beneficiary_id for e in enrolments],
        [",".join(e.household_members) for e in enrolments],
        [e.monthly_amount for e in enrolments],
        [e.area_code for e in enrolments],
        [e.status.value for e in enrolments],
        [e.start_month for e in enrolments],
        [e.payout_account for e in enrolments],
    ]


def _event(
    enrolment: Enrolment, version: int, now: datetime, correlation_id: str | None
) -> OutgoingEvent:
    event_id = uuid.uuid5(_ENROLMENT_EVENTS, f"{enrolment.enrolment_id}|{version}")
    facts = EnrolmentFacts.model_validate(enrolment.model_dump(exclude={"payout_account"}))
    recorded = EnrolmentRecorded(event_id=event_id, recorded_at=now, enrolment=facts)
    headers = {"correlation_id": correlation_id} if correlation_id else {}
    return OutgoingEvent(
        event_id=event_id,
        topic=Topic.ENROLMENTS.value,
        key=enrolment.enrolment_id,
        value=encode(recorded),
        recorded_at=now,
        headers=headers,
    )
