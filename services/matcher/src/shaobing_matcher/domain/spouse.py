"""A person's death told to their spouse (co-partitioned by the spouse's ID number), with its
evidence, so that the spouse's own state knows whether the other is alive: the care visit after
a death is decided there, where the widow(er)'s own death is known in order."""

from __future__ import annotations

from datetime import date, datetime

from shaobing_contracts.death import SpouseDeathNoted

from .person import DeathFact, PersonState, cited


def spouse_notices(
    before: PersonState | None, after: PersonState, now: datetime
) -> list[SpouseDeathNoted]:
    """What to tell the spouse after a change: the death when it or the spouse became known, or
    that no death stands any more after a retraction; nothing for the living and the unmarried."""
    spouse, death = after.spouse(), after.death()
    was = (before.spouse(), _died_on(before)) if before else (None, None)
    if spouse is None or (death is None and was[1] is None) or (spouse, _died_on(after)) == was:
        return []
    notice = SpouseDeathNoted(
        id_number=spouse,
        spouse_id=after.id_number,
        date_of_death=death.date_of_death if death else None,
        certificate_no=death.certificate_no if death else None,
        noted_at=now,
        evidence=[cited(d.evidence) for d in _in_order(after)] if death else [],
    )
    return [notice]


def _in_order(state: PersonState) -> list[DeathFact]:
    return sorted(state.deaths.values(), key=lambda d: d.date_of_death)


def _died_on(state: PersonState) -> date | None:
    death = state.death()
    return death.date_of_death if death else None
