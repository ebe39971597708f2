"""``k3s server``: files, tokens, kubeconfig, supervisor routes, API authentication, sd_notify, restarts."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

import runtime_fixture as rf

KUBECTL = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "kubectl"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> rf.RunningServer:
    root = tmp_path_factory.mktemp("server") / "root"
    server = rf.start_server(root, {"node-name": "Edge-Server1", "tls-san": ["k3s.example.internal"],
                                    "node-label": ["site=lab"], "node-taint": ["dedicated=edge:NoSchedule"]})
    yield server
    server.proc.terminate()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_token_file_hash_and_mode(srv: rf.RunningServer) -> None:
    token_file = srv.data_dir / "server/token"
    ca = (srv.data_dir / "server/tls/server-ca.crt").read_bytes()
    text = token_file.read_text()
    assert text.endswith("\n")
    prefix, _, creds = text.strip().partition("::")
    assert prefix == "K10" + hashlib.sha256(ca).hexdigest()
    user, _, password = creds.partition(":")
    assert user == "server" and len(password) == 32 and int(password, 16) >= 0
    assert mode(token_file) == 0o600


def test_node_and_agent_token_are_symlinks(srv: rf.RunningServer) -> None:
    server_dir = srv.data_dir / "server"
    for name in ("node-token", "agent-token"):
        link = server_dir / name
        assert link.is_symlink()
        assert link.resolve() == (server_dir / "token").resolve()


def test_passwd_entries(srv: rf.RunningServer) -> None:
    password = srv.token().rsplit(":", 1)[1]
    passwd = srv.data_dir / "server/cred/passwd"
    assert passwd.read_text() == f"{password},server,server,k3s:server\n{password},node,node,k3s:agent\n"
    assert mode(passwd) == 0o600


def test_tls_layout(srv: rf.RunningServer) -> None:
    tls = srv.data_dir / "server/tls"
    for name in ("server-ca.crt", "server-ca.key", "client-ca.crt", "client-ca.key", "request-header-ca.crt",
                 "etcd/server-ca.crt", "etcd/peer-ca.crt", "client-admin.crt", "client-kube-proxy.crt",
                 "client-k3s-controller.crt", "serving-kube-apiserver.crt", "client-kubelet.key",
                 "serving-kubelet.key", "service.key"):
        assert (tls / name).is_file(), name
    assert mode(tls / "server-ca.key") == 0o600


def test_kubeconfig_shape_and_mode(srv: rf.RunningServer) -> None:
    path = srv.root / "etc/rancher/k3s/k3s.yaml"
    assert mode(path) == 0o600
    doc = yaml.safe_load(path.read_text())
    assert doc["current-context"] == "default"
    assert [c["name"] for c in doc["clusters"]] == ["default"]
    assert [u["name"] for u in doc["users"]] == ["default"]
    assert doc["contexts"][0]["context"] == {"cluster": "default", "user": "default"}
    assert doc["clusters"][0]["cluster"]["server"] == f"https://127.0.0.1:{srv.port}"
    ca = base64.b64decode(doc["clusters"][0]["cluster"]["certificate-authority-data"])
    assert ca == (srv.data_dir / "server/tls/server-ca.crt").read_bytes()


def test_node_password_file(srv: rf.RunningServer) -> None:
    path = srv.root / "etc/rancher/node/password"
    assert len(path.read_text().strip()) == 32
    assert mode(path) == 0o600


def test_cacerts_and_ping_need_no_credentials(srv: rf.RunningServer) -> None:
    ca = rf.request(srv.url + "/cacerts", rf.insecure_context())
    assert ca.status == 200 and ca.body == (srv.data_dir / "server/tls/server-ca.crt").read_bytes()
    assert ca.headers["Content-Type"] == "text/plain"
    ping = rf.request(srv.url + "/ping", rf.insecure_context())
    assert (ping.status, ping.body) == (200, b"pong")


@pytest.mark.parametrize("path", ["/version", "/readyz", "/livez", "/healthz", "/api/v1/nodes", "/apis"])
def test_anonymous_api_requests_are_unauthorized(srv: rf.RunningServer, path: str) -> None:
    # K3s runs kube-apiserver with --anonymous-auth=false: even the health endpoints need credentials.
    result = rf.request(srv.url + path, rf.ca_context(srv.root))
    assert result.status == 401
    assert result.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                             "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def test_abandoned_watch_ends_on_the_server(srv: rf.RunningServer) -> None:
    # The API's idle watch ticks let the HTTPS listener notice a client that hung up, so a dropped
    # `kubectl get -w` does not hold a server thread until the next event or the watch timeout.
    tasks = Path(f"/proc/{srv.proc.popen.pid}/task")
    if not tasks.is_dir():
        pytest.skip("needs /proc")
    ctx = srv.admin()
    watches = []
    for _ in range(3):
        conn = ctx.wrap_socket(socket.create_connection(("127.0.0.1", srv.port)), server_hostname="127.0.0.1")
        conn.sendall(b"GET /api/v1/configmaps?watch=true HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert conn.recv(64).startswith(b"HTTP/1.1 200")
        watches.append(conn)
    during = len(list(tasks.iterdir()))
    for conn in watches:
        conn.close()
    rf.wait_for(lambda: len(list(tasks.iterdir())) <= during - 3, timeout=10)


def test_serving_cert_has_sans(srv: rf.RunningServer) -> None:
    from cryptography import x509

    cert = x509.load_pem_x509_certificate((srv.data_dir / "server/tls/serving-kube-apiserver.crt").read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = set(san.get_values_for_type(x509.DNSName))
    assert {"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local",
            "localhost", "k3s.example.internal", "edge-server1"} <= names
    assert {"127.0.0.1", "::1", "10.43.0.1"} <= {str(i) for i in san.get_values_for_type(x509.IPAddress)}


def test_supervisor_auth(srv: rf.RunningServer) -> None:
    ctx = rf.ca_context(srv.root)
    password = srv.token().rsplit(":", 1)[1]
    anonymous = rf.request(srv.url + "/v1-k3s/config", ctx)
    assert anonymous.status == 403 and anonymous.json()["message"] == "forbidden"
    assert anonymous.headers.get("Connection") == "close"
    bad = rf.request(srv.url + "/v1-k3s/config", ctx, headers=basic("node", "wrong"))
    assert bad.status == 401 and bad.json()["message"] == "not authorized"
    good = rf.request(srv.url + "/v1-k3s/config", ctx, headers=basic("node", password))
    assert good.status == 200 and good.json()["ClusterDNS"] == "10.43.0.10"
    agent_on_server_route = rf.request(srv.url + "/v1-k3s/server-bootstrap", ctx, headers=basic("node", password))
    assert agent_on_server_route.status == 403
    server_user = rf.request(srv.url + "/v1-k3s/server-bootstrap", ctx, headers=basic("server", password))
    assert server_user.status == 400 and server_user.json()["message"] == "etcd disabled"
    readyz = rf.request(srv.url + "/v1-k3s/readyz", ctx, headers=basic("node", password))
    assert (readyz.status, readyz.body) == (200, b"ok")
    assert rf.request(srv.url + "/v1-k3s/apiservers", ctx, headers=basic("node", password)).status == 200


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_ready_notification_after_readyz(srv: rf.RunningServer) -> None:
    assert srv.notify is not None
    assert srv.notify.ready.wait(10)
    assert srv.notify.messages[0] == "READY=1\n"
    assert srv.notify.ready_check == 200  # /readyz answered when READY=1 arrived
    log = srv.proc.log
    assert log.index("k3s is up and running") > log.index("Wrote kubeconfig /etc/rancher/k3s/k3s.yaml")


def test_log_lines(srv: rf.RunningServer) -> None:
    log = srv.proc.log
    assert 'level=info msg="Starting k3s v1.34.3+k3s1 (' in log
    assert "Server node token is available at /var/lib/rancher/k3s/server/token" in log
    assert "To join agent node to cluster: k3s agent -s https://" in log


def test_own_node_registered(srv: rf.RunningServer) -> None:
    node = rf.wait_for(lambda: ok_json(rf.api_get(srv, "/api/v1/nodes/edge-server1")))
    labels = node["metadata"]["labels"]
    assert labels["node-role.kubernetes.io/control-plane"] == "true"
    assert labels["node-role.kubernetes.io/master"] == "true"
    assert labels["kubernetes.io/hostname"] == "edge-server1"
    assert labels["kubernetes.io/os"] == "linux" and labels["site"] == "lab"
    assert "node-role.kubernetes.io/etcd" not in labels
    notes = node["metadata"]["annotations"]
    assert notes["k3s.io/hostname"] and notes["k3s.io/internal-ip"]
    assert {"key": "dedicated", "value": "edge", "effect": "NoSchedule"} in node["spec"]["taints"]
    info = node["status"]["nodeInfo"]
    assert info["kubeletVersion"] == "v1.34.3+k3s1"
    assert info["containerRuntimeVersion"].startswith("containerd://")
    types = {a["type"] for a in node["status"]["addresses"]}
    assert {"InternalIP", "Hostname"} <= types


def ok_json(result: rf.HttpResult) -> dict | None:
    return result.json() if result.status == 200 else None


def test_node_password_secret(srv: rf.RunningServer) -> None:
    path = "/api/v1/namespaces/kube-system/secrets/edge-server1.node-password.k3s"
    secret = rf.wait_for(lambda: (lambda s: s if s and s["metadata"].get("ownerReferences") else None)(
        ok_json(rf.api_get(srv, path))), timeout=20)
    assert secret["type"] == "k3s.cattle.io/node-password"
    assert secret["immutable"] is True
    assert base64.b64decode(secret["data"]["hash"]).decode().startswith("$1:")
    owner = secret["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"]) == ("Node", "edge-server1")


def test_kubernetes_python_client(srv: rf.RunningServer) -> None:
    kubernetes = pytest.importorskip("kubernetes")
    client = kubernetes.config.new_client_from_config(str(srv.root / "etc/rancher/k3s/k3s.yaml"))
    assert kubernetes.client.VersionApi(client).get_code().git_version == "v1.34.3+k3s1"
    node = kubernetes.client.CoreV1Api(client).read_node("edge-server1")
    assert node.metadata.labels["node-role.kubernetes.io/control-plane"] == "true"


def test_real_kubectl(srv: rf.RunningServer) -> None:
    if not KUBECTL.exists():
        pytest.skip("kubectl not installed in .venv")
    env = {"KUBECONFIG": str(srv.root / "etc/rancher/k3s/k3s.yaml"), "PATH": os.environ.get("PATH", ""),
           "HOME": str(srv.root)}
    version = subprocess.run([str(KUBECTL), "version", "-o", "json"], capture_output=True, text=True, env=env,
                             timeout=30)
    assert version.returncode == 0, version.stderr
    assert json.loads(version.stdout)["serverVersion"]["gitVersion"] == "v1.34.3+k3s1"
    raw = subprocess.run([str(KUBECTL), "get", "--raw", "/readyz"], capture_output=True, text=True, env=env,
                         timeout=30)
    assert (raw.returncode, raw.stdout.strip()) == (0, "ok"), raw.stderr
    nodes = subprocess.run([str(KUBECTL), "get", "nodes", "-o", "name"], capture_output=True, text=True,
                           env=env, timeout=30)
    assert nodes.returncode == 0, nodes.stderr
    assert "node/edge-server1" in nodes.stdout
