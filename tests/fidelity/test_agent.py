"""``k3s agent`` joining a stand-in server on the same machine (two simulated roots, two "hosts")."""
from __future__ import annotations

import contextlib
import io
import stat
import threading
from pathlib import Path

import pytest

import runtime_fixture as rf
from k3s_standin import agent as agent_mod
from k3s_standin import pki, token_cmd


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> rf.RunningServer:
    root = tmp_path_factory.mktemp("agent-server") / "root"
    server = rf.start_server(root, {"node-name": "server1"}, notify=False,
                             env_extra={"K3S_STANDIN_NODE_MONITOR_GRACE": "4"})
    yield server
    server.proc.terminate()


def node(srv: rf.RunningServer, name: str) -> dict | None:
    result = rf.api_get(srv, f"/api/v1/nodes/{name}")
    return result.json() if result.status == 200 else None


def test_agent_joins_with_labels_taints_and_addresses(srv: rf.RunningServer, tmp_path: Path) -> None:
    listener = rf.NotifyListener()
    root = tmp_path / "agent1"
    proc = rf.start_agent(root, srv, {"node-name": "Worker1", "node-label": ["tier=edge", "zone=a"],
                                      "node-taint": ["dedicated=gpu:NoExecute"], "node-ip": "127.0.0.1",
                                      "node-external-ip": "198.51.100.7"},
                          env_extra={"NOTIFY_SOCKET": listener.name})
    try:
        proc.wait_log("k3s agent is up and running", 40)
        assert listener.ready.wait(5) and listener.messages[0] == "READY=1\n"
        obj = rf.wait_for(lambda: node(srv, "worker1"))
        labels = obj["metadata"]["labels"]
        assert labels["tier"] == "edge" and labels["zone"] == "a"
        assert "node-role.kubernetes.io/control-plane" not in labels
        assert {"key": "dedicated", "value": "gpu", "effect": "NoExecute"} in obj["spec"]["taints"]
        addresses = {(a["type"], a["address"]) for a in obj["status"]["addresses"]}
        assert ("InternalIP", "127.0.0.1") in addresses and ("ExternalIP", "198.51.100.7") in addresses
        assert obj["status"]["nodeInfo"]["kubeletVersion"] == "v1.34.3+k3s1"
        agent_dir = rf.data_dir(root) / "agent"
        for name in ("client-ca.crt", "server-ca.crt", "client-kubelet.crt", "client-kubelet.key",
                     "serving-kubelet.crt", "client-kube-proxy.crt", "client-k3s-controller.crt",
                     "kubelet.kubeconfig"):
            assert (agent_dir / name).is_file(), name
        kubelet = pki.load_certs((agent_dir / "client-kubelet.crt").read_bytes())[0]
        assert pki.subject_identity(kubelet) == ("system:node:worker1", ["system:nodes"])
        serving = pki.load_certs((agent_dir / "serving-kubelet.crt").read_bytes())[0]
        assert "127.0.0.1" in serving.valid_ips and "worker1" in serving.valid_domains
        password = root / "etc/rancher/node/password"
        assert stat.S_IMODE(password.stat().st_mode) == 0o600 and len(password.read_text().strip()) == 32
        secret = rf.api_get(srv, "/api/v1/namespaces/kube-system/secrets/worker1.node-password.k3s")
        assert secret.status == 200 and secret.json()["type"] == "k3s.cattle.io/node-password"
    finally:
        assert proc.terminate() == 0
        listener.close()


def test_node_goes_unknown_without_heartbeat(srv: rf.RunningServer, tmp_path: Path) -> None:
    proc = rf.start_agent(tmp_path / "agent2", srv, {"node-name": "shortlived"})
    proc.wait_log("k3s agent is up and running", 40)
    proc.popen.kill()
    proc.popen.wait()

    def unknown() -> dict | None:
        obj = node(srv, "shortlived")
        ready = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
        return obj if ready["status"] == "Unknown" else None

    obj = rf.wait_for(unknown, timeout=40)
    ready = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "NodeStatusUnknown" and ready["message"] == "Kubelet stopped posting node status."
    assert {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"} in obj["spec"]["taints"]


def test_wrong_ca_hash_is_refused(srv: rf.RunningServer, tmp_path: Path) -> None:
    password = srv.token().rsplit(":", 1)[1]
    bad = "K10" + "1" * 64 + "::server:" + password
    proc = rf.start_agent(tmp_path / "agent3", srv, {"token": bad, "node-name": "badhash"})
    try:
        log = proc.wait_log("token CA hash does not match", 20)
        real = srv.token()[3:67]
        assert (f'level=error msg="Failed to validate connection to cluster at {srv.url}: token CA hash does not '
                f'match the Cluster CA certificate hash: {"1" * 64} != {real}"') in log
        proc.wait_log("Failed to validate connection", 10)
        assert proc.log.count("Failed to validate connection") >= 1
        assert node(srv, "badhash") is None
    finally:
        proc.terminate()


def test_wrong_token_is_refused_and_retried(srv: rf.RunningServer, tmp_path: Path) -> None:
    proc = rf.start_agent(tmp_path / "agent4", srv, {"token": "not-the-token", "node-name": "badtoken"})
    try:
        log = proc.wait_log("401 Unauthorized", 20)
        assert "Cluster CA certificate is not trusted by the host CA bundle, but the token does not include a CA hash" in log
        assert (f'level=info msg="Waiting to retrieve agent configuration; server is not ready: '
                f'{srv.url}/v1-k3s/config: 401 Unauthorized"') in log
        assert node(srv, "badtoken") is None
    finally:
        proc.terminate()


def test_duplicate_node_name_is_rejected(srv: rf.RunningServer, tmp_path: Path) -> None:
    first = rf.start_agent(tmp_path / "hostA", srv, {"node-name": "twin"})
    first.wait_log("k3s agent is up and running", 40)
    second = rf.start_agent(tmp_path / "hostB", srv, {"node-name": "twin"}, name="agent-b")
    try:
        second.wait_log("Node password rejected", 20)
        assert ("Waiting to retrieve agent configuration; server is not ready: Node password rejected, duplicate "
                "hostname or contents of '/etc/rancher/node/password' may not match server node-passwd entry, try "
                "enabling a unique node name with the --with-node-id flag") in second.log
        assert "k3s agent is up and running" not in second.log
    finally:
        second.terminate()
        first.terminate()


def test_reinstalled_host_keeps_password_and_rejoins(srv: rf.RunningServer, tmp_path: Path) -> None:
    root = tmp_path / "hostC"
    first = rf.start_agent(root, srv, {"node-name": "phoenix"})
    first.wait_log("k3s agent is up and running", 40)
    first.terminate()
    import shutil

    shutil.rmtree(rf.data_dir(root))  # uninstall removes the data dir but keeps /etc/rancher/node
    again = rf.start_agent(root, srv, {"node-name": "phoenix"}, name="agent-again")
    try:
        again.wait_log("k3s agent is up and running", 40)
    finally:
        again.terminate()


def test_with_node_id(srv: rf.RunningServer, tmp_path: Path) -> None:
    root = tmp_path / "hostD"
    proc = rf.start_agent(root, srv, {"node-name": "twin", "with-node-id": True}, name="agent-id")
    try:
        proc.wait_log("k3s agent is up and running", 40)
        node_id = (root / "etc/rancher/node/id").read_text().strip()
        assert len(node_id) == 8
        assert node(srv, f"twin-{node_id}") is not None
    finally:
        proc.terminate()


def test_http_scheme_is_refused(srv: rf.RunningServer, tmp_path: Path) -> None:
    url = srv.url.replace("https://", "http://")
    proc = rf.start_agent(tmp_path / "agent5", srv, {"server": url})
    try:
        proc.wait_log(f"only https:// URLs are supported, invalid scheme: {url}", 20)
    finally:
        proc.terminate()


@pytest.mark.parametrize("values, message", [
    ({"server": "https://127.0.0.1:1"}, "--token is required"),
    ({"token": "x"}, "--server is required"),
])
def test_required_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                        values: dict, message: str) -> None:
    monkeypatch.setenv("K3S_STANDIN_ROOT", str(tmp_path))
    assert agent_mod.run(rf.StubFlags("agent", values), stop=threading.Event()) == 1
    assert f'level=fatal msg="{message}"' in capsys.readouterr().err


def test_bootstrap_token_joins(srv: rf.RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K3S_STANDIN_ROOT", str(srv.root))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert token_cmd.run(["create", "abcdef.0123456789abcdef"], env={}) == 0
    monkeypatch.delenv("K3S_STANDIN_ROOT")
    full = out.getvalue().strip()
    assert full == srv.token()[:67] + "::abcdef.0123456789abcdef"
    proc = rf.start_agent(tmp_path / "agent6", srv, {"token": full, "node-name": "bootstrapped"})
    try:
        proc.wait_log("k3s agent is up and running", 40)
        assert node(srv, "bootstrapped") is not None
    finally:
        proc.terminate()
