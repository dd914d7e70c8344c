"""`make bench` (payout part): a payout run over a city's enrolments, against a query-per-enrolment
loop.

PostgreSQL alone (embedded) holds the enrolments and the relevant facts as the services leave
them: ingest's last rows of death registrations and household registrations, and alerts, some
open and some decided. The run is the api's own code (`payout_store`: slice after slice, one
statement each), timed from start to READY; peak memory is PostgreSQL's (proportional set size
of all its processes, sampled) and this process's. The baseline decides a sample of enrolments
one query set at a time, as a naive implementation would, and is extrapolated.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import threading
import time
import uuid
from pathlib import Path

import asyncpg

from shaobing_api.payout_runs.adapters.payout_store import start_run
from shaobing_api.payout_runs.execution import check
from shaobing_runtime.database import create_pool

from .bench_record import append_row, machine
from .stack import Stack, StackConfig, free_ports

AREA, MONTH = "310110", "2026-12"

# Enrolments of 1-3 members; people are 18-character ids derived from a number.
_ENROLMENTS = """
insert into enrolments (enrolment_id, program, beneficiary_id, household_members, monthly_amount,
                        area_code, status, start_month, payout_account)
select 'B' || lpad(i::text, 8, '0'),
       (array['DIBAO', 'TEKUN', 'GAOLING', 'CANJI_SHENGHUO', 'CANJI_HULI'])[1 + i % 5],
       '3101101950' || lpad((i * 3)::text, 8, '0'),
       array(select '3101101950' || lpad((i * 3 + k)::text, 8, '0')
             from generate_series(0, i % 3) as k),
       (array[1510.00, 980.00, 300.00, 200.00, 150.00])[1 + i % 5],
       '310110' || lpad((1 + i % 12)::text, 3, '0') || lpad((1 + i % 30)::text, 3, '0'),
       'ACTIVE', '2024-01', '622202' || lpad(i::text, 13, '0')
from generate_series(1, $1) as i
"""
# Deaths of beneficiaries and of other members, spread over the enrolments.
_DEATHS = """
insert into source_rows (source_table, primary_key, row)
select 'death.registrations', 'SW-' || i,
       jsonb_build_object('certificate_no', 'SW-' || i,
                          'id_number',
                          '3101101950' || lpad(((i * 37) % $1 * 3 + i % 2)::text, 8, '0'),
                          'date_of_death', date '2026-09-01' + (i % 80),
                          'source', 'MEDICAL', 'recorded_at', '2026-11-20T09:30:00')
from generate_series(1, $2) as i
"""
# Household registrations: most unremarkable, some moved out of the district or cancelled.
_REGISTRATIONS = """
insert into source_rows (source_table, primary_key, row)
select 'hukou.population', id,
       jsonb_build_object('id_number', id, 'status', status, 'area_code', area)
from (select '3101101950' || lpad(((i * 53) % $1 * 3)::text, 8, '0') as id,
             case when i % 10 = 0 then 'MOVED_OUT' when i % 10 = 1 then 'CANCELLED'
                  else 'ACTIVE' end as status,
             case when i % 10 = 2 then '320102003004' else '310110001001' end as area
      from generate_series(1, $2) as i) p
on conflict do nothing
"""
_ALERTS = """
insert into alerts (id, rule_id, rule_version, fact_key, enrolment_id, program, id_number,
                    area_code, severity, severity_rank, action, status, due_date,
                    overpaid_months, overpaid_amount, evidence, explanation, raised_at,
                    decision, decided_at)
select gen_random_uuid(), (array['marriage-change', 'income-above-threshold'])[1 + i % 2], 1,
       'f' || i, e.enrolment_id, e.program, e.beneficiary_id, e.area_code, 'MEDIUM', 2,
       'REASSESS', case when i % 3 = 0 then 'CONFIRMED' else 'OPEN' end, date '2026-12-20', 0, 0,
       '[]', '{}', now(),
       case when i % 3 = 0 then '{"action_taken": "REASSESSMENT_OPENED"}'::jsonb end,
       case when i % 3 = 0 then now() end
from generate_series(1, $2) as i
join enrolments e on e.enrolment_id = 'B' || lpad(((i * 71) % $1 + 1)::text, 8, '0')
"""


async def _load(url: str, enrolments: int, facts: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(_ENROLMENTS, enrolments)
        await conn.execute(_DEATHS, enrolments, facts * 2 // 5)
        await conn.execute(_REGISTRATIONS, enrolments, facts * 2 // 5)
        await conn.execute(_ALERTS, enrolments, facts // 5)
        await conn.execute("vacuum analyze")
    finally:
        await conn.close()


class _PeakPss(threading.Thread):
    """PostgreSQL's memory while the run goes: the sum of its processes' PSS, sampled."""

    def __init__(self, postmaster: int) -> None:
        super().__init__(daemon=True)
        self.postmaster, self.peak, self.running = postmaster, 0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, sum(_pss(p) for p in self._processes()))
            time.sleep(0.1)

    def _processes(self) -> list[int]:
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == self.postmaster:
                    children.append(int(stat.parent.name))
            except (OSError, ValueError, IndexError):
                continue
        return [self.postmaster, *children]


def _pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


async def _run(url: str, slice_size: int, workers: int) -> tuple[float, int]:
    pool = await create_pool(url, max_size=workers + 1)
    try:
        started = time.perf_counter()
        async with pool.acquire() as conn:
            run = await start_run(
                conn, run_id=uuid.uuid4(), month=MONTH, area=AREA, started_by="bench"
            )
        await check(pool, run, slice_size, workers)
        seconds = time.perf_counter() - started
        async with pool.acquire() as conn:
            checked = await conn.fetchval(
                "select rows_checked from payout_runs where id = $1", run["id"]
            )
        return seconds, checked
    finally:
        await pool.close()


async def _loop(url: str, sample: int) -> float:
    """Seconds per enrolment when each is decided with its own queries and its decision written
    (as the run writes every item), each enrolment its own transaction."""
    conn = await asyncpg.connect(url)
    try:
        run = await start_run(
            conn, run_id=uuid.uuid4(), month="2026-11", area=AREA, started_by="loop"
        )
        ids = await conn.fetch(
            "select enrolment_id from enrolments order by random() limit $1", sample
        )
        started = time.perf_counter()
        for (enrolment_id,) in ids:
            await _decide_one(conn, run["id"], enrolment_id)
        return (time.perf_counter() - started) / sample
    finally:
        await conn.close()


async def _decide_one(conn: asyncpg.Connection, run_id: uuid.UUID, enrolment_id: str) -> None:
    e = await conn.fetchrow("select * from enrolments where enrolment_id = $1", enrolment_id)
    deaths = await conn.fetch(
        "select * from person_deaths where id_number = any($1)", e["household_members"]
    )
    registration = await conn.fetchrow(
        "select * from person_registrations where id_number = $1", e["beneficiary_id"]
    )
    alerts = await conn.fetch(
        "select status, decision from alerts where enrolment_id = $1 "
        "and status in ('OPEN', 'CLAIMED', 'CONFIRMED')",
        enrolment_id,
    )
    if any(d["id_number"] == e["beneficiary_id"] for d in deaths) or (
        registration and registration["status"] != "ACTIVE"
    ):
        decision = "STOP"
    else:
        decision = "HOLD" if deaths or alerts else "PAY"
    await conn.execute(
        """insert into payout_run_items (run_id, enrolment_id, program, area_code, beneficiary_id,
                                         decision, reasons, amount)
           values ($1, $2, $3, $4, $5, $6, '[]', $7)""",
        run_id,
        enrolment_id,
        e["program"],
        e["area_code"],
        e["beneficiary_id"],
        decision,
        e["monthly_amount"],
    )


def run(enrolments: int, facts: int, sample: int, slice_size: int, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as var:
        ports = free_ports()
        config = StackConfig(var_dir=Path(var), ports=ports, quiet=True, services=())
        with Stack(config) as stack:
            url = stack.database_url
            asyncio.run(_load(stack.owner_database_url, enrolments, facts))
            postmaster = int((Path(var) / "pgdata" / "postmaster.pid").read_text().split()[0])
            watch = _PeakPss(postmaster)
            watch.start()
            seconds, checked = asyncio.run(_run(url, slice_size, workers))
            watch.running = False
            per_enrolment = asyncio.run(_loop(url, sample))
    loop_seconds = per_enrolment * checked
    return {
        "enrolments": checked,
        "facts": facts,
        "seconds": seconds,
        "pg_peak_mib": watch.peak / 2**20,
        "py_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "loop_seconds": loop_seconds,
        "speedup": loop_seconds / seconds,
        "sample": sample,
    }


_HEADING = "## Payout run: the pre-payment check (`make bench`)"
_COLUMNS = ["date", "command", "machine", "enrolments", "relevant facts", "run (s)"]
_COLUMNS += ["PostgreSQL peak PSS (MiB)", "bench process peak RSS (MiB)", "loop (s, extrapolated)"]
_COLUMNS += ["speed-up"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enrolments", type=int, default=1_000_000)
    parser.add_argument("--facts", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=5_000, help="enrolments the loop decides")
    parser.add_argument("--slice", type=int, default=50_000, help="enrolments per statement")
    parser.add_argument("--workers", type=int, default=2, help="slices written at once")
    args = parser.parse_args()
    r = run(args.enrolments, args.facts, args.sample, args.slice, args.workers)
    command = f"make bench PAYOUT_ARGS='--enrolments {args.enrolments} --facts {args.facts}'"
    row = [
        f"{time.strftime('%Y-%m-%d')}",
        f"`{command}`",
        machine(),
        f"{r['enrolments']:,}",
        f"{r['facts']:,}",
        f"{r['seconds']:.1f}",
        f"{r['pg_peak_mib']:,.0f}",
        f"{r['py_peak_mib']:,.0f}",
        f"{r['loop_seconds']:,.0f} (sample {r['sample']:,})",
        f"{r['speedup']:,.0f}×",
    ]
    print(append_row(_HEADING, _COLUMNS, row))


if __name__ == "__main__":
    main()
