"""K3s config dicts checked against the flag table (config_file_rules.md §3-10)."""

from __future__ import annotations

import pytest

from ..helpers import assert_problem, assert_warning, only_problem, run


def server(config, **params):
    return run(role="server", config=config, **params)


def agent(config, **params):
    return run(role="agent", config=config, server_url="https://10.0.0.10:6443", **params)


def test_valid_server_config_is_normalised():
    report = server({
        "cluster-init": True, "tls-san": "k3s.example.internal", "https-listen-port": "6443",
        "write-kubeconfig-mode": "0644", "etcd-s3-timeout": "5m", "disable": ["traefik"], "o": "/root/kube.yaml",
    })
    assert report.problems == []
    assert report.values["config"] == {
        "cluster-init": True, "tls-san": ["k3s.example.internal"], "https-listen-port": 6443,
        "write-kubeconfig-mode": "0644", "etcd-s3-timeout": "5m", "disable": ["traefik"],
        "write-kubeconfig": "/root/kube.yaml",
    }


def test_unknown_key_with_suggestion():
    problem = only_problem(server({"write-kubeconfig-mod": "0644"}))
    assert problem.startswith("k3s_config['write-kubeconfig-mod']: 'write-kubeconfig-mod' is not a K3s server flag")
    assert "Did you mean 'write-kubeconfig-mode'?" in problem


def test_unknown_key_on_agent_is_fatal_in_k3s():
    assert_problem(agent({"nodename": "edge-1"}), "a K3s agent stops with 'flag provided but not defined: -nodename'",
                   "Did you mean 'node-name'?")


def test_underscored_key_is_corrected_exactly():
    assert_problem(server({"node_name": "x"}), "Did you mean 'node-name'?")


def test_server_only_key_on_agent():
    problem = only_problem(agent({"cluster-init": True}))
    assert problem == ("k3s_config['cluster-init']: 'cluster-init' is a server-only flag; a K3s agent stops with "
                       "'flag provided but not defined: -cluster-init'. Move it to the server configuration or "
                       "remove it")


def test_agent_only_key_on_server():
    assert_problem(server({"disable-apiserver-lb": True}), "'disable-apiserver-lb' is an agent-only flag",
                   "Unknown flag --disable-apiserver-lb found in config.yaml, skipping")


@pytest.mark.parametrize("key, hint", [
    ("no-deploy", "Use 'disable'"),
    ("cluster-secret", "the join secret is the token: set k3s_token instead"),
    ("no-flannel", "flannel-backend: none"),
    ("disable-selinux", "SELinux support is off"),
])
def test_removed_flags(key, hint):
    assert_problem(server({key: "x"}), f"'{key}' was removed from K3s", hint)


@pytest.mark.parametrize("key, variable", [
    ("token", "k3s_token"), ("t", "k3s_token"), ("token-file", "k3s_token"),
    ("agent-token", "k3s_agent_token"), ("server", "k3s_server_url"),
])
def test_managed_keys_point_to_the_variable(key, variable):
    assert_problem(server({key: "x"}), "is managed by the collection", f"Set {variable} instead")


def test_managed_key_value_is_not_echoed():
    problem = only_problem(server({"token": "hunter2"}))
    assert "hunter2" not in problem


def test_managed_keys_can_be_extended_and_released():
    report = server({"data-dir": "/srv/k3s", "server": "https://10.0.0.10:6443"},
                    managed_keys={"data-dir": "the role keeps its paths in step. Set k3s_data_dir instead",
                                  "server": None})
    assert only_problem(report) == ("k3s_config['data-dir']: 'data-dir' is managed by the collection: the role keeps "
                                    "its paths in step. Set k3s_data_dir instead")


def test_alias_and_long_name_across_files():
    report = agent({"i": "10.0.0.5"}, config_dropins={"20-net": {"node-ip": "10.0.0.6"}})
    assert_problem(report, "Cannot use two forms of the same flag: i node-ip",
                   "'i' in k3s_config['i'] and 'node-ip' in k3s_config_dropins['20-net']['node-ip']")


def test_alias_and_long_name_of_token():
    report = server({"t": "a", "token": "b"})
    assert_problem(report, "Cannot use two forms of the same flag: t token")


def test_append_key_is_validated_on_base_name():
    assert_problem(server({"tls-sann+": ["x"]}), "'tls-sann' is not a K3s server flag", "Did you mean 'tls-san'?")
    assert server({"tls-san+": "x"}).values["config"] == {"tls-san+": ["x"]}


def test_append_on_single_value_flag_warns():
    assert_warning(server({"node-name+": "a"}), "repeats the single-value flag 'node-name'")


@pytest.mark.parametrize("value", ["yes", "no", "on", "off", "Yes"])
def test_yaml_words_as_strings_are_not_go_booleans(value):
    assert_problem(server({"cluster-init": value}),
                   f"the string '{value}' is not a Go boolean",
                   f"invalid boolean value \"{value}\" for -cluster-init: parse error",
                   "Write true or false without quotes")


@pytest.mark.parametrize("value, expected", [(True, True), ("true", True), ("T", True), ("0", False), (1, True)])
def test_go_booleans_are_accepted(value, expected):
    report = server({"cluster-init": value})
    assert report.problems == []
    assert report.values["config"]["cluster-init"] is expected


def test_empty_bool():
    assert_problem(server({"cluster-init": None}), "invalid boolean value \"\" for -cluster-init")


def test_int_flag_with_text():
    assert_problem(server({"https-listen-port": "abc"}),
                   "invalid value \"abc\" for flag -https-listen-port: parse error")


def test_int_flag_out_of_port_range():
    assert_problem(server({"https-listen-port": 70000}), "70000 is not a TCP port")


def test_int_flag_with_leading_zero():
    assert_problem(server({"https-listen-port": "06443"}), "leading 0, which Go reads as an octal number")


def test_duration_without_unit():
    problem = only_problem(server({"etcd-s3-timeout": 300}))
    assert problem == ("k3s_config['etcd-s3-timeout']: 300 has no unit; K3s fails with 'invalid value \"300\" for "
                       "flag -etcd-s3-timeout: parse error'. Write a Go duration such as '300s' or '5m'")


def test_duration_must_be_positive():
    assert_problem(server({"etcd-snapshot-reconcile-interval": "0s"}),
                   "etcd-snapshot-reconcile-interval must be greater than 0s")


def test_unquoted_0644_kubeconfig_mode():
    # What YAML 1.1 makes of `write-kubeconfig-mode: 0644`.
    problem = only_problem(server({"write-kubeconfig-mode": 420}))
    assert "is the number 420" in problem
    assert "so the kubeconfig would get mode 0420" in problem
    assert problem.endswith('Quote the mode: write-kubeconfig-mode: "0644"')


def test_unquoted_644_kubeconfig_mode():
    assert_problem(server({"write-kubeconfig-mode": 644}), 'write-kubeconfig-mode: "0644"')


def test_kubeconfig_mode_not_octal():
    assert_problem(server({"write-kubeconfig-mode": "rw-r--r--"}), "is not an octal file mode")


def test_slice_values_are_rendered_per_element():
    report = server({"node-label": ["a=1", "b=2"], "kube-apiserver-arg": "audit-log-maxage=30",
                     "disable": "traefik,servicelb"})
    assert report.problems == []
    assert report.values["config_yaml"] == (
        'node-label:\n  - "a=1"\n  - "b=2"\nkube-apiserver-arg:\n  - "audit-log-maxage=30"\n'
        'disable:\n  - "traefik,servicelb"\n')


def test_yaml_rendering_quotes_strings_and_keeps_booleans():
    report = server({"node-name": "yes", "selinux": True, "cluster-domain": "0644", "v": 2})
    assert report.values["config_yaml"] == 'node-name: "yes"\nselinux: true\ncluster-domain: "0644"\nv: 2\n'


def test_boolean_for_string_flag_warns():
    report = server({"node-name": True})
    assert_warning(report, "YAML read the value as the boolean true")
    assert report.values["config"]["node-name"] == "true"


def test_mapping_value_is_rejected():
    assert_problem(server({"node-label": {"a": "b"}}), "is a mapping; K3s would receive Go map text")


def test_float_for_string_flag_is_rejected():
    assert_problem(server({"node-name": 1.5}), "as a floating-point number")


@pytest.mark.parametrize("key, value, fragment", [
    ("flannel-backend", "wireguard", "Did you mean 'wireguard-native'?"),
    ("egress-selector-mode", "clustr", "Did you mean 'cluster'?"),
])
def test_enumerated_values(key, value, fragment):
    assert_problem(server({key: value}), f"'{value}' is not a valid {key}", fragment)


def test_disable_with_unknown_component_warns():
    assert_warning(server({"disable": ["traefick"]}), "K3s ships no component 'traefick'", "did you mean 'traefik'?")


def test_node_ip_must_be_ips():
    assert_problem(agent({"node-ip": "10.0.0.5,10.0.0.x"}), "invalid node-ip: invalid ip format '10.0.0.x'")


def test_service_node_port_range():
    assert server({"service-node-port-range": "30000-32767"}).problems == []
    assert_problem(server({"service-node-port-range": "32767-30000"}), "is not a port range")


def test_etcd_snapshot_only_key_on_server_warns():
    assert_warning(server({"s3-bucket": "backups"}), "only read by 'k3s etcd-snapshot'")


def test_etcd_snapshot_only_key_on_agent_is_a_problem():
    assert_problem(agent({"s3-bucket": "backups"}), "'s3-bucket' is not a K3s agent flag")


def test_hidden_flag_warns():
    assert_warning(server({"disable-agent": True}), "hidden, experimental")


def test_flag_newer_than_version_warns():
    assert_warning(server({"etcd-s3-retention": 3}, version="v1.32.5+k3s1"),
                   "'etcd-s3-retention' first appeared around K3s v1.32.8")


def test_secrets_are_masked_in_results():
    report = server({"etcd-s3-secret-key": "hunter2", "etcd-s3-access-key": 12345})
    assert report.problems == []
    text = repr(report.values)
    assert "hunter2" not in text and "12345" not in text
    assert report.values["config"]["etcd-s3-secret-key"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_secret_value_not_echoed_in_problem():
    problem = only_problem(server({"etcd-s3-secret-key": 1.5}))
    assert "1.5" not in problem and "(hidden)" in problem


def test_dropins_are_merged_in_k3s_order():
    report = server({"node-label": ["a=1"], "node-name": "base"}, config_dropins={
        "90-last": {"node-name": "last"},
        "10-first.yaml": {"node-label+": ["b=2"]},
    })
    assert report.problems == []
    assert list(report.values["config_dropins_yaml"]) == ["10-first.yaml", "90-last.yaml"]
    assert report.values["effective_config"] == {"node-label": ["a=1", "b=2"], "node-name": "last"}


def test_dropin_replacing_a_list_warns():
    assert_warning(server({"tls-san": ["a"]}, config_dropins={"10-x": {"tls-san": ["b"]}}),
                   "replaces the 'tls-san' list from k3s_config", "Write 'tls-san+'")


def test_bad_dropin_name():
    assert_problem(server({}, config_dropins={"../etc/passwd": {}}), "is not a usable file name")


def test_config_that_is_not_a_mapping():
    assert_problem(server(["cluster-init"]), "k3s_config: is a list, not a mapping of K3s flags")


def test_variable_names_are_used_in_messages():
    report = server({"nosuch": 1}, variable_names={"config": "k3s_server_config"})
    assert_problem(report, "k3s_server_config['nosuch']")


def test_all_problems_are_collected():
    report = agent({"cluster-init": "yes", "selinux": "yes", "lb-server-port": "x", "no-deploy": "traefik"})
    assert len(report.problems) == 4
