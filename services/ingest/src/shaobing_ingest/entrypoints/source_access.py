"""Who may use a source system's endpoints: by role, and a feed only for the sources it names."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException

from shaobing_contracts.provenance import SourceSystem
from shaobing_runtime.access import Principal, Role
from shaobing_runtime.http_auth import require


def source_access(*roles: Role) -> Any:
    """A dependency admitting the given roles, a feed only to a source its token names (403
    naming the source otherwise)."""

    admitted = require(*roles)

    def check(source: SourceSystem, principal: Principal = admitted) -> Principal:
        if not principal.may_use_source(source):
            named = ", ".join(principal.sources) or "no source system"
            raise HTTPException(403, f"source: this feed's token names {named}, not {source}")
        return principal

    return Depends(check)


Feed = Annotated[Principal, source_access(Role.FEED, Role.ADMIN)]
