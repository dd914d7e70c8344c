"""POST /v1/enrolments: one enrolment or a list; bad items are named, the rest go through. A
changed payout account is confirmed by a second person
(POST /v1/enrolments/{id}/account-confirmation)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from asyncpg import Connection
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from shaobing_contracts.enrolment import Enrolment
from shaobing_runtime import audit
from shaobing_runtime.access import Principal
from shaobing_runtime.database import scoped
from shaobing_runtime.http_auth import require
from shaobing_runtime.logging import correlation_id
from shaobing_runtime.problems import field_errors, problem

from ..common.domain.refusals import Refusal, Refused
from ..common.domain.roles import WRITE_ENROLMENT_ROLES
from .adapters.enrolment_store import (
    account_change,
    confirm_account,
    held_elsewhere,
    lock_against_runs,
    record_enrolments,
)
from .domain.enrolment_changes import (
    CONFIRM_ACCOUNT_ROLES,
    AccountChange,
    check_account_confirmation,
)
from .models import AccountConfirmation, AccountConfirmed, EnrolmentBatchResult, EnrolmentResult

router = APIRouter(prefix="/v1/enrolments", tags=["enrolments"])
Writer = Annotated[Principal, require(*WRITE_ENROLMENT_ROLES)]
Confirmer = Annotated[Principal, require(*CONFIRM_ACCOUNT_ROLES)]
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/Enrolment"},
                        {"type": "array", "items": {"$ref": "#/components/schemas/Enrolment"}},
                    ]
                }
            }
        },
    }
}


@router.post("", response_model=EnrolmentBatchResult, openapi_extra=_BODY)
async def post_enrolments(request: Request, principal: Writer) -> Any:
    """Create or change enrolments in the caller's areas; unchanged re-posts are no-ops."""
    body = await _json_body(request)
    items = body if isinstance(body, list) else [body]
    if len(items) > request.app.state.settings.max_batch:
        raise HTTPException(413, f"at most {request.app.state.settings.max_batch} per request")
    results, valid = _validate(items, principal)
    if not isinstance(body, list) and results[0].status == "rejected":
        errors = results[0].errors
        return problem(
            422,
            "Invalid enrolment",
            "invalid field(s): " + ", ".join(e["field"] for e in errors),
            errors=errors,
        )
    async with scoped(request.app.state.pool, principal) as conn:
        await lock_against_runs(conn)  # before _reject_foreign locks rows of other areas
        valid = await _reject_foreign(conn, valid, results)
        changed = await _store(conn, [e for _, e in valid], principal)
    request.app.state.relay.wake()
    for index, enrolment in valid:
        version = changed.get(enrolment.enrolment_id)
        status = "unchanged" if version is None else "created" if version == 1 else "updated"
        results[index] = EnrolmentResult(
            index=index, enrolment_id=enrolment.enrolment_id, status=status, version=version
        )
    return _summary(results)


async def _json_body(request: Request) -> Any:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise HTTPException(400, f"body: not JSON ({exc})") from exc
    if not isinstance(body, dict | list):
        raise HTTPException(422, "body: must be an enrolment object or a list of them")
    return body


def _validate(items: list, principal: Principal) -> tuple[list[EnrolmentResult], list]:
    results: list[EnrolmentResult] = []
    valid: list[tuple[int, Enrolment]] = []
    for index, item in enumerate(items):
        eid = item.get("enrolment_id") if isinstance(item, dict) else None
        eid = eid if isinstance(eid, str) else None
        try:
            enrolment = Enrolment.model_validate(item)
        except ValidationError as exc:
            results.append(
                EnrolmentResult(
                    index=index,
                    enrolment_id=eid,
                    status="rejected",
                    errors=field_errors(exc.errors()),
                )
            )
            continue
        if not principal.covers(enrolment.area_code):
            results.append(
                EnrolmentResult(
                    index=index,
                    enrolment_id=eid,
                    status="rejected",
                    errors=[{"field": "area_code", "reason": "outside your areas"}],
                )
            )
            continue
        results.append(EnrolmentResult(index=index, enrolment_id=eid, status="pending"))
        valid.append((index, enrolment))
    return results, valid


async def _reject_foreign(conn: Connection, valid: list, results: list[EnrolmentResult]) -> list:
    """An existing enrolment of another area cannot be overwritten from here."""
    elsewhere = await held_elsewhere(conn, [e.enrolment_id for _, e in valid])
    kept = []
    for index, enrolment in valid:
        if enrolment.enrolment_id in elsewhere:
            results[index] = EnrolmentResult(
                index=index,
                enrolment_id=enrolment.enrolment_id,
                status="rejected",
                errors=[{"field": "enrolment_id", "reason": "exists outside your areas"}],
            )
        else:
            kept.append((index, enrolment))
    return kept


async def _store(
    conn: Connection, enrolments: list[Enrolment], writer: Principal
) -> dict[str, int]:
    unique = list({e.enrolment_id: e for e in enrolments}.values())
    if not unique:
        return {}
    return await record_enrolments(conn, unique, writer, correlation_id.get())


def _summary(results: list[EnrolmentResult]) -> JSONResponse | EnrolmentBatchResult:
    count = {
        s: sum(r.status == s for r in results)
        for s in ("created", "updated", "unchanged", "rejected")
    }
    return EnrolmentBatchResult(**count, items=results)


@router.post("/{enrolment_id}/account-confirmation", response_model=AccountConfirmed)
async def confirm_payout_account(
    request: Request, principal: Confirmer, enrolment_id: str, body: AccountConfirmation
) -> AccountConfirmed:
    """A supervisor other than who changed it confirms a new payout account; until then every
    payout run holds the enrolment (ACCOUNT_CHANGE_UNCONFIRMED). Audited."""
    async with scoped(request.app.state.pool, principal) as conn:
        row = await account_change(conn, enrolment_id)
        if row is None:
            raise Refused("enrolment_id: not found", Refusal.NOT_FOUND)
        change = AccountChange(row["version"], row["unconfirmed_by"])
        check_account_confirmation(change, body.version, principal)
        confirmed = await confirm_account(conn, enrolment_id, principal.subject)
        entry = audit.entry_of(
            principal,
            "enrolment.account_confirmed",
            "enrolment",
            enrolment_id,
            row["area_code"],
            version=row["version"],
            payout_account=confirmed["payout_account"],
            changed_by=row["unconfirmed_by"],
            changed_at=row["account_changed_at"],
        )
        await audit.append(conn, [entry])
    return AccountConfirmed.model_validate(confirmed)
