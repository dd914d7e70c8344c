"""deploy/k8s/base/kafka-topics.yaml and kafka-users.yaml, generated from the one place topics
are defined (shaobing_contracts.topics): a Strimzi KafkaTopic per topic (partitions, retention,
compaction) plus the matcher's changelogs, and a KafkaUser per service whose ACLs allow exactly
the topics it produces and consumes and its consumer group. `python -m shaobing_dev.k8s_kafka`
writes them; a test fails when they drift from the contracts."""

from __future__ import annotations

from pathlib import Path

import yaml

from shaobing_contracts.topics import TOPICS

from .stack import ROOT

BASE = ROOT / "deploy" / "k8s" / "base"
CLUSTER = "shaobing"
PARTITIONS = 12  # = TOPIC_PARTITIONS in configmap.yaml: person-keyed topics are co-partitioned
MATCHER = "shaobing-matcher"  # MATCHER_APP_ID: the prefix of its groups and changelogs
# The matcher's two batched streams (adapters/batched_stream.py), each with its consumer group
# and the compacted changelog of its state: the hot path (person states) and the enrolment
# fan-out (each enrolment's members). faust itself joins no group and keeps no table.
CHANGELOGS = (f"{MATCHER}-person-state-changelog", f"{MATCHER}-enrolment-state-changelog")
GROUPS = {
    "matcher": (f"{MATCHER}-enrolments", f"{MATCHER}-persons"),
    "alerts": ("shaobing-alerts",),
    "ingest": ("shaobing-ingest-debezium",),
}
UPSTREAM_PREFIX = "civil."  # Debezium's topic prefix (its connector name), read by ingest
HEADER = "# Generated from shaobing_contracts.topics by `python -m shaobing_dev.k8s_kafka`.\n"


def _topic(name: str, *, compacted: bool, retention_days: int | None) -> dict:
    config = {"min.insync.replicas": 2, "cleanup.policy": "compact" if compacted else "delete"}
    if retention_days and not compacted:
        config["retention.ms"] = retention_days * 24 * 3600 * 1000
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaTopic",
        "metadata": {"name": name, "labels": {"strimzi.io/cluster": CLUSTER}},
        "spec": {"topicName": name, "partitions": PARTITIONS, "replicas": 3, "config": config},
    }


def topics() -> list[dict]:
    declared = [
        _topic(str(s.topic), compacted=s.compacted, retention_days=s.retention_days)
        for s in TOPICS.values()
    ]
    return declared + [_topic(c, compacted=True, retention_days=None) for c in CHANGELOGS]


def _acl(kind: str, name: str, operations: list[str], pattern: str = "literal") -> dict:
    resource = {"type": kind, "name": name, "patternType": pattern}
    return {"resource": resource, "operations": operations}


def service_topics(service: str) -> tuple[list[str], list[str]]:
    """(produced, consumed) topic names of a service, as the contracts say."""
    produced = [str(s.topic) for s in TOPICS.values() if service in s.producers]
    consumed = [str(s.topic) for s in TOPICS.values() if service in s.consumers]
    return produced, consumed


def users() -> list[dict]:
    result = []
    for service in ("ingest", "matcher", "alerts", "api"):
        produced, consumed = service_topics(service)
        acls = [_acl("topic", t, ["Write", "Describe"]) for t in produced]
        acls += [_acl("topic", t, ["Read", "Describe"]) for t in consumed]
        if service == "matcher":  # its streams' changelogs: written, read back on recovery
            acls += [_acl("topic", c, ["Read", "Write", "Describe"]) for c in CHANGELOGS]
        if service == "ingest":
            acls.append(_acl("topic", UPSTREAM_PREFIX, ["Read", "Describe"], "prefix"))
        acls += [_acl("group", group, ["Read"]) for group in GROUPS.get(service, ())]
        result.append(
            {
                "apiVersion": "kafka.strimzi.io/v1",
                "kind": "KafkaUser",
                "metadata": {
                    "name": f"shaobing-{service}",
                    "labels": {"strimzi.io/cluster": CLUSTER},
                },
                "spec": {
                    "authentication": {"type": "scram-sha-512"},
                    "authorization": {"type": "simple", "acls": acls},
                },
            }
        )
    return result


def render(documents: list[dict]) -> str:
    return HEADER + "".join("---\n" + yaml.safe_dump(d, sort_keys=False) for d in documents)


def generated() -> dict[Path, str]:
    return {
        BASE / "kafka-topics.yaml": render(topics()),
        BASE / "kafka-users.yaml": render(users()),
    }


def main() -> None:
    for path, text in generated().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
