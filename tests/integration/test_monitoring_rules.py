"""The alert rules and their routing, with Prometheus's and Alertmanager's own tools: promtool
unit tests (firing and silent cases of every rule), a summary and an existing runbook for every
rule, and amtool's routing of each severity."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from shaobing_dev.monitoring import ALERTMANAGER, rule_groups
from shaobing_dev.stack import ROOT

MONITORING = ROOT / "deploy" / "monitoring"
RULES = [r for g in rule_groups()["groups"] for r in g["rules"]]


def _run(*argv: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_rules_pass_promtools_unit_tests(tmp_path: Path) -> None:
    rules = tmp_path / "rules.generated.yml"
    rules.write_text(yaml.safe_dump(rule_groups(annotations=False), allow_unicode=True))
    tests = [shutil.copy(t, tmp_path) for t in sorted(MONITORING.glob("rules_test*.yml"))]
    _run("promtool", "check", "rules", rules)
    out = _run("promtool", "test", "rules", *tests, cwd=tmp_path)
    assert out.count("SUCCESS") == len(tests)


def test_every_alert_rule_is_tested_and_has_a_summary_and_a_runbook_that_exists() -> None:
    tested = "".join(t.read_text() for t in MONITORING.glob("rules_test*.yml"))
    for rule in RULES:
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"], rule["alert"]
        page = annotations["runbook_url"].split("/blob/main/")[1]
        assert (ROOT / page).is_file(), page
        assert f"alertname: {rule['alert']}\n" in tested, rule["alert"]
        assert rule["labels"]["severity"] in ("critical", "warning")


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["severity=critical", "alertname=ShaobingServiceDown"], "on-call"),
        (["severity=warning", "alertname=ShaobingAlertsOverdue"], "ops-channel"),
        (["alertname=SomethingElse"], "ops-channel"),
    ],
)
def test_alertmanager_routes_each_severity_to_its_receiver(labels, receiver) -> None:
    _run("amtool", "check-config", ALERTMANAGER)
    _run(
        "amtool",
        "config",
        "routes",
        "test",
        f"--config.file={ALERTMANAGER}",
        f"--verify.receivers={receiver}",
        *labels,
    )
