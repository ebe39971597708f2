"""Pod/service ranges, cluster DNS and host networks."""

from __future__ import annotations

from ..helpers import assert_problem, assert_warning, run


def server(config, **params):
    return run(role="server", config=config, **params)


def test_defaults_are_reported():
    values = server({}).values
    assert (values["cluster_cidr"], values["service_cidr"], values["cluster_dns"]) == (
        ["10.42.0.0/16"], ["10.43.0.0/16"], ["10.43.0.10"])


def test_dual_stack_lists():
    report = server({"cluster-cidr": "10.42.0.0/16,fd00:42::/56", "service-cidr": ["10.43.0.0/16", "fd00:43::/112"]})
    assert report.problems == []
    assert report.values["cluster_cidr"] == ["10.42.0.0/16", "fd00:42::/56"]


def test_overlapping_cluster_and_service_cidr():
    assert_problem(server({"cluster-cidr": "10.42.0.0/16", "service-cidr": "10.42.128.0/17"}),
                   "k3s_config['cluster-cidr']: pod range 10.42.0.0/16 overlaps the service range 10.42.128.0/17")


def test_overlap_with_host_network():
    assert_problem(server({}, host_networks=["10.42.7.0/24"]),
                   "cluster-cidr (K3s default 10.42.0.0/16): 10.42.0.0/16 overlaps the host network 10.42.7.0/24 "
                   "(from k3s_host_networks)")


def test_host_interface_address_stands_for_its_subnet():
    assert_problem(server({"service-cidr": "192.168.0.0/16"}, host_networks=["192.168.1.10/24"]),
                   "overlaps the host network 192.168.1.0/24")


def test_default_route_is_ignored():
    assert server({}, host_networks=["0.0.0.0/0", "::/0"]).problems == []


def test_bad_host_network():
    assert_problem(server({}, host_networks=["192.168.1.0/40"]), "k3s_host_networks: '192.168.1.0/40'")


def test_invalid_cidr():
    assert_problem(server({"cluster-cidr": "10.42.0.0"}), "has no prefix length", "invalid cluster-cidr 10.42.0.0")


def test_two_ranges_of_one_family():
    assert_problem(server({"cluster-cidr": "10.42.0.0/16,10.44.0.0/16"}), "lists 2 IPv4 ranges")


def test_host_bits_warn():
    assert_warning(server({"cluster-cidr": "10.42.0.1/16"}), "has host bits set; K3s uses 10.42.0.0/16")


def test_cluster_dns_outside_service_cidr():
    assert_problem(server({"cluster-dns": "10.96.0.10"}),
                   "10.96.0.10 is outside the service range 10.43.0.0/16", "e.g. 10.43.0.10")


def test_cluster_dns_inside_custom_service_cidr():
    report = server({"service-cidr": "10.96.0.0/12", "cluster-dns": "10.96.0.10"})
    assert report.problems == []
    assert report.values["cluster_dns"] == ["10.96.0.10"]


def test_agent_skips_cluster_ranges():
    report = run(role="agent", server_url="10.0.0.1", host_networks=["10.42.0.0/24"])
    assert report.problems == []
    assert report.values["cluster_cidr"] == []
