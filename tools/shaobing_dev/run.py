"""`make run`: the whole system on embedded defaults, with a demo city, until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path

from shaobing_contracts.provenance import SourceSystem
from shaobing_runtime.access import Role
from shaobing_runtime.settings import CommonSettings
from shaobing_runtime.tokens import issue_token

from .monitoring import available, start_monitoring
from .stack import ROOT, Stack, StackConfig


def _config(args: argparse.Namespace) -> StackConfig:
    return StackConfig(
        var_dir=Path(args.var_dir).resolve(),
        kafka_bootstrap=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None,
        postgres_url=os.environ.get("DATABASE_URL") or None,
    )


def _banner(stack: Stack, area: str) -> str:
    settings = CommonSettings()
    token = issue_token(settings, subject="demo-caseworker", role=Role.CASEWORKER, areas=[area])
    feed = issue_token(
        settings, subject="demo-feed", role=Role.FEED, areas=[area], sources=list(SourceSystem)
    )
    officer = issue_token(settings, subject="demo-officer", role=Role.PAYMENT_OFFICER, areas=[area])
    supervisor = issue_token(
        settings, subject="demo-supervisor", role=Role.SUPERVISOR, areas=[area]
    )
    login = f"{stack.url('api')}/ui/login?token="
    ports = ", ".join(
        f"{name} {port}" for name, port in stack.config.ports.items() if name != "broker"
    )
    return f"""
  Shaobing (哨兵) is running.
    Alert queue (case worker, {area}):  {login}{token}
    Payout runs (payment officer):     {login}{officer}&next=/ui/payout-runs
    … approved by a supervisor:        {login}{supervisor}&next=/ui/payout-runs
    API docs:                          {stack.url("api")}/docs
    Ingest API docs:                   {stack.url("ingest")}/docs
    /healthz /readyz /metrics on:      {ports}
    Kafka:                             {stack.bootstrap}
    PostgreSQL (owner, migrations):    {stack.owner_database_url}
    … as the services connect:         {stack.database_url}
    Feed token (POST /v1/sources/…):   {feed}
  Ctrl-C stops everything; the data stays under {stack.config.var_dir}.
"""


def _monitoring(stack: Stack) -> str:
    """Prometheus (rules loaded, the four services scraped) and Alertmanager, when installed."""
    if not available():
        return "  Prometheus and Alertmanager are not installed: going on without them.\n"
    try:
        running = start_monitoring(stack, prometheus_port=9090, alertmanager_port=9093)
    except (OSError, TimeoutError) as exc:
        return f"  Prometheus did not start ({exc}): going on without it.\n"
    prometheus = running.prometheus
    return (
        f"  Prometheus (targets, alerts):      {prometheus}/targets  {prometheus}/alerts\n"
        f"  Alertmanager:                      {running.alertmanager}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="run Shaobing locally")
    parser.add_argument("--var-dir", default=str(ROOT / ".var"))
    parser.add_argument("--people", type=int, default=5000, help="size of the demo city")
    parser.add_argument("--no-demo", action="store_true")
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Stack(_config(args)) as stack:
        from .demo import DEMO_AREA, DemoLoader

        print(_banner(stack, DEMO_AREA), flush=True)
        print(_monitoring(stack), flush=True)
        if not args.no_demo:
            DemoLoader(stack, people=args.people).start(stop)
        stop.wait()
        print("\n  stopping …", flush=True)


if __name__ == "__main__":
    main()
