"""A deterministic synthetic district: streets, communities, households, enrolments and deaths."""

from __future__ import annotations

import gc
import heapq
import itertools
import math
import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from shaobing_contracts.death import DeathSource
from shaobing_contracts.enrolment import Enrolment, EnrolmentStatus, Program
from shaobing_contracts.id_number import check_character

AS_OF = date(2026, 1, 1)  # the day the population is counted; never today, so output is stable
GAOLING_TAKE_UP = 0.9  # share of residents aged 80+ already enrolled; the rest are "to be found"
LATE_SHARE = 0.1  # share of deaths recorded 1-3 months after the death

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾沈顾陆钱蒋"
_GIVEN = {
    True: "伟强军平刚明辉建国华志勇斌杰涛超波宁春德福海",
    False: "芳娟敏静丽艳秀英玲霞燕红梅琴兰凤娜婷雪慧萍",
}
_GIVEN_2 = {male: chars + "文佳晓子宇欣俊嘉一安" for male, chars in _GIVEN.items()}
# Two characters each: street and estate names.
_STREETS = "新华人民解放建设和平长江黄河中山延安胜利光明团结"
_ESTATES = "一村二村三村新村花园东苑西苑南苑北苑"
_OTHER_AREAS = ["320102", "330106", "340104", "410105", "510107", "420106", "370102", "350203"]
# Sequence numbers (positions 15-17) per sex: odd for men, even for women; 000 is never issued.
_SEQUENCES = {male: [f"{n:03d}" for n in range(2 - male, 1000, 2)] for male in (True, False)}
# Survivors of a Gompertz life table from 60 on: many 60-95 year olds, a few centenarians.
_ELDER_AGES = list(range(60, 106))
_ELDER_CUM = list(
    itertools.accumulate(math.exp(-0.08 * math.expm1(a / 10 - 6)) for a in _ELDER_AGES)
)
_MORTALITY = [2 ** ((age - 80) / 8) for age in range(130)]  # mortality doubles every 8 years
_PREFIXES = {"DIBAO": "DB", "TEKUN": "TK", "GAOLING": "GL", "CANJI_SHENGHUO": "CJ"}
_SOURCES = (list(DeathSource), [60, 85, 95, 100], [0, 40, 80, 100])  # cum weights: on time, late


@dataclass(frozen=True, slots=True)
class Resident:
    """One registered resident (a row of hukou.population)."""

    id_number: str
    name: str
    gender: str  # "1" male, "2" female
    birth_date: date
    household_no: str
    relation_to_head: str
    area_code: str  # the community (12 digits) the household is registered in


@dataclass(frozen=True, slots=True)
class Household:
    household_no: str
    area_code: str
    members: tuple[Resident, ...]  # the head (户主) first


@dataclass(frozen=True, slots=True)
class City:
    area6: str
    as_of: date
    streets: dict[str, str]  # 9-digit street code → name
    communities: dict[str, str]  # 12-digit community code → name
    households: tuple[Household, ...]
    residents: tuple[Resident, ...]


@dataclass(frozen=True, slots=True)
class DeathRecord:
    """A row of death.registrations."""

    certificate_no: str
    id_number: str
    date_of_death: date
    source: DeathSource
    recorded_at: datetime  # naive wall-clock time of the registry


def age_on(born: date, day: date) -> int:
    """Completed years of age on a day."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# --- households: templates give (age, male, relation to head, surname) per member ---------------
Spec = tuple[int, bool, str, str]


def _pick(rng: random.Random, items: str | list[Any]) -> Any:
    return items[int(rng.random() * len(items))]


def _elder_age(rng: random.Random) -> int:
    return rng.choices(_ELDER_AGES, cum_weights=_ELDER_CUM)[0]


def _alone(rng: random.Random, age: int, male_share: float) -> list[Spec]:
    return [(age, rng.random() < male_share, "户主", _pick(rng, _SURNAMES))]


def _couple(rng: random.Random, age: int) -> list[Spec]:
    male, partner = rng.random() < 0.75, max(18, min(104, age + rng.randint(-4, 4)))
    return [
        (age, male, "户主", _pick(rng, _SURNAMES)),
        (partner, not male, "配偶", _pick(rng, _SURNAMES)),
    ]


def _child(rng: random.Random, parent: Spec, minimum: int, grand: bool = False) -> list[Spec]:
    age, male = parent[0] - rng.randint(22, 36), rng.random() < 0.51
    surname = parent[3] if parent[1] else _pick(rng, _SURNAMES)  # the father's surname if known
    relation = ("孙子" if male else "孙女") if grand else ("子" if male else "女")
    return [(age, male, relation, surname)] if age >= minimum else []


def _family(rng: random.Random) -> list[Spec]:
    specs = _couple(rng, rng.randint(26, 56))
    father = specs[0] if specs[0][1] else specs[1]
    for _ in range(1 + (rng.random() < 0.25)):
        specs += _child(rng, (min(specs[0][0], specs[1][0]), True, "", father[3]), 0)
    return specs


def _three_generations(rng: random.Random) -> list[Spec]:
    specs = _family(rng)[:3]
    age, _, _, surname = specs[0]
    for male in rng.sample((True, False), rng.randint(1, 2)):
        parent_surname = surname if male else _pick(rng, _SURNAMES)
        specs.append(
            (min(104, age + rng.randint(22, 35)), male, "父亲" if male else "母亲", parent_surname)
        )
    return specs


def _elder_with_child(rng: random.Random) -> list[Spec]:
    specs = _alone(rng, _elder_age(rng), 0.4)
    specs += _child(rng, specs[0], 18)
    if len(specs) == 2 and rng.random() < 0.4:
        specs += _child(rng, specs[1], 0, grand=True)
    return specs


_TEMPLATES: list[Callable[[random.Random], list[Spec]]] = [
    lambda rng: _alone(rng, _elder_age(rng), 0.4),  # mostly widows
    lambda rng: _couple(rng, min(97, _elder_age(rng))),
    lambda rng: _alone(rng, rng.randint(18, 59), 0.55),
    lambda rng: _couple(rng, rng.randint(22, 59)),
    _family,
    _three_generations,
    _elder_with_child,
]
_TEMPLATE_CUM = list(itertools.accumulate([15, 18, 9, 8, 30, 12, 8]))


class _Population:
    """A city being built: the random stream, the ID sequences issued per birth day, caches."""

    def __init__(self, rng: random.Random, area6: str, as_of: date) -> None:
        self.rng, self.area6, self.as_of = rng, area6, as_of.toordinal()
        self.issued: dict[tuple[str, int, bool], int] = {}
        self.prefixes: dict[tuple[str, int], tuple[str, str, date]] = {}
        self.checks: dict[tuple[str, str], str] = {}
        self.residents: list[Resident] = []

    def household(self, number: int, area_code: str, room: int) -> Household:
        specs = self.rng.choices(_TEMPLATES, cum_weights=_TEMPLATE_CUM)[0](self.rng)[:room]
        household_no = f"{self.area6}{number:08d}"
        members = tuple(self.person(spec, household_no, area_code) for spec in specs)
        return Household(household_no, area_code, members)

    def person(self, spec: Spec, household_no: str, area_code: str) -> Resident:
        age, male, relation, surname = spec
        born, id_number = self.id_number(age, male)
        given = _pick(self.rng, _GIVEN[male])
        if self.rng.random() > (0.45 if age >= 60 else 0.2):
            given += _pick(self.rng, _GIVEN_2[male])
        gender = "1" if male else "2"
        resident = Resident(
            id_number, surname + given, gender, born, household_no, relation, area_code
        )
        self.residents.append(resident)
        return resident

    def id_number(self, age: int, male: bool) -> tuple[date, str]:
        rng = self.rng
        local = rng.random() < (0.95 if age < 18 else 0.82)
        area6 = self.area6 if local else _pick(rng, _OTHER_AREAS)
        ordinal = self.as_of - 1 - int((age + rng.random()) * 365.2425)
        sequences, taken = _SEQUENCES[male], self.issued.get((area6, ordinal, male), 0)
        while taken >= len(sequences):  # all 500 sequences of that day are gone: a day earlier
            ordinal -= 1
            taken = self.issued.get((area6, ordinal, male), 0)
        self.issued[(area6, ordinal, male)] = taken + 1
        sequence = sequences[(ordinal * 7919 + taken) % len(sequences)]
        prefix, prefix_class, born = self.prefix(area6, ordinal)
        return born, prefix + sequence + self.check(prefix, prefix_class, sequence)

    def prefix(self, area6: str, ordinal: int) -> tuple[str, str, date]:
        if (area6, ordinal) not in self.prefixes:
            born = date.fromordinal(ordinal)
            prefix = f"{area6}{born:%Y%m%d}"
            self.prefixes[(area6, ordinal)] = (prefix, check_character(prefix + "000"), born)
        return self.prefixes[(area6, ordinal)]

    def check(self, prefix: str, prefix_class: str, sequence: str) -> str:
        # The check character depends only on the first 14 digits' weighted sum mod 11 and the
        # sequence; check_character(prefix + "000") names that residue: one call per pair suffices.
        key = (prefix_class, sequence)
        if key not in self.checks:
            self.checks[key] = check_character(prefix + sequence)
        return self.checks[key]


def _areas(area6: str, people: int) -> tuple[dict[str, str], dict[str, str]]:
    count, per_street = min(12, 4 + people // 250_000), min(9, 3 + people // 200_000)
    streets = {
        f"{area6}{s:03d}": f"{_STREETS[2 * s - 2 : 2 * s]}路街道" for s in range(1, count + 1)
    }
    communities = {
        f"{code}{c:03d}": f"{name[:2]}{_ESTATES[2 * c - 2 : 2 * c]}社区"
        for code, name in streets.items()
        for c in range(1, per_street + 1)
    }
    return streets, communities


@contextmanager
def _without_gc() -> Iterator[None]:
    # Millions of acyclic objects: the cyclic collector would only rescan them, again and again.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_without_gc()
def generate_city(
    people: int, *, seed: int = 7, city_area: str = "310110", as_of: date = AS_OF
) -> City:
    """A consistent population of `people` residents of one county-level district."""
    if people < 0 or len(city_area) != 6 or not city_area.isdigit():
        raise ValueError("people must be >= 0 and city_area a 6-digit division code")
    rng, (streets, communities) = random.Random(seed), _areas(city_area, people)
    population, households, codes = _Population(rng, city_area, as_of), [], list(communities)
    while len(population.residents) < people:
        room = people - len(population.residents)
        households.append(population.household(len(households) + 1, _pick(rng, codes), room))
    return City(
        city_area, as_of, streets, communities, tuple(households), tuple(population.residents)
    )


# --- enrolments ---------------------------------------------------------------------------------
def _luhn(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        doubled = int(ch) * (2 - i % 2)
        total += doubled - 9 if doubled > 9 else doubled
    return str(-total % 10)


class _Enroller:
    """Issues enrolments household by household, as dicts in the API shape."""

    def __init__(self, rng: random.Random, city: City) -> None:
        self.rng, self.city, self.dicts = rng, city, []
        self.numbers = dict.fromkeys(_PREFIXES, 0)
        self.month = city.as_of.year * 12 + city.as_of.month - 1  # months since year 0

    def household(self, household: Household, share: float) -> None:
        rng, members = self.rng, household.members
        ages = [age_on(m.birth_date, self.city.as_of) for m in members]
        if rng.random() < share:
            self.add(Program.DIBAO, members, sum(rng.randint(1000_00, 1600_00) for _ in members))
            for member in members[1:]:
                if rng.random() < 0.12:  # a disabled member of a DIBAO household
                    cents = rng.randrange(150_00, 400_01, 50_00)
                    self.add(Program.CANJI_SHENGHUO, (member,), cents)
        elif len(members) == 1 and ages[0] >= 60 and rng.random() < share * 1.5:
            self.add(Program.TEKUN, members, rng.randint(1800_00, 2100_00))
        for member, age in zip(members, ages, strict=True):
            if age >= 80 and rng.random() < GAOLING_TAKE_UP:
                self.gaoling(member, age)

    def gaoling(self, member: Resident, age: int) -> None:
        cents = 500_00 if age >= 100 else 300_00 if age >= 90 else 100_00
        month_after_80th = (member.birth_date.year + 80) * 12 + member.birth_date.month
        self.add(Program.GAOLING, (member,), cents, earliest=min(month_after_80th, self.month))

    def add(
        self, program: Program, members: tuple[Resident, ...], cents: int, earliest: int = 0
    ) -> None:
        rng, number = self.rng, self.numbers[program] + 1
        self.numbers[program] = number
        month, roll = max(earliest, self.month - rng.randint(12, 60)), rng.random()
        self.dicts.append(
            {
                "enrolment_id": f"{_PREFIXES[program]}-{self.city.area6}-{number:06d}",
                "program": program.value,
                "beneficiary_id": members[0].id_number,
                "household_members": [m.id_number for m in members],
                "monthly_amount": f"{cents // 100}.{cents % 100:02d}",
                "area_code": members[0].area_code,
                "status": "ACTIVE" if roll < 0.94 else "SUSPENDED" if roll < 0.97 else "TERMINATED",
                "start_month": f"{month // 12:04d}-{month % 12 + 1:02d}",
                "payout_account": self.account(),
            }
        )

    def account(self) -> str:
        rng = self.rng
        digits = rng.randrange(10**10, 10**11) * 1000 + rng.randrange(1000)
        body = (
            _pick(rng, ["6222", "6217", "6228", "6214", "6230"])
            + str(digits)[: rng.randint(11, 14)]
        )
        return body + _luhn(body)  # 16-19 digits ending in a Luhn digit, like a real bank card


@_without_gc()
def enrolment_dicts_for(city: City, *, share: float = 0.08, seed: int = 7) -> list[dict[str, Any]]:
    """Enrolments as API dicts: DIBAO (`share` of households), TEKUN, CANJI_SHENGHUO, GAOLING."""
    enroller = _Enroller(random.Random(seed), city)
    for household in city.households:
        enroller.household(household, share)
    return enroller.dicts


def enrolments_for(city: City, *, share: float = 0.08, seed: int = 7) -> list[Enrolment]:
    """The same enrolments as `enrolment_dicts_for`, validated as contract models."""
    return [Enrolment.model_validate(d) for d in enrolment_dicts_for(city, share=share, seed=seed)]


# --- deaths -------------------------------------------------------------------------------------
def _active_beneficiaries(enrolments: Iterable[Enrolment | Mapping[str, Any]]) -> set[str]:
    rows = (e if isinstance(e, Mapping) else dict(e) for e in enrolments)
    return {row["beneficiary_id"] for row in rows if row["status"] == EnrolmentStatus.ACTIVE}


def _mortality(year: int, person: Resident) -> float:
    return _MORTALITY[min(len(_MORTALITY) - 1, year - person.birth_date.year)]


def _pick_by_age(rng: random.Random, people: list[Resident], k: int, year: int) -> list[Resident]:
    if k > len(people):
        raise ValueError(f"{k} deaths wanted but only {len(people)} candidates")
    # Weighted sampling without replacement: the k smallest Exp(weight) keys (Efraimidis-Spirakis).
    return heapq.nsmallest(k, people, key=lambda r: rng.expovariate(_mortality(year, r)))


def _death(rng: random.Random, number: int, person: Resident, recorded_at: datetime) -> DeathRecord:
    late = rng.random() < LATE_SHARE
    days = rng.randint(30, 92) if late else min(14, int(rng.expovariate(0.7)))
    died = max(person.birth_date, recorded_at.date() - timedelta(days=days))
    source = rng.choices(_SOURCES[0], cum_weights=_SOURCES[2 if late else 1])[0]
    certificate_no = f"SW{recorded_at.year}-{number:07d}"
    return DeathRecord(certificate_no, person.id_number, died, source, recorded_at)


@_without_gc()
def deaths_for(
    city: City,
    enrolments: Iterable[Enrolment | Mapping[str, Any]],
    *,
    count: int,
    recipient_share: float = 0.5,
    start: datetime,
    seed: int = 7,
    span: timedelta = timedelta(days=30),
) -> list[DeathRecord]:
    """`count` registrations recorded in [start, start + span), in order; the old die far more."""
    rng, active = random.Random(seed), _active_beneficiaries(enrolments)
    wanted, year = round(count * recipient_share), start.year
    recipients = [r for r in city.residents if r.id_number in active]
    others = [r for r in city.residents if r.id_number not in active]
    dying = _pick_by_age(rng, recipients, wanted, year)
    dying += _pick_by_age(rng, others, count - wanted, year)
    rng.shuffle(dying)
    micros = span // timedelta(microseconds=1)
    times = sorted(start + timedelta(microseconds=rng.randrange(micros)) for _ in dying)
    return [_death(rng, n, p, at) for n, (p, at) in enumerate(zip(dying, times, strict=True), 1)]
