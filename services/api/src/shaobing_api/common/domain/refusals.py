"""How the domain says no: a refusal names why and of which kind; the edge turns the kind into
an HTTP status (`common/http_refusals.py`)."""

from __future__ import annotations

from enum import StrEnum


class Refusal(StrEnum):
    CONFLICT = "conflict"  # the record's state does not allow it (409)
    FORBIDDEN = "forbidden"  # the caller's role, or who they are, does not (403)
    INVALID = "invalid"  # the request lacks what the step needs (422)
    NOT_FOUND = "not_found"  # no such record in the caller's areas (404)


class Refused(Exception):
    def __init__(self, reason: str, kind: Refusal = Refusal.CONFLICT) -> None:
        super().__init__(reason)
        self.reason, self.kind = reason, kind
