"""Supervisor certificate endpoints and node-password checks (join_protocol.md §3-§4)."""
from __future__ import annotations

import base64

import pytest

import runtime_fixture as rf
from k3s_standin import pki


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> rf.RunningServer:
    server = rf.start_server(tmp_path_factory.mktemp("sup") / "root", {"node-name": "sup1"}, notify=False)
    yield server
    server.proc.terminate()


def node_headers(srv: rf.RunningServer, name: str = "edge7", password: str = "p" * 32,
                 ip: str | None = "192.0.2.7") -> dict[str, str]:
    secret = srv.token().rsplit(":", 1)[1]
    headers = {"Authorization": "Basic " + base64.b64encode(f"node:{secret}".encode()).decode(),
               "K3s-Node-Name": name, "K3s-Node-Password": password}
    if ip:
        headers["K3s-Node-IP"] = ip
    return headers


def post(srv: rf.RunningServer, path: str, headers: dict[str, str], body: bytes | None) -> rf.HttpResult:
    return rf.request(srv.url + path, rf.ca_context(srv.root), method="POST" if body is not None else "GET",
                      body=body, headers=headers)


def test_client_kubelet_cert_from_csr(srv: rf.RunningServer) -> None:
    key = pki.new_key()
    result = post(srv, "/v1-k3s/client-kubelet.crt", node_headers(srv, "Edge7"), pki.make_csr(key, "x"))
    assert result.status == 200
    certs = pki.load_certs(result.body)
    assert pki.subject_identity(certs[0]) == ("system:node:edge7", ["system:nodes"])
    assert certs[1].dump() == pki.load_certs((srv.data_dir / "server/tls/client-ca.crt").read_bytes())[0].dump()
    assert b"PRIVATE KEY" not in result.body


def test_serving_kubelet_cert_sans(srv: rf.RunningServer) -> None:
    result = post(srv, "/v1-k3s/serving-kubelet.crt", node_headers(srv), pki.make_csr(pki.new_key(), "x"))
    assert result.status == 200
    cert = pki.load_certs(result.body)[0]
    assert set(cert.valid_domains) == {"edge7", "localhost"}
    assert set(cert.valid_ips) == {"127.0.0.1", "192.0.2.7"}


def test_legacy_request_returns_shared_key(srv: rf.RunningServer) -> None:
    result = post(srv, "/v1-k3s/client-kube-proxy.crt", node_headers(srv), None)
    assert result.status == 200
    assert result.body.rstrip().endswith(b"-----END EC PRIVATE KEY-----")
    assert pki.subject_identity(pki.load_certs(result.body)[0])[0] == "system:kube-proxy"
    shared = (srv.data_dir / "server/tls/client-kube-proxy.key").read_bytes()
    assert result.body.endswith(shared)


def test_k3s_controller_cert(srv: rf.RunningServer) -> None:
    result = post(srv, "/v1-k3s/client-k3s-controller.crt", node_headers(srv), pki.make_csr(pki.new_key(), "x"))
    assert pki.subject_identity(pki.load_certs(result.body)[0])[0] == "system:k3s-controller"


@pytest.mark.parametrize("drop, message", [("K3s-Node-Name", "node name not set"),
                                           ("K3s-Node-Password", "node password not set")])
def test_missing_node_headers(srv: rf.RunningServer, drop: str, message: str) -> None:
    headers = node_headers(srv)
    headers.pop(drop)
    result = post(srv, "/v1-k3s/client-kubelet.crt", headers, pki.make_csr(pki.new_key(), "x"))
    assert result.status == 400
    assert result.json()["message"] == message and result.json()["reason"] == "BadRequest"


def test_node_password_mismatch_is_forbidden(srv: rf.RunningServer) -> None:
    csr = pki.make_csr(pki.new_key(), "x")
    assert post(srv, "/v1-k3s/client-kubelet.crt", node_headers(srv, "guarded", "a" * 32), csr).status == 200
    again = post(srv, "/v1-k3s/client-kubelet.crt", node_headers(srv, "guarded", "a" * 32), csr)
    assert again.status == 200
    other = post(srv, "/v1-k3s/client-kubelet.crt", node_headers(srv, "GUARDED", "b" * 32), csr)
    assert other.status == 403 and other.json()["reason"] == "Forbidden"
    assert "unable to verify hash for node 'guarded'" in other.json()["message"]


def test_invalid_node_ip(srv: rf.RunningServer) -> None:
    result = post(srv, "/v1-k3s/serving-kubelet.crt", node_headers(srv, ip="not-an-ip"),
                  pki.make_csr(pki.new_key(), "x"))
    assert result.status == 500
    assert result.json()["message"] == "Internal error occurred: invalid node IP address <nil>"


def test_ca_files_and_static(srv: rf.RunningServer) -> None:
    headers = node_headers(srv)
    client_ca = rf.request(srv.url + "/v1-k3s/client-ca.crt", rf.ca_context(srv.root), headers=headers)
    assert client_ca.body == (srv.data_dir / "server/tls/client-ca.crt").read_bytes()
    (srv.data_dir / "server/static/charts").mkdir(parents=True, exist_ok=True)
    (srv.data_dir / "server/static/charts/traefik.tgz").write_bytes(b"chart")
    static = rf.request(srv.url + "/static/charts/traefik.tgz", rf.ca_context(srv.root))
    assert (static.status, static.body) == (200, b"chart")
    assert rf.request(srv.url + "/static/../token", rf.ca_context(srv.root)).status == 404


def test_db_info_without_etcd_falls_through_to_api(srv: rf.RunningServer) -> None:
    assert rf.request(srv.url + "/db/info", rf.ca_context(srv.root)).status == 401
