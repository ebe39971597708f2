"""The k3s_config_yaml filter."""

from __future__ import annotations

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.edgefleet.k3s.plugins.filter.k3s_config_yaml import FilterModule, k3s_config_yaml


def test_filter_is_registered():
    assert FilterModule().filters()["k3s_config_yaml"] is k3s_config_yaml


def test_renders_normalised_yaml_with_secrets():
    text = k3s_config_yaml({"cluster-init": "true", "write-kubeconfig-mode": "0644", "i": "10.0.0.5",
                            "etcd-s3-secret-key": "p+ss/%w'd", "https-listen-port": "6443"})
    assert text == ('cluster-init: true\nwrite-kubeconfig-mode: "0644"\nnode-ip:\n  - "10.0.0.5"\n'
                    'etcd-s3-secret-key: "p+ss/%w\'d"\nhttps-listen-port: 6443\n')
    assert yaml.safe_load(text)["etcd-s3-secret-key"] == "p+ss/%w'd"


def test_role_restricts_flags():
    with pytest.raises(AnsibleFilterError, match="server-only flag"):
        k3s_config_yaml({"cluster-init": True}, role="agent")


def test_rejects_values_k3s_rejects():
    with pytest.raises(AnsibleFilterError, match=r"invalid boolean value \"yes\" for -cluster-init"):
        k3s_config_yaml({"cluster-init": "yes"})


@pytest.mark.parametrize("value", [None, "text", ["a"]])
def test_rejects_non_mapping(value):
    with pytest.raises(AnsibleFilterError, match="must be a mapping"):
        k3s_config_yaml(value)


def test_rejects_bad_role():
    with pytest.raises(AnsibleFilterError, match="role must be"):
        k3s_config_yaml({}, role="worker")
