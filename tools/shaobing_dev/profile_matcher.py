"""The matcher's domain alone, timed in CPU: `match_batch` over a city's events, no Kafka.

Three loads, each in record batches of 10,000 as the hot path reads them: every resident's
household registration (every one a new person), the city's enrolments fanned out to their
members, then a month of deaths, each over the states the previous load left; then the daily
sweep of the same day over every state (nothing new to send, usually). Prints the CPU µs per
person whose state changed (per person swept, for the sweep), and a digest of every state and
outcome, so that a change meant to be faster can show it gives the same results (same clock,
same seed: same digest).
`--profile LOAD` prints cProfile's top functions of that load instead.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import pstats
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from pydantic import BaseModel

from shaobing_contracts.codec import encode
from shaobing_matcher.domain.batch import BatchResult, match_batch, sweep_batch
from shaobing_matcher.domain.clock import Clock
from shaobing_matcher.domain.evaluation import RuleBook
from shaobing_matcher.domain.membership import person_enrolments
from shaobing_rules.files import RuleFiles

from .bench_matcher import death_registered, enrolment_recorded, person_registered
from .city import deaths_for, enrolments_for, generate_city
from .stack import ROOT

CLOCK = Clock(now=datetime(2026, 11, 26, 3, 0, tzinfo=UTC), today=date(2026, 11, 26), cutoff_day=20)
INGESTED = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
BATCH = 10_000


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


def _loads(people: int, deaths: int) -> Iterator[tuple[str, list[Message]]]:
    city = generate_city(people)
    enrolled = enrolments_for(city)
    registered = [person_registered(r, INGESTED) for r in city.residents]
    yield "registrations", [_message(e.id_number, e) for e in registered]
    fanned = [p for e in map(enrolment_recorded, enrolled) for p in person_enrolments(e, [])]
    yield "enrolments", [_message(p.id_number, p) for p in fanned]
    start = datetime(2026, 10, 27, 8, 0)
    records = deaths_for(city, enrolled, count=deaths, start=start)
    died = [death_registered(d, INGESTED) for d in records]
    yield "deaths", [_message(d.id_number, d) for d in died]


def _message(id_number: str, event: BaseModel) -> Message:
    return Message("bench", 0, 0, id_number.encode(), encode(event))


def _run(messages: list[Message], stored: dict[bytes, bytes], book: RuleBook) -> BatchResult:
    total = BatchResult()
    for i in range(0, len(messages), BATCH):
        gc.disable()  # as the hot path does around a batch
        result = match_batch(messages[i : i + BATCH], _reader(stored), book, CLOCK)
        gc.enable()
        stored.update(result.states)
        total.states.update(result.states)
        total.matched += result.matched
        total.failed += result.failed
    return total


def _reader(stored: dict[bytes, bytes]) -> Callable[[list[bytes]], list[bytes | None]]:
    return lambda keys: [stored.get(k) for k in keys]


def _digest(result: BatchResult) -> str:
    h = hashlib.sha256()
    for key in sorted(result.states):
        h.update(key + result.states[key])
    for m in sorted(result.matched, key=lambda m: m.key):
        outcome = m.outcome
        outs = [*outcome.raised, *outcome.withdrawn, *outcome.notifications]
        for out in [*outs, *outcome.notifications_withdrawn]:
            h.update(encode(out))
        for notice in outcome.spouse_notices:
            h.update(encode(notice))
        h.update(repr([f.args for f in outcome.failures]).encode())
    h.update(repr([(r.key, repr(e)) for r, e in result.failed]).encode())
    return h.hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--deaths", type=int, default=1_000)
    parser.add_argument(
        "--profile", help="cProfile this load (registrations, enrolments, deaths, sweep)"
    )
    parser.add_argument("--only", help="stop after this load (registrations, enrolments)")
    args = parser.parse_args()
    book = RuleBook.on(RuleFiles(ROOT / "rules").rule_set, CLOCK)
    stored: dict[bytes, bytes] = {}
    for name, messages in _loads(args.people, args.deaths):
        if name == args.profile:
            _profiled(_run, messages, stored, book)
            return
        started = time.process_time()
        result = _run(messages, stored, book)
        spent = time.process_time() - started
        changed = len(result.states)
        print(
            f"{name}: {len(messages)} events, {changed} persons changed, "
            f"{spent * 1e6 / max(changed, 1):.1f} µs CPU a person, digest {_digest(result)}"
        )
        if name == args.only:
            return
    if args.profile == "sweep":
        _profiled(_sweep, stored, book)
        return
    started = time.process_time()
    result = _sweep(stored, book)
    spent = time.process_time() - started
    print(
        f"sweep: {len(stored)} persons, {len(result.states)} changed, "
        f"{spent * 1e6 / max(len(stored), 1):.1f} µs CPU a person, digest {_digest(result)}"
    )


def _sweep(stored: dict[bytes, bytes], book: RuleBook) -> BatchResult:
    """The daily sweep of the same day over every state (PersonStream.sweep without Kafka)."""
    gc.disable()
    result = sweep_batch(list(stored), _reader(stored), book, CLOCK)
    gc.enable()
    return result


def _profiled(run: Callable, *args: object) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(run, *args)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
