"""A local Prometheus and Alertmanager beside the stack, on loopback: the four services scraped,
the rules of deploy/k8s/base/prometheus-rules.yaml loaded, alerts routed by
deploy/monitoring/alertmanager.yml. For `make run` and the monitoring integration test."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from .stack import ROOT, Stack, answers, wait_until

RULES = ROOT / "deploy" / "k8s" / "base" / "prometheus-rules.yaml"
ALERTMANAGER = ROOT / "deploy" / "monitoring" / "alertmanager.yml"
SERVICES = ("ingest", "matcher", "alerts", "api")


def rule_groups(*, annotations: bool = True, for_override: str | None = None) -> dict:
    """The PrometheusRule's spec as a Prometheus rule file; optionally without annotations (for
    promtool's unit tests) or with every `for:` shortened (for a test that cannot wait)."""
    spec = yaml.safe_load(RULES.read_text(encoding="utf-8"))["spec"]
    for group in spec["groups"]:
        for rule in group["rules"]:
            if not annotations:
                rule.pop("annotations", None)
            if for_override and "for" in rule:
                rule["for"] = for_override
    return spec


def prometheus_config(stack: Stack, alertmanager_port: int, rules: Path, interval: str) -> dict:
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(rules)],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]}]
        },
        "scrape_configs": [
            {
                "job_name": f"shaobing-{name}",
                "static_configs": [{"targets": [f"127.0.0.1:{stack.config.ports[name]}"]}],
            }
            for name in SERVICES
        ],
    }


@dataclass(frozen=True)
class Monitoring:
    prometheus: str
    alertmanager: str
    processes: tuple[subprocess.Popen, ...]

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
            process.wait(20)


def available() -> bool:
    return bool(shutil.which("prometheus") and shutil.which("prometheus-alertmanager"))


def start_monitoring(
    stack: Stack,
    *,
    prometheus_port: int,
    alertmanager_port: int,
    interval: str = "5s",
    for_override: str | None = None,
    alertmanager_config: str | None = None,
) -> Monitoring:
    """Start both on loopback with their data under the stack's var dir; wait until they answer."""
    home = stack.config.var_dir / "monitoring"
    home.mkdir(parents=True, exist_ok=True)
    rules = home / "rules.yml"
    rules.write_text(yaml.safe_dump(rule_groups(for_override=for_override), allow_unicode=True))
    config = home / "prometheus.yml"
    config.write_text(yaml.safe_dump(prometheus_config(stack, alertmanager_port, rules, interval)))
    routes = home / "alertmanager.yml"
    routes.write_text(alertmanager_config or ALERTMANAGER.read_text(encoding="utf-8"))
    alertmanager = stack.spawn(
        "alertmanager",
        [
            "prometheus-alertmanager",
            f"--config.file={routes}",
            f"--storage.path={home / 'alertmanager'}",
            f"--web.listen-address=127.0.0.1:{alertmanager_port}",
            "--cluster.listen-address=",
        ],
        env={},
    )
    prometheus = stack.spawn(
        "prometheus",
        [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={home / 'prometheus'}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}",
        ],
        env={},
    )
    running = Monitoring(
        f"http://127.0.0.1:{prometheus_port}",
        f"http://127.0.0.1:{alertmanager_port}",
        (prometheus, alertmanager),
    )
    for url in (running.prometheus, running.alertmanager):
        wait_until(lambda url=url: answers(f"{url}/-/ready"), 60, f"{url} ready")
    return running
