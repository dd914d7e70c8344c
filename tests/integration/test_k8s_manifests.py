"""The Kubernetes manifests as rendered by kustomize (dev and prod): every object valid against
its schema, strictly; the pieces referring to each other consistent; the Kafka resources in step
with the contracts. Only on paper: that the operators reconcile them (docs/operations.md)."""

from __future__ import annotations

import copy

import pytest

from shaobing_contracts.topics import TOPICS
from shaobing_dev import k8s_kafka

from .k8s_validation import problems, render

OVERLAYS = ("dev", "prod")
PROBE_PATHS = {"/healthz", "/readyz"}  # what create_service_app and the matcher's web serve


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request) -> list[dict]:
    return render(request.param)


def _of(documents: list[dict], kind: str) -> list[dict]:
    return [d for d in documents if d["kind"] == kind]


def _pod_labels(documents: list[dict]) -> list[dict]:
    workloads = [d for d in documents if d["kind"] in ("Deployment", "StatefulSet", "Job")]
    return [w["spec"]["template"]["metadata"]["labels"] for w in workloads]


def test_every_object_is_valid_against_its_schema(rendered: list[dict]) -> None:
    found = [p for d in rendered for p in problems(d)]
    assert found == []


@pytest.mark.parametrize(
    ("kind", "path", "typo"),
    [
        ("Deployment", ["spec", "template", "spec"], "containerz"),
        ("KafkaNodePool", ["spec"], "replicaz"),
        ("Cluster", ["spec", "storage"], "sise"),
        ("KafkaTopic", ["spec", "config"], None),  # config is free-form: a typo there is Kafka's
    ],
)
def test_a_misspelled_field_fails(rendered: list[dict], kind: str, path: list[str], typo) -> None:
    document = copy.deepcopy(_of(rendered, kind)[0])
    node = document
    for key in path:
        node = node[key]
    node[typo or "retention.msx"] = 1
    assert bool(problems(document)) is (typo is not None)


def test_every_service_selects_a_workload_and_every_monitor_a_service(rendered) -> None:
    pods = _pod_labels(rendered)
    services = _of(rendered, "Service")
    for service in services:
        selector = service["spec"]["selector"]
        assert any(selector.items() <= labels.items() for labels in pods), service["metadata"]
    names = {s["metadata"]["labels"]["app.kubernetes.io/name"] for s in services}
    for monitor in _of(rendered, "ServiceMonitor"):
        wanted = monitor["spec"]["selector"]["matchExpressions"][0]["values"]
        assert set(wanted) <= names
    for budget in _of(rendered, "PodDisruptionBudget"):
        selector = budget["spec"]["selector"]["matchLabels"]
        assert any(selector.items() <= labels.items() for labels in pods)


def test_every_probe_asks_a_path_the_services_serve(rendered) -> None:
    for workload in _of(rendered, "Deployment") + _of(rendered, "StatefulSet"):
        for container in workload["spec"]["template"]["spec"]["containers"]:
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                if probe in container:
                    assert container[probe]["httpGet"]["path"] in PROBE_PATHS


def test_every_topic_a_service_uses_has_its_kafka_topic_and_acl(rendered) -> None:
    topics = {t["spec"]["topicName"] for t in _of(rendered, "KafkaTopic")}
    users = {u["metadata"]["name"]: u for u in _of(rendered, "KafkaUser")}
    for spec in TOPICS.values():
        assert str(spec.topic) in topics
        for service, operation in [(p, "Write") for p in spec.producers] + [
            (c, "Read") for c in spec.consumers
        ]:
            acls = users[f"shaobing-{service}"]["spec"]["authorization"]["acls"]
            allowed = {(a["resource"]["name"], op) for a in acls for op in a["operations"]}
            assert (str(spec.topic), operation) in allowed, (service, spec.topic)


def test_the_kafka_resources_are_generated_from_the_contracts() -> None:
    for path, text in k8s_kafka.generated().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name}: run shaobing_dev.k8s_kafka"


def test_secrets_are_referenced_never_inlined(rendered) -> None:
    assert _of(rendered, "Secret") == []
    config = _of(rendered, "ConfigMap")[0]["data"]
    assert not any(k in config for k in ("JWT_SECRET", "PGPASSWORD", "AUDIT_CHAIN_KEY"))
    assert "@" not in config["DATABASE_URL"]  # who connects, and how, is in a Secret


def _env(workload: dict) -> dict[str, dict]:
    containers = workload["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e for c in containers for e in c.get("env", [])}


def _secret(variable: dict) -> tuple[str, str]:
    ref = variable["valueFrom"]["secretKeyRef"]
    return ref["name"], ref["key"]


def test_migrations_run_as_the_owner_and_the_services_as_a_role_that_owns_nothing(rendered):
    workloads = {
        w["metadata"]["labels"]["app.kubernetes.io/name"]: w
        for w in _of(rendered, "Deployment") + _of(rendered, "Job")
    }
    assert _secret(_env(workloads["shaobing-migrate"])["DATABASE_URL"]) == (
        "shaobing-db-app",
        "uri",
    )
    for name in ("shaobing-ingest", "shaobing-alerts", "shaobing-api"):
        env = _env(workloads[name])
        assert "DATABASE_URL" not in env, name  # the ConfigMap's, with no one in it
        assert _secret(env["PGUSER"]) == ("shaobing-db-service", "username"), name
        assert _secret(env["PGPASSWORD"]) == ("shaobing-db-service", "password"), name
    [cluster] = _of(rendered, "Cluster")
    roles = {r["name"]: r for r in cluster["spec"]["managed"]["roles"]}
    assert (roles["shaobing_app"]["login"], roles["shaobing_app"]["bypassrls"]) == (True, True)
    assert roles["shaobing_app"]["inRoles"] == ["shaobing_service"]
    assert roles["shaobing_app"]["passwordSecret"]["name"] == "shaobing-db-service"
    assert roles["shaobing_service"]["inRoles"] == ["shaobing_scoped"]
    assert not roles["shaobing_service"]["login"]


def test_only_the_services_that_append_hold_the_audit_key_and_the_api_its_anchors(rendered):
    workloads = _of(rendered, "Deployment") + _of(rendered, "StatefulSet") + _of(rendered, "Job")
    holders = {w["metadata"]["name"] for w in workloads if "AUDIT_CHAIN_KEY" in _env(w)}
    assert holders == {"shaobing-api", "shaobing-alerts", "shaobing-ingest"}  # not the matcher
    [api] = [w for w in workloads if w["metadata"]["name"] == "shaobing-api"]
    [container] = api["spec"]["template"]["spec"]["containers"]
    anchors = _of(rendered, "ConfigMap")[0]["data"]["AUDIT_ANCHOR_DIR"]
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == anchors]
    [volume] = [v for v in api["spec"]["template"]["spec"]["volumes"] if v["name"] == mount["name"]]
    claims = {c["metadata"]["name"] for c in _of(rendered, "PersistentVolumeClaim")}
    assert volume["persistentVolumeClaim"]["claimName"] in claims


def test_prod_runs_three_brokers_three_controllers_and_three_database_instances() -> None:
    prod = render("prod")
    pools = {p["metadata"]["name"]: p["spec"] for p in _of(prod, "KafkaNodePool")}
    assert pools["brokers"]["replicas"] == 3 and pools["brokers"]["roles"] == ["broker"]
    assert pools["controllers"]["replicas"] == 3 and pools["controllers"]["roles"] == ["controller"]
    [database] = _of(prod, "Cluster")
    assert database["spec"]["instances"] == 3
    assert database["spec"]["monitoring"]["enablePodMonitor"] is True
