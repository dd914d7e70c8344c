"""The network policies of each overlay, analysed offline by network-config-analyzer together
with the pods and policies the operators create (Strimzi, CloudNativePG) and the pods outside the
namespace: they allow exactly the flows of deploy/k8s/flows.yaml, and none of its denied ones."""

from __future__ import annotations

import pytest

from shaobing_dev import k8s_flows
from shaobing_dev.k8s_operands import strimzi_policies

from .k8s_validation import render

OVERLAYS = ("dev", "prod")


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request) -> tuple[str, list[dict]]:
    return request.param, render(request.param)


def test_the_policies_allow_exactly_the_flows_of_the_table(overlay) -> None:
    name, documents = overlay
    verdict = k8s_flows.check(documents, name)
    assert verdict.holds, verdict.report


def test_a_policy_left_out_is_a_flow_denied() -> None:
    documents = [d for d in render("prod") if d["metadata"]["name"] != "shaobing-kafka-brokers"]
    verdict = k8s_flows.check(documents, "prod")
    assert verdict.extra == [] and verdict.denied_allowed == []
    replication = [line for line in verdict.missing if "dst_ports:9091" in line]
    assert len(replication) == 3 * 2  # each broker to the two others


def test_no_policy_of_ours_takes_the_name_of_one_strimzi_writes(overlay) -> None:
    _, documents = overlay
    ours = {d["metadata"]["name"] for d in documents if d["kind"] == "NetworkPolicy"}
    strimzi = {p["metadata"]["name"] for p in strimzi_policies(documents, "any")}
    assert ours & strimzi == set()


def test_every_flow_names_known_endpoints_one_of_them_ours_and_says_why() -> None:
    for overlay in OVERLAYS:
        endpoints, flows, denied = k8s_flows.load_table(overlay)
        for flow in flows + denied:
            for source, target in k8s_flows.pairs(flow):
                assert k8s_flows.ours(endpoints[source]) or k8s_flows.ours(endpoints[target])
            assert flow["why"] and flow["ports"], flow
