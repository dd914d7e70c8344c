"""Write a synthetic city's year of changes as files: per table NDJSON Debezium events and CSV.

    python -m shaobing_dev.demo_files --people 100000 --out .var/demo [--format both]

Streams: rows go to the files as they are generated, never the whole year in memory.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from shaobing_dev.changes_year import TableRow, year_of_changes
from shaobing_dev.city import enrolment_dicts_for, generate_city
from shaobing_dev.csv_feed import csv_header, csv_line
from shaobing_dev.debezium_feed import change_event

TABLES = (
    "hukou.population",
    "marriage.registrations",
    "death.registrations",
    "social_security.person_status",
)
YEAR_START = datetime(2025, 1, 1)  # the year ends before today: ingest refuses future dates
_LSN_STEP = 224


def change_events(
    rows: Iterable[TableRow], *, with_schema: bool = False, start_lsn: int = 20_000_000
) -> Iterator[tuple[TableRow, dict[str, Any]]]:
    """(row, Debezium event) per row; snapshot reads share one LSN, each change its own."""
    lsn, snapshot_lsn = start_lsn, start_lsn
    for i, row in enumerate(rows):
        if row.op != "r":
            lsn += _LSN_STEP + 8 * (i % 3)
        event = change_event(
            row.table,
            row.op,
            row.row,
            lsn=snapshot_lsn if row.op == "r" else lsn,
            with_schema=with_schema,
            committed_at=row.recorded_at + timedelta(microseconds=800 + 137 * (i % 7)),
            lag_us=150_000 + 37_013 * (i % 11),
        )
        yield row, event


def _write(rows: Iterable[TableRow], out: Path, fmt: str, with_schema: bool) -> Counter[str]:
    counts: Counter[str] = Counter()
    with ExitStack() as stack:
        ndjson, csv = {}, {}
        if fmt in ("debezium", "both"):
            ndjson = {t: stack.enter_context(open(out / f"{t}.ndjson", "wb")) for t in TABLES}
        if fmt in ("csv", "both"):
            csv = {
                t: stack.enter_context(open(out / f"{t}.csv", "w", encoding="utf-8"))
                for t in TABLES
            }
            for table, file in csv.items():
                file.write(csv_header(table))
        pairs = (
            change_events(rows, with_schema=with_schema) if ndjson else ((r, None) for r in rows)
        )
        for row, event in pairs:
            counts[row.table] += 1
            if event is not None:
                ndjson[row.table].write(orjson.dumps(event) + b"\n")
            if csv:
                csv[row.table].write(csv_line(row.table, row.row))
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--format", choices=("debezium", "csv", "both"), default="both")
    parser.add_argument("--with-schema", action="store_true", help="schema envelope per event")
    parser.add_argument("--year-start", type=datetime.fromisoformat, default=YEAR_START)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if not 1 <= args.people <= 10**7:
        parser.error("--people must be between 1 and 10,000,000")
    args.out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    city = generate_city(args.people, seed=args.seed, as_of=args.year_start.date())
    enrolments = enrolment_dicts_for(city, seed=args.seed)
    built = time.perf_counter()
    rows = year_of_changes(city, enrolments, year_start=args.year_start, seed=args.seed)
    counts = _write(rows, args.out, args.format, args.with_schema)
    done = time.perf_counter()
    for table in TABLES:
        print(f"{table:32} {counts[table]:>10,} rows")
    print(f"city {built - began:.1f} s, year of changes written {done - built:.1f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
