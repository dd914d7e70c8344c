"""A year of upstream changes for a synthetic city, in time order, in all four source tables.

First a snapshot (op "r"): every resident's hukou.population row (ACTIVE) and the
social_security.person_status row of everyone of working or pension age. Then, through the year,
per person and year: deaths (~0.7 %, the old far more; ~10 % recorded 1-3 months late) with the
hukou status DECEASED a few days after the registration and a pension TERMINATED; moves within
the district (~2 %) and out of it (~1 %); marriage registrations (~0.6 %: marriages, remarriages,
divorces); pensions starting at 60 (men) / 55 (women); employment starting and ending (~6 %).

The plan holds compact tuples (about one per ten people); rows are built only when yielded.
"""

from __future__ import annotations

import heapq
import itertools
import random
import zlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from shaobing_dev.city import City, Resident, _death, _mortality, age_on

HUKOU, MARRIAGE = "hukou.population", "marriage.registrations"
DEATH, SOCIAL = "death.registrations", "social_security.person_status"
RATES = {"death": 0.007, "move_within": 0.02, "move_out": 0.01, "marriage": 0.006, "job": 0.06}
BENEFICIARY_SHARE = 0.1  # of the movers
_YEAR_SECONDS = 365 * 86_400
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ZERO = Decimal("0.00")
# Plan kinds, in the order same-second events are applied.
_DEATH, _DECEASED, _MOVE, _MOVE_OUT, _WED, _PENSION, _JOB, _TERMINATE = range(8)


class TableRow(NamedTuple):
    table: str  # "schema.table"
    op: str  # "r" (snapshot), "c", "u", "d"
    row: dict[str, Any]  # Python values: str, date, naive datetime, Decimal, None
    recorded_at: datetime  # when the change was committed upstream (wall-clock)


def retirement_age(person: Resident) -> int:
    return 60 if person.gender == "1" else 55


def uscc(number: int, area6: str) -> str:
    """A unified social credit code (GB 32100-2015) with a valid check character."""
    body = f"91{area6}MA{number:07d}"  # 17 characters, all from the alphabet
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return body + _USCC_ALPHABET[-total % 31]


def _mix(person: Resident, salt: int = 0) -> int:
    """A stable pseudo-random number per person (hash() is salted per process)."""
    return zlib.crc32(f"{person.id_number}{salt}".encode())


def _money(low: int, high: int, mix: int) -> Decimal:
    """An amount in [low, high) yuan, with cents."""
    return Decimal(low * 100 + mix % ((high - low) * 100)).scaleb(-2)


def _address(area_code: str, person: Resident, communities: Mapping[str, str]) -> str:
    building, flat = _mix(person, 1) % 60 + 1, _mix(person, 2) % 30 + 1
    return f"{communities.get(area_code, '')}{building}号{flat}01室"


def hukou_row(
    city: City, person: Resident, area_code: str, status: str, at: datetime
) -> dict[str, Any]:
    return {
        "id_number": person.id_number,
        "name": person.name,
        "gender": person.gender,
        "birth_date": person.birth_date,
        "household_no": person.household_no,
        "relation_to_head": person.relation_to_head,
        "area_code": area_code,
        "address": _address(area_code, person, city.communities),
        "status": status,
        "updated_at": at,
    }


def social_row(
    person: Resident, at: datetime, *, pension: bool, employer: str | None, benefit: bool = False
) -> dict[str, Any]:
    mix = _mix(person, 3)
    return {
        "id_number": person.id_number,
        "pension_status": "RECEIVING" if pension else "NONE",
        "pension_monthly_amount": _money(2500, 6500, mix) if pension else _ZERO,
        "employment_status": (
            "UNEMPLOYED" if employer is None else "SELF_EMPLOYED" if employer == "" else "EMPLOYED"
        ),
        "employer_uscc": employer or None,
        "contribution_base": _money(5000, 30000, mix) if employer is not None else _ZERO,
        "unemployment_benefit": _money(1800, 2300, mix) if benefit else _ZERO,
        "updated_at": at,
    }


def _initial_employer(city: City, person: Resident) -> str | None:
    """60 % employed (by one of about one employer per 20 people), 10 % self-employed."""
    roll = _mix(person, 4) % 100
    if roll < 60:
        return uscc(_mix(person, 5) % max(1, len(city.residents) // 20) + 1, city.area6)
    return "" if roll < 70 else None


class _Year:
    """The state of the year being played: who is gone, each changed person's current rows."""

    def __init__(self, city: City, year_start: datetime, seed: int) -> None:
        self.city, self.start, self.rng = city, year_start, random.Random(seed)
        self.day0 = year_start.date()
        self.gone: set[str] = set()
        self.area: dict[str, str] = {}
        self.social: dict[str, dict[str, Any]] = {}
        self.counts = {"death": 0, "marriage": 0, "divorce": 0}
        self.plan: list[tuple[int, int, int, Any, Any]] = []
        self.tiebreak = itertools.count()

    def add(self, kind: int, person: Any, extra: Any = None, at: int | None = None) -> None:
        """Plan a change at second `at` of the year (random in the year when None)."""
        second = self.rng.randrange(8 * 3600, _YEAR_SECONDS - 86_400) if at is None else at
        entry = (min(second, _YEAR_SECONDS - 1), kind, next(self.tiebreak), person, extra)
        heapq.heappush(self.plan, entry)

    def at(self, seconds: int) -> datetime:
        return self.start + timedelta(seconds=seconds)

    def covered(self, person: Resident) -> bool:
        """Of working (16+) or pension age: has a social-security row."""
        return age_on(person.birth_date, self.day0) >= 16

    def retired(self, person: Resident, day: date) -> bool:
        return age_on(person.birth_date, day) >= retirement_age(person)

    def snapshot(self) -> Iterator[TableRow]:
        city, at = self.city, self.start
        for person in city.residents:
            yield TableRow(HUKOU, "r", hukou_row(city, person, person.area_code, "ACTIVE", at), at)
        for person in city.residents:
            if self.covered(person):
                yield TableRow(SOCIAL, "r", self.social_of(person), at)

    def social_of(self, person: Resident) -> dict[str, Any]:
        if person.id_number not in self.social:
            retired = self.retired(person, self.day0)
            employer = None if retired else _initial_employer(self.city, person)
            benefit = employer is None and not retired and _mix(person, 6) % 5 == 0
            return social_row(
                person, self.start, pension=retired, employer=employer, benefit=benefit
            )
        return self.social[person.id_number]


def _pick(rng: random.Random, people: tuple[Resident, ...], k: int, ok: Any) -> list[Resident]:
    """Up to k distinct people for whom ok(person) holds, by rejection sampling."""
    chosen: dict[str, Resident] = {}
    for _ in range(20 * k + 100):
        if len(chosen) >= k or not people:
            break
        person = people[int(rng.random() * len(people))]
        if ok(person):
            chosen.setdefault(person.id_number, person)
    return list(chosen.values())


def _beneficiaries(city: City, enrolments: Iterable[Any]) -> tuple[Resident, ...]:
    rows = (e if isinstance(e, Mapping) else dict(e) for e in enrolments)
    active = {row["beneficiary_id"] for row in rows if row["status"] == "ACTIVE"}
    return tuple(r for r in city.residents if r.id_number in active) if active else ()


def _movers(year: _Year, count: int, beneficiaries: tuple[Resident, ...]) -> list[Resident]:
    """Adults; one in ten from the beneficiaries, so that the move rules have work to do."""
    adult = lambda p: age_on(p.birth_date, year.day0) >= 18  # noqa: E731
    chosen = _pick(year.rng, beneficiaries, round(count * BENEFICIARY_SHARE), adult)
    younger = lambda p: adult(p) and age_on(p.birth_date, year.day0) < 80  # noqa: E731
    return chosen + _pick(year.rng, year.city.residents, count - len(chosen), younger)


def _plan(year: _Year, rates: Mapping[str, float], beneficiaries: tuple[Resident, ...]) -> None:
    rng, people, add = year.rng, year.city.residents, year.add
    n, communities = len(people), list(year.city.communities)
    for person in _movers(year, round(n * rates["move_within"]), beneficiaries):
        others = [c for c in communities if c != person.area_code]
        if others:
            add(_MOVE, person, rng.choice(others))
    for person in _movers(year, round(n * rates["move_out"]), beneficiaries):
        add(_MOVE_OUT, person)
    for person in _pick(rng, people, round(n * rates["job"]), year.covered):
        if not year.retired(person, year.day0 + timedelta(days=365)):
            add(_JOB, person)
    _plan_marriages(year, round(n * rates["marriage"]))
    _plan_pensions(year)
    _plan_deaths(year, round(n * rates["death"]))


def _plan_marriages(year: _Year, count: int) -> None:
    rng, day0, add = year.rng, year.day0, year.add
    couples = [h.members[:2] for h in year.city.households if len(h.members) >= 2]
    couples = [c for c in couples if c[1].relation_to_head == "配偶" and c[0].gender != c[1].gender]
    divorces = min(len(couples), round(count * 0.25))
    for pair in rng.sample(couples, divorces):
        add(_WED, pair, "DIVORCE")
    single = lambda p: 22 <= age_on(p.birth_date, day0) < 45 and p.relation_to_head != "配偶"  # noqa: E731
    men = _pick(rng, year.city.residents, count - divorces, lambda p: p.gender == "1" and single(p))
    women = _pick(rng, year.city.residents, len(men), lambda p: p.gender == "2" and single(p))
    for man, woman in zip(men, women, strict=False):
        add(_WED, (man, woman), "REMARRIAGE" if rng.random() < 0.1 else "MARRIAGE")


def _plan_pensions(year: _Year) -> None:
    """A pension starts in the first working days of the month after the retirement birthday."""
    start, end = year.day0, year.day0 + timedelta(days=365)
    for person in year.city.residents:
        born, age = person.birth_date, retirement_age(person)
        if born.year + age not in (start.year, start.year + 1) or year.retired(person, start):
            continue
        first = date(born.year + age + born.month // 12, born.month % 12 + 1, 1)
        if first + timedelta(days=6) < end:
            day = (first - start).days + year.rng.randint(0, 5)
            year.add(_PENSION, person, at=day * 86_400 + year.rng.randrange(9 * 3600, 17 * 3600))


def _plan_deaths(year: _Year, count: int) -> None:
    rng, when = year.rng, year.start.year
    dying = heapq.nsmallest(
        count, year.city.residents, key=lambda r: rng.expovariate(_mortality(when, r))
    )
    for person in dying:
        year.add(_DEATH, person)


def year_of_changes(
    city: City,
    enrolments: Iterable[Any] = (),
    *,
    year_start: datetime,
    seed: int = 7,
    rates: Mapping[str, float] = RATES,
) -> Iterator[TableRow]:
    """The snapshot, then a year of changes from `year_start`, in time order (a generator).

    One mover in ten is an ACTIVE beneficiary of `enrolments` (dicts or Enrolment models);
    deaths fall by age alone (beneficiaries are old: they die more).
    """
    year = _Year(city, year_start, seed)
    yield from year.snapshot()
    _plan(year, rates, _beneficiaries(city, enrolments))
    while year.plan:
        second, kind, _, person, extra = heapq.heappop(year.plan)
        yield from _apply(year, year.at(second), kind, person, extra)


def _apply(year: _Year, at: datetime, kind: int, person: Any, extra: Any) -> Iterator[TableRow]:
    if kind == _WED:
        yield from _wed(year, at, person, extra)
    elif kind in (_DECEASED, _TERMINATE):
        yield from _after_death(year, at, kind, person)
    elif person.id_number in year.gone:
        return
    elif kind == _DEATH:
        yield _died(year, at, person)
    elif kind in (_MOVE, _MOVE_OUT):
        area = extra if kind == _MOVE else year.area.get(person.id_number, person.area_code)
        year.area[person.id_number] = area
        if kind == _MOVE_OUT:
            year.gone.add(person.id_number)
        status = "ACTIVE" if kind == _MOVE else "MOVED_OUT"
        yield TableRow(HUKOU, "u", hukou_row(year.city, person, area, status, at), at)
    else:
        yield _social_change(year, at, kind, person)


def _died(year: _Year, at: datetime, person: Resident) -> TableRow:
    """The registration now; hukou DECEASED and the pension TERMINATED days later."""
    year.counts["death"] += 1
    year.gone.add(person.id_number)
    record = _death(year.rng, year.counts["death"], person, at)
    later = int((at - year.start).total_seconds()) + year.rng.randint(2, 10) * 86_400
    year.add(_DECEASED, person, at=later)
    if year.covered(person):
        year.add(_TERMINATE, person, at=later + 3600)
    row = {"certificate_no": record.certificate_no, "id_number": person.id_number}
    row |= {"date_of_death": record.date_of_death, "source": str(record.source)}
    return TableRow(DEATH, "c", row | {"recorded_at": at}, at)


def _after_death(year: _Year, at: datetime, kind: int, person: Resident) -> Iterator[TableRow]:
    if kind == _DECEASED:
        area = year.area.get(person.id_number, person.area_code)
        yield TableRow(HUKOU, "u", hukou_row(year.city, person, area, "DECEASED", at), at)
        return
    row = dict(year.social_of(person))
    if row["pension_status"] == "RECEIVING":
        row |= {"pension_status": "TERMINATED", "updated_at": at}
        year.social[person.id_number] = row
        yield TableRow(SOCIAL, "u", row, at)


def _social_change(year: _Year, at: datetime, kind: int, person: Resident) -> TableRow:
    row = dict(year.social_of(person))
    if kind == _PENSION:
        row |= social_row(person, at, pension=True, employer=None)
    elif row["employment_status"] == "UNEMPLOYED":
        employer = uscc(
            year.rng.randint(1, max(1, len(year.city.residents) // 20)), year.city.area6
        )
        row = social_row(person, at, pension=False, employer=employer)
    else:
        row = social_row(person, at, pension=False, employer=None, benefit=year.rng.random() < 0.4)
    year.social[person.id_number] = row
    return TableRow(SOCIAL, "u", row, at)


def _wed(
    year: _Year, at: datetime, pair: tuple[Resident, Resident], kind: str
) -> Iterator[TableRow]:
    if any(p.id_number in year.gone for p in pair):
        return
    key = "divorce" if kind == "DIVORCE" else "marriage"
    year.counts[key] += 1
    prefix = "L" if kind == "DIVORCE" else "J"
    registration_no = f"{prefix}{year.city.area6}-{at.year}-{year.counts[key]:06d}"
    office = year.city.area6 + "000000"
    row = {"registration_no": registration_no, "kind": kind, "party_a_id": pair[0].id_number}
    row |= {"party_b_id": pair[1].id_number, "registered_on": at.date(), "office_code": office}
    yield TableRow(MARRIAGE, "c", row, at)
