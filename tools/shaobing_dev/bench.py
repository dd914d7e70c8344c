"""`make bench`: death changes through the whole pipeline against a loaded enrolment book.

Reports ingest throughput (request to durable + accepted), sustained end-to-end events/s (first
post until the matcher has processed every death and the last alert row is stored) and the
latency from ingest to the stored alert row (p50/p99). Appends the result to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import orjson

from shaobing_runtime.access import Role
from shaobing_runtime.settings import CommonSettings
from shaobing_runtime.tokens import issue_token

from .bench_record import append_row, machine
from .city import deaths_for, enrolment_dicts_for, generate_city
from .csv_feed import death_csv
from .debezium_feed import death_change_events
from .stack import Stack, StackConfig, free_ports

CHUNK = 1000


def headers_for(role: Role) -> dict[str, str]:
    """Bearer headers; the benchmarks' feed posts death registrations only."""
    sources = ["death"] if role is Role.FEED else []
    token = issue_token(
        CommonSettings(), subject="bench", role=role, areas=["310110"], sources=sources
    )
    return {"authorization": f"Bearer {token}"}


def _post_all(url: str, items: list[dict], role: Role) -> float:
    """POST in chunks of CHUNK; returns the seconds spent."""
    started = time.perf_counter()
    with httpx.Client(timeout=300, headers=headers_for(role)) as client:
        for i in range(0, len(items), CHUNK):
            client.post(url, content=orjson.dumps(items[i : i + CHUNK])).raise_for_status()
    return time.perf_counter() - started


def post_csv(stack: Stack, body: bytes) -> float:
    """POST one CSV export of death registrations; returns the seconds it took."""
    url = f"{stack.url('ingest')}/v1/sources/death/batches"
    started = time.perf_counter()
    with httpx.Client(timeout=900, headers=headers_for(Role.FEED)) as client:
        client.post(url, content=body).raise_for_status()
    return time.perf_counter() - started


def _matcher_count(stack: Stack, event_type: str) -> float:
    text = httpx.get(f"{stack.url('matcher')}/metrics", timeout=10).text
    prefix = f'shaobing_matcher_events_total{{type="{event_type}"}} '
    return next(
        (float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix)), 0.0
    )


def _wait_for(probe, target: float, timeout: float = 1800) -> None:
    deadline = time.monotonic() + timeout
    while probe() < target:
        if time.monotonic() > deadline:
            raise TimeoutError(f"pipeline did not reach {target} within {timeout}s")
        time.sleep(0.2)


async def _alert_stats(url: str) -> dict:
    conn = await asyncpg.connect(url)
    try:
        return dict(
            await conn.fetchrow(
                """select count(*) as alerts, max(stored_at) as last_stored,
                 percentile_cont(0.5) within group (order by extract(epoch from
                     stored_at - ingested_at)) as p50,
                 percentile_cont(0.99) within group (order by extract(epoch from
                     stored_at - ingested_at)) as p99
               from alerts"""
            )
        )
    finally:
        await conn.close()


def run(people: int, deaths: int) -> dict:
    city = generate_city(people)
    enrolments = enrolment_dicts_for(city)
    start = datetime.now().replace(microsecond=0) - timedelta(days=30)
    records = deaths_for(city, enrolments, count=deaths, start=start)
    changes = death_change_events(records, with_schema=True)
    members = sum(len(e["household_members"]) for e in enrolments)
    with tempfile.TemporaryDirectory() as var:
        ports = free_ports()
        with Stack(StackConfig(var_dir=Path(var), ports=ports, quiet=True)) as stack:
            _post_all(f"{stack.url('api')}/v1/enrolments", enrolments, Role.CASEWORKER)
            _wait_for(lambda: _matcher_count(stack, "person_enrolment"), members)
            began = datetime.now(UTC)
            ingest_seconds = _post_all(
                f"{stack.url('ingest')}/v1/sources/death/changes", changes, Role.FEED
            )
            _wait_for(lambda: _matcher_count(stack, "death_registered"), deaths)
            time.sleep(2)  # let the alerts consumer store the last batch
            stats = asyncio.run(_alert_stats(stack.database_url))
            others = deaths_for(city, enrolments, count=deaths, start=start, seed=8)
            csv_seconds = post_csv(stack, death_csv(others, prefix="CSV-"))
    end_to_end = (stats["last_stored"] - began).total_seconds()
    return {
        "people": people,
        "enrolments": len(enrolments),
        "deaths": deaths,
        "alerts": stats["alerts"],
        "ingest_eps": deaths / ingest_seconds,
        "csv_rows_per_s": deaths / csv_seconds,
        "pipeline_eps": deaths / end_to_end,
        "p50": stats["p50"],
        "p99": stats["p99"],
    }


_COLUMNS = [
    "date",
    "command",
    "machine",
    "people",
    "enrolments",
    "deaths",
    "alerts",
    "ingest JSON ev/s",
    "ingest CSV rows/s",
    "pipeline ev/s",
    "ingest→alert p50",
    "p99",
]


def _record(r: dict, command: str) -> str:
    counts = [f"{r[k]:,}" for k in ("people", "enrolments", "deaths", "alerts")]
    rates = [f"{r[k]:,.0f}" for k in ("ingest_eps", "csv_rows_per_s", "pipeline_eps")]
    row = [f"{datetime.now():%Y-%m-%d}", f"`{command}`", machine(), *counts, *rates]
    row += [f"{r['p50']:.2f} s", f"{r['p99']:.2f} s"]
    return append_row("## Pipeline: death changes → alert rows (`make bench`)", _COLUMNS, row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--deaths", type=int, default=20_000)
    args = parser.parse_args()
    result = run(args.people, args.deaths)
    command = f"make bench BENCH_ARGS='--people {args.people} --deaths {args.deaths}'"
    print(_record(result, command))


if __name__ == "__main__":
    main()
