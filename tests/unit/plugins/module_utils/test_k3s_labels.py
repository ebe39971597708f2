"""Node labels and taints, as the kubelet validates them."""

from __future__ import annotations

import pytest

from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_labels import kubelet_refuses

from ..helpers import assert_problem, assert_warning, run


def test_labels_as_list_and_mapping():
    assert run(node_labels=["site=berlin", "edgefleet.io/tier=edge", "empty="]).values["node_labels"] == [
        "site=berlin", "edgefleet.io/tier=edge", "empty="]
    assert run(node_labels={"site": "berlin", "gpu": None}).values["node_labels"] == ["site=berlin", "gpu="]


def test_label_without_equals():
    assert_problem(run(node_labels=["worker"]), "k3s_node_labels: 'worker' has no '='", "Write 'worker=<value>'")


def test_label_value_too_long():
    assert_problem(run(node_labels=["a=" + "x" * 64]), "the value has 64 characters (at most 63)")


def test_label_value_bad_characters():
    assert_problem(run(node_labels=["a=hello world"]), "is not a valid label", "the value may only hold")


def test_label_prefix_must_be_dns():
    assert_problem(run(node_labels=["Bad_Prefix/x=1"]), "the prefix 'Bad_Prefix' must be a lower-case DNS name")


def test_node_role_label_is_refused_by_the_kubelet():
    assert_problem(run(node_labels=["node-role.kubernetes.io/worker=true"]),
                   "unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: "
                   "[node-role.kubernetes.io/worker]")


@pytest.mark.parametrize("key, refused", [
    ("node-role.kubernetes.io/worker", True),
    ("example.k8s.io/x", True),
    ("kubernetes.io/hostname", False),
    ("topology.kubernetes.io/zone", False),
    ("node.kubernetes.io/exclude-from-external-load-balancers", False),
    ("foo.kubelet.kubernetes.io/x", False),
    ("node-restriction.kubernetes.io/x", True),
    ("edgefleet.io/role", False),
    ("role", False),
])
def test_kubelet_namespace_rules(key, refused):
    assert kubelet_refuses(key) is refused


def test_boolean_label_value_warns():
    report = run(node_labels={"gpu": True})
    assert_warning(report, "k3s_node_labels['gpu']: YAML read the value as the boolean true")
    assert report.values["node_labels"] == ["gpu=true"]


def test_comma_inside_label_warns():
    assert_warning(run(node_labels=["a=1,b=2"]), "becomes 2 labels")


def test_taints():
    report = run(node_taints=["CriticalAddonsOnly=true:NoExecute", "dedicated:NoSchedule"])
    assert report.problems == []
    assert report.values["node_taints"] == ["CriticalAddonsOnly=true:NoExecute", "dedicated:NoSchedule"]


def test_taint_without_effect():
    assert_problem(run(node_taints=["dedicated=edge"]), "'dedicated=edge' has no effect")


def test_taint_effect_is_case_sensitive():
    assert_problem(run(node_taints=["dedicated=edge:noschedule"]), "Did you mean 'NoSchedule'?")


def test_unknown_taint_effect():
    assert_problem(run(node_taints=["a:Evict"]), "has the effect 'Evict', which Kubernetes does not know")


def test_labels_in_config_are_checked_too():
    assert_problem(run(role="server", config={"node-label": ["node-role.kubernetes.io/master=true"]}),
                   "k3s_config['node-label']", "node-role.kubernetes.io/master")
