"""The network flows of deploy/k8s/flows.yaml checked against an overlay's NetworkPolicies with
network-config-analyzer (nca), offline.

The cluster analysed: the overlay's workloads, the pods the operators create and the policies
Strimzi writes (k8s_operands), one pod for each endpoint outside the namespace, and in the
namespace `elsewhere` one pod with the labels of each endpoint (none of them may be let in or out
by a label alone). The table becomes policies of its own that allow exactly its flows; nca's
semantic diff of the two sets of policies over that cluster is every flow that differs, and
`--forbids` says whether the denied ones are. `python -m shaobing_dev.k8s_flows dev|prod` prints
both, `--connectivity` what the overlay allows."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from .k8s_operands import cnpg_pods, network_policy, pod, strimzi_pods, strimzi_policies
from .stack import ROOT

FLOWS = ROOT / "deploy" / "k8s" / "flows.yaml"
OVERLAYS = ROOT / "deploy" / "k8s" / "overlays"
ELSEWHERE = "elsewhere"
NAMESPACE_NAME = "kubernetes.io/metadata.name"
BOTH = ["Ingress", "Egress"]


@dataclass(frozen=True)
class Verdict:
    """What nca found, each a line of its (pod or address => pod or address : connections)."""

    missing: list[str]  # in the table, not allowed
    extra: list[str]  # allowed, not in the table
    denied_allowed: list[str]  # an example of what the policies allow of the denied flows
    report: str

    @property
    def holds(self) -> bool:
        return not (self.missing or self.extra or self.denied_allowed)


def load_table(overlay: str) -> tuple[dict[str, dict], list[dict], list[dict]]:
    """The endpoints, and the flows and denied flows that hold in this overlay."""
    table = yaml.safe_load(FLOWS.read_text(encoding="utf-8"))

    def here(flows: list[dict]) -> list[dict]:
        return [f for f in flows if overlay in f.get("overlays", [overlay])]

    return table["endpoints"], here(table["flows"]), here(table["denied"])


def pairs(flow: dict) -> list[tuple[str, str]]:
    """(source, target) endpoint names: a flow's `from` and `to` may each be a list."""

    def names(value: str | list[str]) -> list[str]:
        return [value] if isinstance(value, str) else value

    return [(s, t) for s in names(flow["from"]) for t in names(flow["to"])]


def _port(value: int | str) -> dict:
    number, _, protocol = str(value).partition("/")
    return {"protocol": protocol or "TCP", "port": int(number)}


def _peers(endpoint: dict) -> list[dict]:
    """As NetworkPolicy peers; none for anywhere (a rule without peers admits all)."""
    if endpoint.get("anywhere"):
        return []
    if "addresses" in endpoint:
        return [{"ipBlock": {"cidr": cidr}} for cidr in endpoint["addresses"]]
    peer = {"podSelector": {"matchLabels": endpoint["pods"]}}
    namespace = endpoint.get("namespace")
    if namespace:
        labels = {} if namespace == "*" else {NAMESPACE_NAME: namespace}
        peer["namespaceSelector"] = {"matchLabels": labels}
    return [peer]


def ours(endpoint: dict) -> bool:
    """Pods of the overlay's namespace."""
    return "pods" in endpoint and "namespace" not in endpoint


def _policy(name: str, namespace: str, pods: dict, direction: str, rule: dict) -> dict:
    """One rule, ingress or egress, for the pods labelled so."""
    selector = {"matchLabels": pods}
    spec = {"podSelector": selector, "policyTypes": [direction.capitalize()], direction: [rule]}
    return network_policy(name, namespace, spec)


def table_policies(endpoints: dict, flows: list[dict], namespace: str) -> list[dict]:
    """Policies that allow exactly these flows to and from the namespace: on each end that is
    ours, an ingress rule for what comes in and an egress rule for what goes out."""
    policies = []
    for i, flow in enumerate(flows):
        ports = [_port(p) for p in flow["ports"]]
        for source, target in pairs(flow):
            name = f"flow-{i}-{source}-{target}"
            src, dst = endpoints[source], endpoints[target]
            if ours(dst):
                rule = {"from": _peers(src), "ports": ports}
                policies.append(_policy(f"{name}-in", namespace, dst["pods"], "ingress", rule))
            if ours(src):
                rule = {"to": _peers(dst), "ports": ports}
                policies.append(_policy(f"{name}-out", namespace, src["pods"], "egress", rule))
    return policies


def _namespace(name: str) -> dict:
    metadata = {"name": name, "labels": {NAMESPACE_NAME: name}}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}


def _endpoint_pods(endpoints: dict[str, dict]) -> list[dict]:
    """A pod for each endpoint outside (one of any namespace lives `elsewhere`), and in
    `elsewhere` one with each endpoint's labels."""
    pods = []
    for name, endpoint in endpoints.items():
        if "pods" not in endpoint:
            continue
        namespace = endpoint.get("namespace")
        if namespace not in (None, "*", ELSEWHERE):  # ours are the overlay's and operators' own
            pods.append(pod(name, namespace, endpoint["pods"]))
        pods.append(pod(f"like-{name}", ELSEWHERE, endpoint["pods"]))
    return pods


def _our_namespace(documents: list[dict]) -> str:
    return next(d for d in documents if d["kind"] == "Deployment")["metadata"]["namespace"]


def cluster(documents: list[dict], endpoints: dict[str, dict]) -> list[dict]:
    """Namespaces and every pod: the overlay's workloads, the operators', the endpoints'."""
    workloads = [d for d in documents if d["kind"] in ("Deployment", "StatefulSet", "Job")]
    namespace = _our_namespace(documents)
    pods = strimzi_pods(documents, namespace) + cnpg_pods(documents, namespace)
    pods += _endpoint_pods(endpoints)
    namespaces = {namespace} | {p["metadata"]["namespace"] for p in pods}
    return [_namespace(n) for n in sorted(namespaces)] + workloads + pods


def _nca(*arguments: str) -> tuple[int, str]:
    run = subprocess.run([sys.executable, "-m", "nca", *arguments], capture_output=True, text=True)
    if run.returncode not in (0, 1):
        raise RuntimeError(f"nca {' '.join(arguments)}: {run.returncode}\n{run.stdout}{run.stderr}")
    return run.returncode, run.stdout


def _write(path: Path, documents: list[dict]) -> str:
    path.write_text(yaml.safe_dump_all(documents), encoding="utf-8")
    return str(path)


def _configs(documents: list[dict], overlay: str, directory: Path) -> dict[str, list[str]]:
    """nca's resource lists: the cluster with the overlay's policies, the table's, the denied."""
    endpoints, flows, denied = load_table(overlay)
    pods = _write(directory / "cluster.yaml", cluster(documents, endpoints))
    namespace = _our_namespace(documents)
    actual = [d for d in documents if d["kind"] == "NetworkPolicy"]
    actual += strimzi_policies(documents, namespace)
    deny_all = network_policy("deny-all", namespace, {"podSelector": {}, "policyTypes": BOTH})
    expected = [deny_all, *table_policies(endpoints, flows, namespace)]
    return {  # nca names a configuration after its first file
        name: [_write(directory / f"{name}.yaml", policies), pods]
        for name, policies in [
            ("actual", actual),
            ("expected", expected),
            ("denied", table_policies(endpoints, denied, namespace)),
        ]
    }


def _resources(option: str, files: list[str]) -> list[str]:
    return [argument for f in files for argument in (option, f)]


def check(documents: list[dict], overlay: str) -> Verdict:
    """nca's semantic diff of the overlay's policies against the table, and its forbids query
    of the denied flows."""
    with tempfile.TemporaryDirectory() as directory:
        configs = _configs(documents, overlay, Path(directory))
        actual, expected = configs["actual"], configs["expected"]
        differs, diff = _nca(
            "--semantic_diff",
            *_resources("--resource_list", actual),
            *_resources("--base_resource_list", expected),
            "--output_format",
            "txt_no_fw_rules",
        )
        allows, forbids = _nca(
            "--forbids",
            *_resources("--resource_list", configs["denied"]),
            *_resources("--base_resource_list", actual),
        )
    missing, extra = _differences(diff) if differs else ([], [])
    denied = [line for line in forbids.splitlines() if line.startswith("src:")] if allows else []
    return Verdict(missing, extra, denied, diff + forbids)


def _differences(diff: str) -> tuple[list[str], list[str]]:
    """The semantic diff's lines: removed from the table's connectivity, added to it."""
    missing: list[str] = []
    extra: list[str] = []
    section = extra
    for line in diff.splitlines():
        if line.startswith(("Added connections", "Removed connections")):
            section = extra if line.startswith("Added") else missing
        elif " => " in line:
            section.append(line)
    return missing, extra


def connectivity(documents: list[dict], overlay: str) -> str:
    """What the overlay's policies allow, as nca's firewall rules."""
    with tempfile.TemporaryDirectory() as directory:
        actual = _configs(documents, overlay, Path(directory))["actual"]
        return _nca("--connectivity", *_resources("--resource_list", actual))[1]


def render(overlay: str) -> list[dict]:
    """kubectl kustomize deploy/k8s/overlays/<overlay>."""
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(OVERLAYS / overlay)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [d for d in yaml.safe_load_all(rendered.stdout) if d]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overlay", choices=sorted(p.name for p in OVERLAYS.iterdir()))
    parser.add_argument("--connectivity", action="store_true", help="print what it allows")
    args = parser.parse_args()
    documents = render(args.overlay)
    if args.connectivity:
        print(connectivity(documents, args.overlay))
        return
    verdict = check(documents, args.overlay)
    print(verdict.report)
    denied = verdict.denied_allowed or "none"
    print(
        f"{args.overlay}: {len(verdict.missing)} connections of the table denied,"
        f" {len(verdict.extra)} allowed beyond it, of the denied flows allowed: {denied}"
    )
    sys.exit(0 if verdict.holds else 1)


if __name__ == "__main__":
    main()
