"""Who may see what: roles, area scopes and masking of personal data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shaobing_contracts.area import within


class Role(StrEnum):
    CASEWORKER = "caseworker"
    SUPERVISOR = "supervisor"
    PAYMENT_OFFICER = "payment_officer"
    AUDITOR = "auditor"
    OPS = "ops"
    ADMIN = "admin"
    FEED = "feed"  # a source system posting changes (e.g. Debezium Server)


# Roles whose work needs the full ID number; everyone else sees it masked.
FULL_ID_ROLES = frozenset({Role.SUPERVISOR, Role.PAYMENT_OFFICER, Role.AUDITOR, Role.ADMIN})


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    areas: tuple[str, ...]
    sources: tuple[str, ...] = ()  # the source systems a feed may post to; none: nowhere

    def covers(self, area_code: str) -> bool:
        """True when the area lies inside one of the caller's areas."""
        return within(area_code, list(self.areas))

    @property
    def sees_full_ids(self) -> bool:
        return self.role in FULL_ID_ROLES

    def may_use_source(self, source: str) -> bool:
        """A feed only the source systems its token names (none: nowhere); other roles are
        admitted or refused by role alone."""
        return self.role is not Role.FEED or source in self.sources
