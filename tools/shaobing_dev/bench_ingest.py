"""`make bench` (ingest part): source changes from request to broker, ingest alone.

Only ingest runs (with PostgreSQL and the embedded broker), so the figure is ingest's own. Three
feeds of distinct death registrations: Debezium JSON with the schema envelope (Debezium's
default, 3 KB an event), without it (`schemas.enable=false`, 0.6 KB) and one CSV export. Each is
timed from the first request until the relay has published the last event; the ingest
process's CPU time over the same span gives its cost per event on one core.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import orjson

from shaobing_runtime.access import Role

from .bench import CHUNK, headers_for, post_csv
from .bench_record import append_row, machine
from .city import DeathRecord, deaths_for, generate_city
from .csv_feed import death_csv
from .debezium_feed import death_change_events
from .stack import Stack, StackConfig, free_ports

FEEDS = 1  # concurrent posters, as two source systems sending at once


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _until_published(database_url: str) -> None:
    """Poll one connection until the relay has published every event-log row."""
    conn = await asyncpg.connect(database_url)
    try:
        while await conn.fetchval("select count(*) from event_log where published_at is null"):
            await asyncio.sleep(0.02)
    finally:
        await conn.close()


def _measure(stack: Stack, events: int, post: Callable[[], None]) -> dict:
    """Run `post`, wait until every event is on the broker; wall rate and ingest CPU."""
    pid = stack.processes["ingest"].pid
    cpu, started = _cpu_seconds(pid), time.perf_counter()
    post()
    asyncio.run(_until_published(stack.database_url))
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds(pid) - cpu
    return {"events": events, "eps": events / seconds, "cpu_us": cpu / events * 1e6}


def _post_json(stack: Stack, records: list[DeathRecord], with_schema: bool) -> None:
    bodies = [
        orjson.dumps(death_change_events(records[i : i + CHUNK], with_schema=with_schema))
        for i in range(0, len(records), CHUNK)
    ]
    url = f"{stack.url('ingest')}/v1/sources/death/changes"

    def feed(share: list[bytes]) -> None:
        with httpx.Client(timeout=300, headers=headers_for(Role.FEED)) as client:
            for body in share:
                client.post(url, content=body).raise_for_status()

    with ThreadPoolExecutor(FEEDS) as pool:
        list(pool.map(feed, [bodies[i::FEEDS] for i in range(FEEDS)]))


def run(events: int) -> dict[str, dict]:
    city = generate_city(events * 30)
    start = datetime.now().replace(microsecond=0) - timedelta(days=30)
    records = deaths_for(city, [], count=3 * events, recipient_share=0, start=start)
    with_schema, without, csv = (records[i * events : (i + 1) * events] for i in range(3))
    with tempfile.TemporaryDirectory() as var:
        ports = free_ports()
        config = StackConfig(var_dir=Path(var), ports=ports, quiet=True, services=("ingest",))
        with Stack(config) as stack:
            feeds = {
                "JSON, schema envelope": lambda: _post_json(stack, with_schema, True),
                "JSON, no schema": lambda: _post_json(stack, without, False),
                "CSV": lambda: post_csv(stack, death_csv(csv, prefix="CSV-")),
            }
            return {name: _measure(stack, events, post) for name, post in feeds.items()}


_HEADING = "## Ingest: request to broker (`make bench`)"
_COLUMNS = ["date", "command", "machine", "feed", "events", "ev/s (wall)", "ingest CPU µs/ev"]
_COLUMNS += ["ev per core-second"]


def _record(results: dict[str, dict], command: str) -> list[str]:
    rows = []
    for feed, r in results.items():
        figures = [f"{r['events']:,}", f"{r['eps']:,.0f}", f"{r['cpu_us']:.0f}"]
        row = [f"{datetime.now():%Y-%m-%d}", f"`{command}`", machine(), feed, *figures]
        rows.append(append_row(_HEADING, _COLUMNS, [*row, f"{1e6 / r['cpu_us']:,.0f}"]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=40_000, help="events per feed")
    args = parser.parse_args()
    for line in _record(run(args.events), f"make bench INGEST_EVENTS={args.events}"):
        print(line)


if __name__ == "__main__":
    main()
