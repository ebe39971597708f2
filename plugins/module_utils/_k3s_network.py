# -*- coding: utf-8 -*-
# Copyright: edgefleet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pod and service ranges of a K3s cluster: parseable as K3s parses them, disjoint, clear of the host.

A pod or service range that overlaps a network the host is attached to makes that network unreachable
from pods (and often from the node), long after install; it is cheap to catch here.

Private to edgefleet.k3s. Pure Python (3.8+); see _k3s_findings.py for where it runs.
"""

from __future__ import annotations

import ipaddress
import typing as t

from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_findings import Findings, a_type

Network = t.Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
Address = t.Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

# What K3s picks when the flag is left empty on an IPv4 (or dual-stack, IPv4-first) node.
DEFAULT_CLUSTER_CIDR = "10.42.0.0/16"
DEFAULT_SERVICE_CIDR = "10.43.0.0/16"
# K3s puts cluster DNS on the 10th address of the service range (k3s_flags.json effective_default).
DNS_OFFSET = 10


def split_elements(value: t.Any) -> t.List[str]:
    """Elements of a list flag after K3s's own comma split (tls-san, cluster-cidr, node-ip ...)."""
    items = value if isinstance(value, (list, tuple)) else [value]
    return [piece.strip() for item in items if item is not None for piece in str(item).split(",")]


def parse_ip(text: str) -> t.Optional[Address]:
    # Go's net.ParseIP knows no zone index ("%eth0"); Python's parser would accept it.
    if "%" in text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def parse_cidr(text: str) -> t.Tuple[t.Optional[Network], str]:
    """Parse like Go's net.ParseCIDR: `<ip>/<prefix length>`; returns (network, reason if invalid)."""
    address, slash, prefix = text.partition("/")
    if not slash:
        return None, "has no prefix length (write e.g. 10.42.0.0/16)"
    if not prefix.isdigit():
        return None, "needs a prefix length after '/', not a netmask"
    if parse_ip(address) is None:
        return None, f"'{address}' is not an IP address"
    try:
        return ipaddress.ip_network(text, strict=False), ""
    except ValueError:
        return None, f"the prefix length /{prefix} is too long"


def check_ip_list(value: t.Any, where: str, flag_name: str, findings: Findings) -> None:
    for element in split_elements(value):
        if parse_ip(element) is None:
            findings.problem(where, f"'{element}' is not an IP address (K3s: 'invalid {flag_name}: invalid ip "
                             f"format '{element}'')", "Give plain IPv4/IPv6 addresses, comma-separated or as a list")


def _cidr_list(value: t.Any, where: str, flag_name: str, findings: Findings) -> t.List[Network]:
    networks: t.List[Network] = []
    for element in split_elements(value):
        network, reason = parse_cidr(element)
        if network is None:
            findings.problem(where, f"'{element}' {reason} (K3s: 'invalid {flag_name} {element}')",
                             "Write CIDRs such as 10.42.0.0/16 or fd00:42::/56")
            continue
        if str(network) != element and network.with_prefixlen != element:
            findings.warn(where, f"'{element}' has host bits set; K3s uses {network}", f"Write '{network}'")
        networks.append(network)
    for version in (4, 6):
        same = [n for n in networks if n.version == version]
        if len(same) > 1:
            findings.problem(where, f"lists {len(same)} IPv{version} ranges ({', '.join(map(str, same))})",
                             "A dual-stack list holds at most one IPv4 and one IPv6 CIDR")
    return networks


def _host_networks(value: t.Any, where: str, findings: Findings) -> t.List[Network]:
    """Networks the host sits on; an interface address like 192.168.1.10/24 stands for its subnet."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple, str)):
        findings.problem(where, f"is {a_type(value)}", "Give a list of CIDRs such as ['192.168.1.0/24']")
        return []
    networks = []
    for element in split_elements(value):
        text = element if "/" in element else f"{element}/{128 if ':' in element else 32}"
        network, reason = parse_cidr(text)
        if network is None:
            findings.problem(where, f"'{element}' {reason}", "Give CIDRs such as '192.168.1.0/24'")
        elif network.prefixlen:
            # A default route (0.0.0.0/0) "overlaps" everything and says nothing about the LAN.
            networks.append(network)
    return networks


def _overlaps(first: t.Sequence[Network], second: t.Sequence[Network]) -> t.List[t.Tuple[Network, Network]]:
    return [(a, b) for a in first for b in second if a.version == b.version and a.overlaps(b)]


def _dns_in_service(value: t.Any, where: str, services: t.Sequence[Network], findings: Findings) -> None:
    for element in split_elements(value):
        address = parse_ip(element)
        if address is None:
            findings.problem(where, f"'{element}' is not an IP address (K3s: 'invalid cluster-dns address "
                             f"{element}')", "Give the DNS service IP, e.g. 10.43.0.10")
            continue
        same_family = [n for n in services if n.version == address.version]
        if same_family and not any(address in n for n in same_family):
            suggestion = same_family[0].network_address + DNS_OFFSET
            findings.problem(where, f"{address} is outside the service range {same_family[0]}; pods could not "
                             "reach DNS", f"Use an address inside it, e.g. {suggestion}")


class ClusterNetworks(t.NamedTuple):
    cluster_cidr: t.List[str]
    service_cidr: t.List[str]
    cluster_dns: t.List[str]


def check_cluster_networks(effective: t.Mapping[str, t.Any], sources: t.Mapping[str, str],
                           host_networks: t.Any, host_variable: str, role: t.Optional[str],
                           findings: Findings) -> ClusterNetworks:
    """Check the ranges a server will use (its config, else the K3s defaults) against each other and the host.

    `sources` names, per flag, the variable the effective value came from. On an agent the ranges are
    the server's business, so only the host network list itself is checked.
    """
    hosts = _host_networks(host_networks, host_variable, findings)
    if role != "server":
        return ClusterNetworks([], [], [])
    ranges = {}
    labels = {}
    for flag, default in (("cluster-cidr", DEFAULT_CLUSTER_CIDR), ("service-cidr", DEFAULT_SERVICE_CIDR)):
        given = effective.get(flag)
        labels[flag] = sources.get(flag) or f"{flag} (K3s default {default})"
        ranges[flag] = _cidr_list(given if given not in (None, [], "") else default, labels[flag], flag, findings)
    for pods, services in _overlaps(ranges["cluster-cidr"], ranges["service-cidr"]):
        findings.problem(labels["cluster-cidr"], f"pod range {pods} overlaps the service range {services} "
                         f"({labels['service-cidr']})",
                         f"Pick disjoint ranges (K3s defaults: {DEFAULT_CLUSTER_CIDR} and {DEFAULT_SERVICE_CIDR})")
    for flag in ("cluster-cidr", "service-cidr"):
        for cluster_range, host_range in _overlaps(ranges[flag], hosts):
            findings.problem(labels[flag], f"{cluster_range} overlaps the host network {host_range} "
                             f"(from {host_variable}); the host network would be unreachable from pods",
                             f"Choose a {flag} range that no host network uses")
    dns = effective.get("cluster-dns")
    if dns not in (None, [], ""):
        _dns_in_service(dns, sources.get("cluster-dns", "cluster-dns"), ranges["service-cidr"], findings)
    return ClusterNetworks([str(n) for n in ranges["cluster-cidr"]], [str(n) for n in ranges["service-cidr"]],
                           split_elements(dns) if dns not in (None, [], "") else
                           [str(n.network_address + DNS_OFFSET) for n in ranges["service-cidr"]])
