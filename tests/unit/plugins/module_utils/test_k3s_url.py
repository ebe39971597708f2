"""Server URL normalisation (join_protocol.md §2 step 5)."""

from __future__ import annotations

import pytest

from ..helpers import assert_problem, assert_warning, run


@pytest.mark.parametrize("given, expected", [
    ("10.0.0.10", "https://10.0.0.10:6443"),
    ("10.0.0.10:7443", "https://10.0.0.10:7443"),
    ("https://k3s.example.internal", "https://k3s.example.internal:6443"),
    ("https://K3S.Example.Internal:6443/", "https://k3s.example.internal:6443"),
    ("[::1]:6443", "https://[::1]:6443"),
    ("https://[FD00::10]", "https://[fd00::10]:6443"),
    ("  server-1  ", "https://server-1:6443"),
])
def test_urls_are_normalised(given, expected):
    report = run(server_url=given)
    assert report.problems == []
    assert report.values["server_url"] == expected


def test_http_is_rejected_with_the_k3s_wording():
    assert_problem(run(server_url="http://10.0.0.10:6443"),
                   "k3s_server_url: 'http://10.0.0.10:6443' uses http://",
                   "only https:// URLs are supported, invalid scheme: http://10.0.0.10:6443",
                   "Use 'https://10.0.0.10:6443'")


def test_other_scheme():
    assert_problem(run(server_url="tcp://10.0.0.10"), "uses tcp://")


def test_path_is_rejected():
    assert_problem(run(server_url="https://10.0.0.10:6443/v1-k3s"), "has the path or query '/v1-k3s'")


def test_credentials_are_rejected_and_hidden():
    problem = assert_problem(run(server_url="https://admin:hunter2@10.0.0.10:6443"), "carries credentials")
    assert "hunter2" not in problem


def test_empty_url():
    assert_problem(run(server_url=""), "k3s_server_url: is empty")


def test_unbracketed_ipv6():
    assert_problem(run(server_url="fd00::10"), "IPv6 address without brackets", "'https://[fd00::10]:6443'")


def test_bad_port():
    assert_problem(run(server_url="10.0.0.10:99999"), "has the port '99999'")


def test_bad_ipv4():
    assert_problem(run(server_url="10.0.0.300"), "'10.0.0.300' is not a valid IPv4 address")


def test_agent_needs_a_server_url():
    assert_problem(run(role="agent"), "k3s_server_url: is not set, but an agent must join a server")


def test_loopback_on_agent_warns():
    assert_warning(run(role="agent", server_url="127.0.0.1"), "points at the agent itself")
