"""`make soak`: the whole stack under a steady mixed stream for minutes, with faults on a schedule.

`--rate` changes a second on all four sources and the api (tools/shaobing_dev/workload.py) for
`--minutes`, and every `--quiet` seconds one fault of the fault-injection suite for `--fault`
seconds, in turn: connections dropped under a locked table, the database stopped, the broker
paused, the outbox's table locked, the matcher and the alerts service killed with -9, last the
broker restarted empty and refilled by the documented replay. Recorded in docs/benchmarks.md:
ingest-to-stored-alert latency (p50, p99) of the deaths ingested outside and during faults (a
fault's window runs to its recovery), each fault's recovery time (from its end until a new
death's alert is stored), the services' memory, and whether everything accepted was honoured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import asyncpg
import psutil

from .bench_record import append_row, machine
from .faults import Faults
from .stack import SERVICES, Stack, StackConfig, free_ports
from .workload import Workload, probe

SEED = 5


@dataclass
class Window:
    fault: str
    started: float  # epoch seconds
    ended: float
    recovery: float  # seconds from the end until a new death's alert was stored


@dataclass
class Memory:
    """The services' resident memory, sampled every few seconds."""

    samples: dict[str, list[int]] = field(default_factory=dict)

    def sample(self, stack: Stack) -> None:
        for name in SERVICES:
            process = stack.processes.get(name)
            with contextlib.suppress(psutil.Error, AttributeError):
                rss = psutil.Process(process.pid).memory_info().rss
                self.samples.setdefault(name, []).append(rss)

    def summary(self) -> str:
        """first → last (most) MiB per service."""
        mib = 1 << 20
        return ", ".join(
            f"{n} {s[0] // mib}→{s[-1] // mib} ({max(s) // mib})" for n, s in self.samples.items()
        )


def schedule(faults: Faults, seconds: float) -> list[tuple[str, Callable[[], None]]]:
    """The faults in the order they come, each lasting about `seconds`."""

    def wait() -> None:
        time.sleep(seconds)

    def dropped() -> None:
        with faults.table_locked("alerts"):
            time.sleep(3)
            faults.drop_connections()

    def killed(service: str) -> Callable[[], None]:
        def kill() -> None:
            faults.kill(service)
            time.sleep(5)
            faults.restart(service)

        return kill

    def broker_lost() -> None:
        faults.restart_broker_empty()
        wait()
        faults.recover_broker()

    return [
        ("connections dropped", dropped),
        ("database stopped", lambda: _during(faults.database_stopped(), wait)),
        ("broker paused", lambda: _during(faults.broker_paused(), wait)),
        ("event_log locked", lambda: _during(faults.table_locked("event_log"), wait)),
        ("matcher killed", killed("matcher")),
        ("alerts killed", killed("alerts")),
        ("broker restarted empty", broker_lost),
    ]


def _during(fault: contextlib.AbstractContextManager, action: Callable[[], None]) -> None:
    with fault:
        action()


def soak(args: argparse.Namespace) -> dict:
    config = StackConfig(
        var_dir=Path(tempfile.mkdtemp(prefix="shaobing-soak-")),
        ports=free_ports(),
        quiet=True,
    )
    memory, windows = Memory(), []
    with Stack(config) as stack:
        faults = Faults(stack)
        stop = threading.Event()
        sampler = threading.Thread(target=_sample, args=(memory, stack, stop), daemon=True)
        sampler.start()
        ends = time.monotonic() + args.minutes * 60
        with Workload(stack, rate=args.rate, seed=SEED, tick=0.1) as workload:
            for name, inject in _cycle(schedule(faults, args.fault)):
                time.sleep(args.quiet)
                if time.monotonic() > ends:
                    break
                started = time.time()
                inject()
                ended = time.time()
                recovery = probe(stack, timeout=300).seconds
                windows.append(Window(name, started, ended, recovery))
                print(f"{name}: recovered in {recovery:.1f} s", flush=True)
        problems = workload.settled(timeout=600)
        stop.set()
        latencies = asyncio.run(_latencies(stack.database_url))
    return _results(args, workload, problems, latencies, windows, memory)


def _cycle(items: list) -> Iterator:
    while True:
        yield from items


def _sample(memory: Memory, stack: Stack, stop: threading.Event) -> None:
    while not stop.wait(5):
        memory.sample(stack)


async def _latencies(database_url: str) -> list[tuple[float, float]]:
    """(ingested at, seconds to the stored alert) of every death-of-beneficiary alert."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            """select extract(epoch from a.ingested_at) as ingested,
                      extract(epoch from e.at - a.ingested_at) as took
               from alerts a join alert_events e on e.alert_id = a.id and e.kind = 'RAISED'
               where a.rule_id = 'death-of-beneficiary' and a.enrolment_id like $1""",
            f"W{SEED}-%",
        )
    finally:
        await conn.close()
    return [(float(r["ingested"]), float(r["took"])) for r in rows]


def _percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    cuts = statistics.quantiles(values, n=100)
    return f"{cuts[49]:.2f} / {cuts[98]:.2f} s ({len(values):,})"


def _results(args, workload, problems, latencies, windows, memory) -> dict:
    def during(at: float) -> bool:
        return any(w.started <= at <= w.ended + w.recovery for w in windows)

    return {
        "outside": _percentiles([t for at, t in latencies if not during(at)]),
        "during": _percentiles([t for at, t in latencies if during(at)]),
        "recovery": "; ".join(f"{w.fault} {w.recovery:.1f} s" for w in windows),
        "memory": memory.summary(),
        "honoured": "everything" if not problems else "; ".join(problems),
        "posted": f"{workload.ledger.posted:,} ({workload.ledger.retries:,} retried posts)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000, help="changes a second")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--fault", type=float, default=30, help="seconds a fault lasts")
    parser.add_argument("--quiet", type=float, default=40, help="seconds between faults")
    args = parser.parse_args()
    found = soak(args)
    for key, value in found.items():
        print(f"{key}: {value}")
    append_row(
        "## Soak: a mixed stream through scheduled faults (`make soak`)",
        [
            "date",
            "machine",
            "command",
            "changes posted",
            "ingest→alert p50 / p99 outside faults",
            "… during faults (to recovery)",
            "recovery after each fault",
            "memory MiB first→last (most)",
            "honoured",
        ],
        [
            date.today().isoformat(),
            machine(),
            f"`make soak SOAK_ARGS='--rate {args.rate:g} --minutes {args.minutes:g} "
            f"--fault {args.fault:g} --quiet {args.quiet:g}'`",
            found["posted"],
            found["outside"],
            found["during"],
            found["recovery"],
            found["memory"],
            found["honoured"],
        ],
    )


if __name__ == "__main__":
    main()
