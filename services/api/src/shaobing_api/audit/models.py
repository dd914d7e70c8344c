"""What the audit routes return."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from shaobing_runtime.audit_chain import Verdict


class AuditEntryPublic(BaseModel):
    seq: int
    at: datetime
    actor: str
    role: str
    action: str
    object_type: str
    object_id: str
    area_code: str | None
    details: dict[str, Any]
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntryPublic]
    next_cursor: str | None


class Verification(BaseModel):
    intact: bool
    entries: int
    broken_at: int | None  # the first entry that does not match, or the anchored one now gone
    reason: str | None
    anchored_seq: int | None  # the latest anchor outside the database (null: none)
    anchored_at: datetime | None

    @classmethod
    def of(cls, verdict: Verdict) -> Verification:
        broken, anchor = verdict.broken, verdict.anchor
        return cls(
            intact=verdict.intact,
            entries=verdict.entries,
            broken_at=broken.seq if broken else None,
            reason=broken.reason if broken else None,
            anchored_seq=anchor.seq if anchor else None,
            anchored_at=anchor.at if anchor else None,
        )
