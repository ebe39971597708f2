"""A K3s server as a systemd service with the real unit, and agents joining it over TLS."""
from __future__ import annotations

import hashlib
import time

import pytest

from labhelpers import (
    NODE_TOKEN, SERVER_CA, TOKEN_RE, install_k3s, install_service, journal, nodes, wait_for,
)

READY_TIMEOUT = 120

PING = r"""
import ssl, sys, urllib.request
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
for path in ("/ping", "/cacerts"):
    with urllib.request.urlopen(f"https://127.0.0.1:6443{path}", context=context, timeout=5) as response:
        sys.stdout.write(response.read().decode() + "\0")
"""


@pytest.fixture(scope="module")
def server(lab):
    """k3s.service on the server host, started the way install.sh starts it."""
    host = lab.server
    install_k3s(host)
    service = install_service(host, "server")
    started = time.monotonic()
    result = host.exec(["systemctl", "start", service], check=False, timeout=300)
    startup = {"result": result, "seconds": time.monotonic() - started,
               "active": host.exec(["systemctl", "is-active", service], check=False).stdout.strip(),
               "ping": host.python(PING, check=False)}
    if not result.ok:
        pytest.fail(f"systemctl start k3s failed:\n{result.describe()}\n{journal(host, service)}")
    return host, service, startup


@pytest.fixture(scope="module")
def node_token(server):
    host, _, _ = server
    return host.read_file(NODE_TOKEN).strip()


def test_server_unit_is_active_only_once_it_answers(server):
    host, service, startup = server
    assert startup["active"] == "active", journal(host, service)
    # Type=notify: `systemctl start` returned, so K3s said READY=1; it must answer right then, no retry.
    assert startup["ping"].ok, f"{startup['ping'].describe()}\n{journal(host, service)}"
    pong, cacerts, _ = startup["ping"].stdout.split("\0")
    assert pong == "pong"
    assert cacerts == host.read_file(SERVER_CA)
    assert host.exec(["systemctl", "show", service, "-p", "Type", "--value"]).stdout.strip() == "notify"


def test_node_token_pins_the_server_ca(server, node_token):
    host, _, _ = server
    match = TOKEN_RE.match(node_token)
    assert match, f"node-token is not K10<hash>::server:<password>: {node_token[:12]}..."
    assert match["user"] == "server"
    ca = host.exec(["cat", SERVER_CA]).stdout.encode()
    assert match["hash"] == hashlib.sha256(ca).hexdigest()
    mode = host.exec(["stat", "-L", "-c", "%a", NODE_TOKEN]).stdout.strip()
    assert mode == "600"


def test_server_node_becomes_ready(server):
    host, service, _ = server
    assert wait_for(lambda: nodes(host).get("server") is True, READY_TIMEOUT), \
        f"node never Ready: {nodes(host)}\n{journal(host, service)}"
    table = host.exec(["k3s", "kubectl", "get", "nodes"]).stdout
    assert any(line.split()[:2] == ["server", "Ready"] for line in table.splitlines()[1:]), table


def test_agent_joins_over_tls_and_becomes_ready(lab, server, node_token):
    host, service, _ = server
    agent = lab.agent
    install_k3s(agent)
    agent_service = install_service(agent, "agent", env={"K3S_URL": "https://server:6443", "K3S_TOKEN": node_token})
    started = agent.exec(["systemctl", "start", agent_service], check=False, timeout=300)
    assert started.ok, f"{started.describe()}\n{journal(agent, agent_service)}"
    assert wait_for(lambda: nodes(host).get("agent") is True, READY_TIMEOUT), \
        f"agent node never Ready on the server: {nodes(host)}\n{journal(agent, agent_service)}"
    env_mode = agent.exec(["stat", "-c", "%a", f"/etc/systemd/system/{agent_service}.service.env"]).stdout.strip()
    assert env_mode == "600"


def test_agent_with_a_wrong_ca_hash_is_refused(lab, server, node_token):
    host, _, _ = server
    stranger = lab.stranger
    install_k3s(stranger)
    match = TOKEN_RE.match(node_token)
    assert match, "node-token is not in the K10 format"
    password = match["password"]
    wrong = "K10" + hashlib.sha256(b"some other CA").hexdigest() + "::server:" + password
    # A real agent keeps retrying; give it a while, then stop it.
    result = stranger.exec(["timeout", "20", "k3s", "agent", "--server", "https://server:6443", "--token", wrong],
                           check=False, timeout=60)
    output = result.stdout + result.stderr
    assert "token CA hash does not match the Cluster CA certificate hash" in output, result.describe()
    assert "stranger" not in nodes(host)
