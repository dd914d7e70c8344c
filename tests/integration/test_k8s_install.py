"""A first install converges by itself, read from the rendered overlays (dev, prod): topics that
fit the brokers, one migration Job per release, the image and the monitoring labels per overlay,
backups through the Barman Cloud plugin, every Secret made by an operator or by the install
walk-through (deploy/k8s/README.md), and every resource the walk-through names rendered."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

from shaobing_dev.stack import ROOT

from .conftest import fetch
from .k8s_validation import mappings, render

OVERLAYS = ("dev", "prod")
WALKTHROUGH = ROOT / "deploy" / "k8s" / "README.md"
BARMAN_CLOUD = "barman-cloud.cloudnative-pg.io"
# Secrets the operators write, with the keys the manifests read from them.
CNPG_APP_KEYS = {"uri", "username", "password", "host", "port", "dbname"}
STRIMZI_USER_KEYS = {"password", "sasl.jaas.config"}


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request) -> list[dict]:
    return render(request.param)


def _of(documents: list[dict], kind: str) -> list[dict]:
    return [d for d in documents if d["kind"] == kind]


def _name(document: dict) -> str:
    return document["metadata"]["name"]


def _containers(documents: list[dict]) -> list[dict]:
    workloads = [d for d in documents if d["kind"] in ("Deployment", "StatefulSet", "Job")]
    return [c for w in workloads for c in w["spec"]["template"]["spec"]["containers"]]


def _brokers(documents: list[dict]) -> int:
    pools = _of(documents, "KafkaNodePool")
    return sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])


def _fits(replicas: int, min_insync: int, brokers: int) -> bool:
    """A write is accepted with a broker down (when there is more than one)."""
    return replicas <= brokers and 1 <= min_insync <= max(1, replicas - 1)


def test_every_topic_fits_the_brokers_of_its_overlay(rendered) -> None:
    brokers = _brokers(rendered)
    for topic in _of(rendered, "KafkaTopic"):
        spec = topic["spec"]
        assert _fits(spec["replicas"], int(spec["config"]["min.insync.replicas"]), brokers), (
            _name(topic),
            brokers,
        )
    [kafka] = _of(rendered, "Kafka")
    config = kafka["spec"]["kafka"]["config"]
    assert _fits(config["default.replication.factor"], config["min.insync.replicas"], brokers)
    state_log = config["transaction.state.log.replication.factor"]
    assert _fits(state_log, config.get("transaction.state.log.min.isr", 1), brokers)
    assert config["offsets.topic.replication.factor"] <= brokers


def test_one_migration_job_per_release(rendered) -> None:
    """Named after the image's tag: the next release's apply makes a new Job."""
    [job] = _of(rendered, "Job")
    [image] = {c["image"] for c in _containers(rendered)}  # one image, one release
    assert _name(job) == f"shaobing-migrate-{image.rsplit(':', 1)[1]}"


def test_prod_pulls_its_image_from_a_registry() -> None:
    for container in _containers(render("prod")):
        registry = container["image"].split("/")[0]
        assert "/" in container["image"] and ("." in registry or ":" in registry), container


def test_monitors_and_rules_carry_the_label_their_prometheus_selects(rendered) -> None:
    kinds = ("ServiceMonitor", "PodMonitor", "PrometheusRule")
    found = {
        d["metadata"].get("labels", {}).get("release") for k in kinds for d in _of(rendered, k)
    }
    assert len(found) == 1 and None not in found  # one Prometheus, set by the overlay


def test_prod_backs_up_through_the_barman_cloud_plugin_every_night() -> None:
    prod = render("prod")
    [cluster] = _of(prod, "Cluster")
    assert "backup" not in cluster["spec"]  # the deprecated in-tree barmanObjectStore
    [plugin] = [p for p in cluster["spec"]["plugins"] if p["name"] == BARMAN_CLOUD]
    assert plugin["isWALArchiver"] is True
    assert plugin["parameters"]["barmanObjectName"] in {_name(o) for o in _of(prod, "ObjectStore")}
    [nightly] = _of(prod, "ScheduledBackup")
    assert nightly["spec"]["cluster"]["name"] == _name(cluster)
    assert nightly["spec"]["method"] == "plugin"
    assert nightly["spec"]["pluginConfiguration"]["name"] == BARMAN_CLOUD


def _secret_refs(documents: list[dict]) -> set[tuple[str, str]]:
    """(Secret, key) of everything in the documents that reads one."""
    refs = {
        (node["secretKeyRef"]["name"], node["secretKeyRef"]["key"])
        for node in mappings(documents)
        if "secretKeyRef" in node
    }
    refs |= {  # CloudNativePG's and the Barman Cloud plugin's secret key selectors
        (node["name"], node["key"])
        for node in mappings(documents)
        if set(node) == {"name", "key"} and isinstance(node["key"], str)
    }
    for cluster in _of(documents, "Cluster"):
        for role in cluster["spec"].get("managed", {}).get("roles", []):
            if "passwordSecret" in role:  # a basic-auth Secret: CNPG reads both keys
                name = role["passwordSecret"]["name"]
                refs |= {(name, "username"), (name, "password")}
    return refs


def _operator_made(documents: list[dict]) -> dict[str, set[str]]:
    made = {f"{_name(c)}-app": CNPG_APP_KEYS for c in _of(documents, "Cluster")}
    return made | {_name(u): STRIMZI_USER_KEYS for u in _of(documents, "KafkaUser")}


def _created_in_walkthrough() -> dict[str, set[str]]:
    """The Secrets the walk-through's commands create, with their keys."""
    text = WALKTHROUGH.read_text(encoding="utf-8").replace("\\\n", " ")
    created = {}
    for line in text.splitlines():
        if found := re.search(r"kubectl .*create secret generic ([\w-]+)", line):
            created[found[1]] = set(re.findall(r"--from-literal=([\w.-]+)=", line))
    return created


def test_every_secret_is_made_by_an_operator_or_by_the_walkthrough(rendered) -> None:
    made = _operator_made(rendered) | _created_in_walkthrough()
    missing = {(s, k) for s, k in _secret_refs(rendered) if k not in made.get(s, set())}
    assert missing == set()


def test_the_walkthrough_creates_no_secret_that_nothing_reads() -> None:
    read = {s for overlay in OVERLAYS for s, _ in _secret_refs(render(overlay))}
    assert set(_created_in_walkthrough()) <= read


def _named_in_walkthrough() -> set[tuple[str, str]]:
    """(kind, name) of every `kind/name` the walk-through's kubectl commands name."""
    text = WALKTHROUGH.read_text(encoding="utf-8").replace("\\\n", " ")
    commands = [line for line in text.splitlines() if line.lstrip().startswith("kubectl ")]
    tokens = [t for c in commands for t in c.split()]
    found = {
        m.groups() for t in tokens if (m := re.fullmatch(r"([a-z][a-z.]*)/([a-z0-9][\w.-]*)", t))
    }
    return {(kind.split(".")[0], name) for kind, name in found}


def test_every_resource_the_walkthrough_names_is_rendered() -> None:
    rendered = {(d["kind"].lower(), _name(d)) for d in render("prod")}
    named = _named_in_walkthrough()
    assert len(named) >= 5  # the walk-through waits for Kafka, the database, the Job, …
    assert named <= rendered


def test_the_migration_job_waits_for_the_database_to_exist(stack) -> None:
    """A first install: the Job starts before CloudNativePG has made the database."""
    name = f"later_{uuid.uuid4().hex[:8]}"
    url = urlunsplit(urlsplit(stack.owner_database_url)._replace(path=f"/{name}"))
    job = subprocess.Popen(
        [sys.executable, "-m", "shaobing_runtime.database"],
        env={"DATABASE_URL": url, "MIGRATE_WAIT_SECONDS": "60", "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(3)
    assert job.poll() is None  # still waiting, not failed
    owner = urlsplit(stack.owner_database_url).username
    fetch(stack.superuser_database_url, f"create database {name} owner {owner}")  # as initdb
    out, _ = job.communicate(timeout=60)
    assert job.returncode == 0, out
    assert "not ready yet" in out and "migrations applied: 0001" in out
