"""One stack of its own for the fault-injection suite (its faults would disturb the integration
tests' stack), with a steady mixed stream of changes flowing through every fault.

`FAULT_SECONDS` is how long a fault lasts: 8 s in `make test` (the short form), 45 s in
`make faults`; `FAULT_RATE` the changes a second of the stream.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest

from shaobing_dev.faults import Faults
from shaobing_dev.stack import SERVICES, Stack, StackConfig, free_ports
from shaobing_dev.workload import Workload, probe

FAULT_SECONDS = float(os.environ.get("FAULT_SECONDS", "8"))
RATE = float(os.environ.get("FAULT_RATE", "20"))


@pytest.fixture(scope="session")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    config = StackConfig(
        var_dir=Path(tmp_path_factory.mktemp("faults")),
        ports=free_ports(),
        quiet=True,
        extra_env={"API_PAYOUT_STALL_SECONDS": "10"},
    )
    with Stack(config) as stack:
        yield stack


@pytest.fixture(scope="session")
def faults(fault_stack: Stack) -> Faults:
    return Faults(fault_stack)


@pytest.fixture(scope="session")
def workload(fault_stack: Stack) -> Iterator[Workload]:
    """The stream, flowing from the first fault test to the last."""
    with Workload(fault_stack, rate=RATE, seed=3) as running:
        yield running


RECOVERY_SECONDS = 30
# (test, seconds from the fault's end to a new death's alert, MiB a service grew by at most)
RECOVERIES: list[tuple[str, float, int | None]] = []
MEMORY_HEADROOM = 200 << 20  # what a service may grow by while a dependency is away


def memory(stack: Stack) -> dict[str, int]:
    """The resident memory of each service running now."""
    running = [name for name in SERVICES if name in stack.processes]
    return {name: psutil.Process(stack.processes[name].pid).memory_info().rss for name in running}


def through(stack: Stack, seconds: float = FAULT_SECONDS) -> dict[str, int]:
    """The stream flowing for `seconds` while the fault lasts; how much each service's memory
    grew meanwhile, at most."""
    before = memory(stack)
    grown = dict.fromkeys(before, 0)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(1)
        for name, rss in memory(stack).items():
            grown[name] = max(grown.get(name, 0), rss - before.get(name, rss))
    return grown


def recovered(
    stack: Stack,
    workload: Workload,
    grown: dict[str, int] | None = None,
    *,
    ended: float | None = None,
) -> None:
    """Memory stayed bounded during the fault; work resumes within 30 s of its end (`ended`,
    monotonic: when a killed service was started again; now by default), a new death's alert
    stored by then; then everything accepted is honoured."""
    assert all(g < MEMORY_HEADROOM for g in (grown or {}).values()), grown
    assert workload.error is None, workload.error
    ended = ended or time.monotonic()
    took = probe(stack, timeout=RECOVERY_SECONDS)
    since_fault = time.monotonic() - ended
    most = max(grown.values(), default=0) >> 20 if grown else None
    RECOVERIES.append((os.environ["PYTEST_CURRENT_TEST"].split(" ")[0], since_fault, most))
    assert since_fault <= RECOVERY_SECONDS, f"{since_fault:.1f} s after the fault: {took}"
    assert workload.settled(timeout=90) == []


def readiness(stack: Stack, service: str) -> tuple[int, dict]:
    """A service's /readyz: its status code and body (answered within seconds, always)."""
    answer = httpx.get(f"{stack.url(service)}/readyz", timeout=5)
    return answer.status_code, answer.json()


def unready(stack: Stack, service: str, timeout: float = 15) -> dict:
    """The service's /readyz body once it answers 503; the test fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while (found := readiness(stack, service))[0] != 503:
        if time.monotonic() > deadline:
            pytest.fail(f"{service} still says it is ready: {found[1]}")
        time.sleep(0.5)
    return found[1]


def pytest_terminal_summary(terminalreporter) -> None:
    """How long each fault took to recover from (docs/operations.md quotes them)."""
    if RECOVERIES:
        terminalreporter.section(f"recovery after each fault (FAULT_SECONDS={FAULT_SECONDS:g})")
        for test, seconds, most in RECOVERIES:
            grew = "" if most is None else f", memory +{most} MiB at most meanwhile"
            terminalreporter.write_line(f"{seconds:5.1f} s  {test.split('::')[-1]}{grew}")


async def _fetchval(database_url: str, query: str, *args):
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


def fetch(database_url: str, query: str, *args):
    """One value of one statement, behind the services' backs."""
    return asyncio.run(_fetchval(database_url, query, *args))
