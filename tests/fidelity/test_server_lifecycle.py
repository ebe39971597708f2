"""``k3s server`` restarts, shutdown, fatal configuration, kubeconfig options, agent tokens, etcd mode."""
from __future__ import annotations

import base64
import socket
import stat
from pathlib import Path


import runtime_fixture as rf


def test_sigterm_restart_keeps_certs_and_objects(tmp_path: Path) -> None:
    root = tmp_path / "root"
    first = rf.start_server(root, {"node-name": "keeper"}, notify=False)
    ca_before = (first.data_dir / "server/tls/server-ca.crt").read_bytes()
    token_before = first.token()
    node = rf.wait_for(lambda: _node(first, "keeper"))
    assert first.proc.terminate() == 0  # SIGTERM: clean exit
    assert "Shutting down k3s" in first.proc.log
    second = rf.start_server(root, {"node-name": "keeper", "https-listen-port": first.port}, notify=False,
                             name="k3s-2")
    try:
        assert (second.data_dir / "server/tls/server-ca.crt").read_bytes() == ca_before
        assert second.token() == token_before
        again = rf.wait_for(lambda: _node(second, "keeper"))
        assert again["metadata"]["uid"] == node["metadata"]["uid"]
    finally:
        second.proc.terminate()


def _node(server: rf.RunningServer, name: str) -> dict | None:
    result = rf.api_get(server, f"/api/v1/nodes/{name}")
    return result.json() if result.status == 200 else None


def test_restart_with_other_token_fails(tmp_path: Path) -> None:
    root = tmp_path / "root"
    first = rf.start_server(root, {"token": "first-secret"}, notify=False)
    assert first.token().endswith("::server:first-secret")
    first.proc.terminate()
    second = rf.start_server(root, {"token": "second-secret"}, notify=False, wait=False, name="k3s-2")
    assert second.proc.popen.wait(30) == 1
    assert ('level=fatal msg="starting kubernetes: preparing server: bootstrap data already found and '
            'encrypted with different token"') in second.proc.log


def test_port_in_use_is_fatal(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as blocker:
        blocker.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        blocker.bind(("::", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        server = rf.start_server(tmp_path / "root", {"https-listen-port": port}, notify=False, wait=False)
        assert server.proc.popen.wait(30) == 1
    assert f'level=fatal msg="listen tcp :{port}: bind: address already in use"' in server.proc.log


def test_bad_token_format_is_fatal(tmp_path: Path) -> None:
    server = rf.start_server(tmp_path / "root", {"token": "K10abc::server:pw"}, notify=False, wait=False)
    assert server.proc.popen.wait(30) == 1
    assert "failed to normalize server token; must be in format K10<CA-HASH>::<USERNAME>:<PASSWORD> or <PASSWORD>" \
        in server.proc.log


def test_bad_cluster_dns_is_fatal(tmp_path: Path) -> None:
    server = rf.start_server(tmp_path / "root", {"cluster-dns": ["10.43.0.10,not-an-ip"]}, notify=False, wait=False)
    assert server.proc.popen.wait(30) == 1
    assert 'level=fatal msg="invalid cluster-dns address not-an-ip"' in server.proc.log


def test_cluster_flags_reach_packaged_manifests_and_agent_config(tmp_path: Path) -> None:
    root = tmp_path / "root"
    server = rf.start_server(root, {"cluster-dns": ["10.43.0.53"], "cluster-domain": "edge.internal",
                                    "system-default-registry": "registry.example:5000",
                                    "default-local-storage-path": "/srv/k3s-storage", "disable": ["traefik"]},
                             notify=False)
    try:
        manifests = server.data_dir / "server/manifests"
        coredns = (manifests / "coredns.yaml").read_text()
        assert "clusterIP: 10.43.0.53" in coredns and "kubernetes edge.internal in-addr.arpa" in coredns
        assert 'image: "registry.example:5000/rancher/mirrored-coredns-coredns:' in coredns
        assert '"paths":["/srv/k3s-storage"]' in (manifests / "local-storage.yaml").read_text()
        assert not (manifests / "traefik.yaml").exists()
        password = server.token().rsplit(":", 1)[1]
        auth = {"Authorization": "Basic " + base64.b64encode(f"node:{password}".encode()).decode()}
        config = rf.request(server.url + "/v1-k3s/config", rf.ca_context(root), headers=auth).json()
        assert (config["ClusterDNS"], config["ClusterDomain"], config["SystemDefaultRegistry"]) == (
            "10.43.0.53", "edge.internal", "registry.example:5000")
    finally:
        server.proc.terminate()


def test_default_local_storage_path_is_the_hosts_view(tmp_path: Path) -> None:
    server = rf.start_server(tmp_path / "root", {}, notify=False)
    try:
        local_storage = (server.data_dir / "server/manifests/local-storage.yaml").read_text()
        assert '"paths":["/var/lib/rancher/k3s/storage"]' in local_storage
    finally:
        server.proc.terminate()


def test_kubeconfig_mode_path_and_agent_token(tmp_path: Path) -> None:
    root = tmp_path / "root"
    server = rf.start_server(root, {"write-kubeconfig-mode": "644", "write-kubeconfig": "/root/.kube/config",
                                    "agent-token": "agent-secret", "token": "K10" + "0" * 64 + "::server:srv-secret"},
                             notify=False)
    try:
        written = root / "root/.kube/config"
        assert stat.S_IMODE(written.stat().st_mode) == 0o644
        default = root / "etc/rancher/k3s/k3s.yaml"
        assert default.is_symlink() and default.resolve() == written.resolve()
        assert "Wrote kubeconfig /root/.kube/config" in server.proc.log
        agent_token = server.data_dir / "server/agent-token"
        assert not agent_token.is_symlink()
        assert stat.S_IMODE(agent_token.stat().st_mode) == 0o600
        assert agent_token.read_text().strip().endswith("::node:agent-secret")
        assert server.token().endswith("::server:srv-secret")
        passwd = (server.data_dir / "server/cred/passwd").read_text()
        assert passwd == "srv-secret,server,server,k3s:server\nagent-secret,node,node,k3s:agent\n"
    finally:
        server.proc.terminate()


def test_invalid_kubeconfig_mode_logs_error(tmp_path: Path) -> None:
    server = rf.start_server(tmp_path / "root", {"write-kubeconfig-mode": "abc"}, notify=False)
    try:
        assert ('Failed to set /etc/rancher/k3s/k3s.yaml to mode ----------: strconv.ParseInt: parsing \\"abc\\": '
                'invalid syntax') in server.proc.log
        assert stat.S_IMODE((tmp_path / "root/etc/rancher/k3s/k3s.yaml").stat().st_mode) == 0o600
    finally:
        server.proc.terminate()


def test_cluster_init_marks_etcd(tmp_path: Path) -> None:
    server = rf.start_server(tmp_path / "root", {"cluster-init": True, "node-name": "etcd1"}, notify=False)
    try:
        assert (server.data_dir / "server/db/etcd").is_dir()
        node = rf.wait_for(lambda: _node(server, "etcd1"))
        assert node["metadata"]["labels"]["node-role.kubernetes.io/etcd"] == "true"
        info = rf.request(server.url + "/db/info", rf.ca_context(server.root))
        assert info.status == 200 and info.json()["members"][0]["clientURLs"][0].endswith(":2379")
        assert "Managed etcd cluster initializing" in server.proc.log
    finally:
        server.proc.terminate()
