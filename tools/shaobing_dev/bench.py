"""`make bench`: death changes through the whole pipeline against a loaded enrolment book.

Reports ingest throughput (request to durable + accepted), sustained end-to-end events/s (first
post until the matcher has processed every death and the last alert row is stored) and the
latency from ingest to the stored alert row (p50/p99). Appends the result to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
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

from .city import deaths_for, enrolment_dicts_for, generate_city
from .debezium_feed import death_change_events
from .stack import ROOT, Stack, StackConfig, free_port

CHUNK = 1000


def _headers(role: Role) -> dict[str, str]:
    token = issue_token(CommonSettings(), subject="bench", role=role, areas=["310110"])
    return {"authorization": f"Bearer {token}"}


def _post_all(url: str, items: list[dict], role: Role) -> float:
    """POST in chunks of CHUNK; returns the seconds spent."""
    started = time.perf_counter()
    with httpx.Client(timeout=300, headers=_headers(role)) as client:
        for i in range(0, len(items), CHUNK):
            client.post(url, content=orjson.dumps(items[i : i + CHUNK])).raise_for_status()
    return time.perf_counter() - started


def _post_csv(stack: Stack, city, enrolments: list[dict], count: int, start: datetime) -> float:
    """As many other death registrations, as one CSV file; returns the seconds it took."""
    records = deaths_for(city, enrolments, count=count, start=start, seed=8)
    lines = ["certificate_no,id_number,date_of_death,source,recorded_at"] + [
        f"CSV-{r.certificate_no},{r.id_number},{r.date_of_death},{r.source.value},"
        f"{r.recorded_at:%Y-%m-%d %H:%M:%S}"
        for r in records
    ]
    started = time.perf_counter()
    with httpx.Client(timeout=600, headers=_headers(Role.FEED)) as client:
        client.post(
            f"{stack.url('ingest')}/v1/sources/death/batches", content="\n".join(lines).encode()
        ).raise_for_status()
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
        ports = {n: free_port() for n in ("broker", "api", "ingest", "alerts", "matcher")}
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
            csv_seconds = _post_csv(stack, city, enrolments, deaths, start)
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


def _record(result: dict, command: str) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    row = (
        f"| {datetime.now():%Y-%m-%d} | `{command}` | {machine} | {result['people']:,} | "
        f"{result['enrolments']:,} | {result['deaths']:,} | {result['alerts']:,} | "
        f"{result['ingest_eps']:,.0f} | {result['csv_rows_per_s']:,.0f} | "
        f"{result['pipeline_eps']:,.0f} | "
        f"{result['p50']:.2f} s | {result['p99']:.2f} s |"
    )
    path = ROOT / "docs" / "benchmarks.md"
    if not path.exists():
        path.write_text(_HEADER, encoding="utf-8")
    with path.open("a", encoding="utf-8") as out:
        out.write(row + "\n")
    return row


_HEADER = """# Benchmarks

## Pipeline: death changes → alert rows (`make bench`)

Each death change goes through ingest (parse, validate, store in PostgreSQL), the event-log
relay, the broker, the matcher (faust) and the alerts service into PostgreSQL, all on one machine
with the embedded Tansu broker and PostgreSQL. *Ingest JSON* is Debezium JSON in requests of
1,000, request to durable and accepted; *ingest CSV* is as many other registrations as one CSV
file;
*pipeline* is the first post until the last alert row is stored; latency is per alert, from the
ingest of its evidence to its row.

"""
_HEADER += (
    "| date | command | machine | people | enrolments | deaths | alerts | ingest JSON ev/s "
    "| ingest CSV rows/s | pipeline ev/s | ingest→alert p50 | p99 |\n" + "|---" * 12 + "|\n"
)


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
