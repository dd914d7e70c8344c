"""What the operators create beside our workloads, for analysing the network policies offline:
the pods of Strimzi 1.x (each node pool's brokers and controllers, the entity operator) and of
CloudNativePG (instances, their initdb and join jobs), and the NetworkPolicies Strimzi writes for
its pods. Each is derived from the rendered custom resources, with the labels and ports that the
operators' sources give them (Strimzi's KafkaPool, KafkaCluster.generateNetworkPolicy and
EntityOperator; CloudNativePG's pkg/specs/pods.go and jobs.go)."""

from __future__ import annotations

STRIMZI_OPERATOR = {"strimzi.io/kind": "cluster-operator"}
STRIMZI_MANAGER = "strimzi-cluster-operator"
CONTROL_PLANE, REPLICATION, KAFKA_AGENT = 9090, 9091, 8443
TOPIC_OPERATOR, USER_OPERATOR = 8080, 8081  # their health checks and metrics
METRICS, JMX = 9404, 9999


def pod(name: str, namespace: str, labels: dict, ports: dict[str, int] | None = None) -> dict:
    """A Pod with named container ports."""
    container = {"name": "main", "image": "synthetic"}
    if ports:
        container["ports"] = [{"name": n, "containerPort": p} for n, p in ports.items()]
    metadata = {"name": name, "namespace": namespace, "labels": labels}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"containers": [container]},
    }


def _of(documents: list[dict], kind: str) -> list[dict]:
    return [d for d in documents if d["kind"] == kind]


def _kafka(documents: list[dict]) -> dict:
    [kafka] = _of(documents, "Kafka")
    others = set(kafka["spec"]) - {"kafka", "entityOperator"}
    if others:  # Kafka Exporter, Cruise Control: pods and policies of their own
        raise ValueError(f"the emulation of Strimzi knows no {sorted(others)}")
    return kafka


def _strimzi_labels(cluster: str, name: str, component: str) -> dict:
    """Labels.generateDefaultLabels: on every pod Strimzi makes for a Kafka."""
    return {
        "strimzi.io/cluster": cluster,
        "strimzi.io/kind": "Kafka",
        "strimzi.io/name": f"{cluster}-{name}",
        "strimzi.io/component-type": component,
        "app.kubernetes.io/name": component,
        "app.kubernetes.io/instance": cluster,
        "app.kubernetes.io/part-of": f"strimzi-{cluster}",
        "app.kubernetes.io/managed-by": STRIMZI_MANAGER,
    }


def _port_name(listener: dict) -> str:
    """ListenersUtils.backwardsCompatiblePortName."""
    legacy = {("plain", 9092): "tcp-clients", ("tls", 9093): "tcp-clientstls"}
    return legacy.get((listener["name"], listener["port"]), f"tcp-{listener['name']}")


def _node_pods(kafka: dict, pool: dict, first_id: int, namespace: str) -> list[dict]:
    cluster, name = kafka["metadata"]["name"], pool["metadata"]["name"]
    broker, controller = "broker" in pool["spec"]["roles"], "controller" in pool["spec"]["roles"]
    # The pool's labels are kept but app.kubernetes.io/* (STRIMZI_LABELS_EXCLUSION_PATTERN).
    own = {
        k: v for k, v in pool["metadata"].get("labels", {}).items() if "app.kubernetes.io/" not in k
    }
    labels = own | _strimzi_labels(cluster, "kafka", "kafka") | {"strimzi.io/pool-name": name}
    labels |= {"strimzi.io/broker-role": str(broker).lower()}
    labels |= {"strimzi.io/controller-role": str(controller).lower()}
    ports = {"tcp-kafkaagent": KAFKA_AGENT}
    if controller:
        ports["tcp-ctrlplane"] = CONTROL_PLANE
    if broker:  # the replication listener and the users' listeners are on brokers only
        ports["tcp-replication"] = REPLICATION
        ports |= {_port_name(x): x["port"] for x in kafka["spec"]["kafka"]["listeners"]}
    names = [f"{cluster}-{name}-{first_id + i}" for i in range(pool["spec"]["replicas"])]
    return [pod(n, namespace, labels | {"strimzi.io/pod-name": n}, ports) for n in names]


def strimzi_pods(documents: list[dict], namespace: str) -> list[dict]:
    """The node pools' pods (node ids numbered across the pools) and the entity operator."""
    kafka = _kafka(documents)
    cluster = kafka["metadata"]["name"]
    pools = [
        p
        for p in _of(documents, "KafkaNodePool")
        if p["metadata"]["labels"]["strimzi.io/cluster"] == cluster
    ]
    pods, next_id = [], 0
    for pool in pools:
        pods += _node_pods(kafka, pool, next_id, namespace)
        next_id += pool["spec"]["replicas"]
    if "entityOperator" in kafka["spec"]:
        labels = _strimzi_labels(cluster, "entity-operator", "entity-operator")
        ports = {"healthcheck-to": TOPIC_OPERATOR, "healthcheck-uo": USER_OPERATOR}
        pods.append(pod(f"{cluster}-entity-operator", namespace, labels, ports))
    return pods


def _ingress(port: int, peers: list[dict]) -> dict:
    """NetworkPolicyUtils.createIngressRule: no peers is anyone."""
    return {"ports": [{"protocol": "TCP", "port": port}], "from": peers}


def network_policy(name: str, namespace: str, spec: dict) -> dict:
    """A NetworkPolicy of this spec."""
    metadata = {"name": name, "namespace": namespace}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata,
        "spec": spec,
    }


def _policy(name: str, namespace: str, selector: dict, rules: list[dict]) -> dict:
    return network_policy(
        name, namespace, {"podSelector": {"matchLabels": selector}, "ingress": rules}
    )


def strimzi_policies(documents: list[dict], namespace: str) -> list[dict]:
    """The NetworkPolicies Strimzi writes (STRIMZI_NETWORK_POLICY_GENERATION, on by default) for
    the Kafka nodes and the entity operator: ingress only, the operator in another namespace
    without STRIMZI_OPERATOR_NAMESPACE_LABELS (then any namespace is admitted)."""
    kafka = _kafka(documents)
    cluster, spec = kafka["metadata"]["name"], kafka["spec"]["kafka"]

    def selector(name: str) -> dict:
        return {"strimzi.io/cluster": cluster, "strimzi.io/name": name, "strimzi.io/kind": "Kafka"}

    def component(name: str) -> dict:
        return {"podSelector": {"matchLabels": {"strimzi.io/name": f"{cluster}-{name}"}}}

    nodes = {"podSelector": {"matchLabels": selector(f"{cluster}-kafka")}}
    operator = {"podSelector": {"matchLabels": STRIMZI_OPERATOR}, "namespaceSelector": {}}
    tools = [component(c) for c in ("entity-operator", "kafka-exporter", "cruise-control")]
    rules = [
        _ingress(CONTROL_PLANE, [nodes, operator]),
        _ingress(REPLICATION, [operator, nodes, *tools]),
        _ingress(KAFKA_AGENT, [operator]),
        *(_ingress(x["port"], x.get("networkPolicyPeers", [])) for x in spec["listeners"]),
        *([_ingress(METRICS, [])] if "metricsConfig" in spec else []),
        *([_ingress(JMX, [])] if "jmxOptions" in spec else []),
    ]
    name = f"{cluster}-network-policy-kafka"
    policies = [_policy(name, namespace, selector(f"{cluster}-kafka"), rules)]
    operators = kafka["spec"].get("entityOperator")
    if operators is not None:
        ports = [TOPIC_OPERATOR] * ("topicOperator" in operators)
        ports += [USER_OPERATOR] * ("userOperator" in operators)
        eo = f"{cluster}-entity-operator"
        policies.append(_policy(eo, namespace, selector(eo), [_ingress(p, []) for p in ports]))
    return policies


def _cnpg_labels(cluster: dict, instance: str) -> dict:
    name = cluster["metadata"]["name"]
    return {
        "cnpg.io/cluster": name,
        "cnpg.io/instanceName": instance,
        "app.kubernetes.io/name": "postgresql",
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/component": "database",
        "app.kubernetes.io/managed-by": "cloudnative-pg",
    }


def cnpg_pods(documents: list[dict], namespace: str) -> list[dict]:
    """Each Cluster's instances (the first the primary, as the instance manager labels them), the
    first one's initdb job and the others' join jobs (pg_basebackup from the primary)."""
    pods = []
    for cluster in _of(documents, "Cluster"):
        name = cluster["metadata"]["name"]
        for n in range(1, cluster["spec"]["instances"] + 1):
            instance = f"{name}-{n}"
            role = "primary" if n == 1 else "replica"
            labels = _cnpg_labels(cluster, instance) | {"cnpg.io/podRole": "instance"}
            labels |= {"cnpg.io/instanceRole": role, "role": role}
            ports = {"postgresql": 5432, "metrics": 9187, "status": 8000}
            pods.append(pod(instance, namespace, labels, ports))
            job = "initdb" if n == 1 else "join"
            labels = _cnpg_labels(cluster, instance) | {"cnpg.io/jobRole": job}
            pods.append(pod(f"{instance}-{job}", namespace, labels))
    return pods
