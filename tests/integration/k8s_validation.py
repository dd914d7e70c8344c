"""Validating rendered manifests offline: core kinds with kubernetes-validate (strict), custom
resources against the CRD schemas in ../shared/schemas/k8s-crds/ made strict (no unknown field
anywhere a schema lists its properties), or for the kinds it lacks against the project's own in
k8s_schemas/ (the fields Shaobing uses, strict the same way)."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

from shaobing_dev.stack import ROOT

CRDS = ROOT.parent / "shared" / "schemas" / "k8s-crds"
K8S_VERSION = "1.33.0"
OWN_SCHEMAS = Path(__file__).parent / "k8s_schemas"
OVERLAYS = ROOT / "deploy" / "k8s" / "overlays"


def render(overlay: str) -> list[dict]:
    out = subprocess.run(
        ["kubectl", "kustomize", str(OVERLAYS / overlay)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def mappings(node: object) -> Iterator[dict]:
    """Every mapping in a parsed YAML or JSON document, nested ones included."""
    if isinstance(node, dict):
        yield node
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return
    for child in children:
        yield from mappings(child)


def strict(schema: dict) -> dict:
    """additionalProperties: false on every object schema that lists properties and does not
    preserve unknown fields (the CRDs leave it open: the API server prunes instead)."""
    schema = copy.deepcopy(schema)
    for node in mappings(schema):
        if (
            "properties" in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
            and "additionalProperties" not in node
        ):
            node["additionalProperties"] = False
    return schema


@cache
def crd_schema(api_version: str, kind: str) -> dict | None:
    group, _, version = api_version.partition("/")
    name = f"{group}_{version}_{kind}"
    if (CRDS / f"{name}.json").exists():
        schema = strict(json.loads((CRDS / f"{name}.json").read_text()))
    elif (OWN_SCHEMAS / f"{name}.yaml").exists():
        schema = strict(yaml.safe_load((OWN_SCHEMAS / f"{name}.yaml").read_text()))
    else:
        return None
    schema["properties"] |= {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
    }
    return schema


def problems(document: dict) -> list[str]:
    """What is wrong with one manifest; a kind without any schema is a problem too."""
    api_version, kind = document.get("apiVersion", ""), document.get("kind", "")
    name = f"{kind}/{document.get('metadata', {}).get('name')}"
    group = api_version.split("/")[0] if "/" in api_version else ""
    if "." in group and not group.endswith(".k8s.io"):  # a custom resource
        schema = crd_schema(api_version, kind)
        if schema is None:
            return [f"{name}: no schema for {api_version} {kind}"]
        validator = jsonschema.Draft7Validator(schema)
        return [f"{name}: {e.json_path}: {e.message}" for e in validator.iter_errors(document)]
    try:
        kubernetes_validate.validate(document, K8S_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError as exc:
        return [f"{name}: no schema ({exc})"]
    except kubernetes_validate.ValidationError as exc:
        return [f"{name}: {exc.message} at {list(exc.path)}"]
    return []


def save_rendered(documents: list[dict], path: Path) -> None:
    path.write_text("".join("---\n" + yaml.safe_dump(d) for d in documents))
