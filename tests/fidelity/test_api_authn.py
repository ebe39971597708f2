"""Authentication on the Kubernetes API of a running ``k3s server`` (not the supervisor's /v1-k3s routes).

* A bootstrap token from ``k3s token create`` authenticates on ``/api``/``/apis`` as
  ``system:bootstrap:<id>`` in ``system:bootstrappers`` (+ its auth-extra-groups, + system:authenticated).
  Real K3s runs RBAC: such a user may do discovery and the self reviews (system:discovery, system:basic-user)
  and gets 403 with the RBAC authorizer's message for everything else; the stand-in answers the same.
* An unknown or expired bearer token gets 401 with kube-apiserver's Status ``Unauthorized``.
* A client certificate from a foreign CA: real K3s's listener on 6443 only *requests* client certificates
  (Go ``tls.RequestClientCert``) and kube-apiserver's x509 authenticator then rejects the request with 401
  ``Unauthorized``. The stand-in's Python TLS (OpenSSL ``CERT_OPTIONAL`` = SSL_VERIFY_PEER) cannot request
  a certificate without verifying it, so the TLS handshake fails (alert ``unknown ca``) instead. Either way
  no request is served with that identity; the test pins the stand-in's answer and this known difference.
"""
from __future__ import annotations

import contextlib
import io
import json
import ssl
import time
from pathlib import Path

import pytest

import runtime_fixture as rf
from k3s_standin import pki, token_cmd

UNAUTHORIZED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> rf.RunningServer:
    server = rf.start_server(tmp_path_factory.mktemp("authn") / "root", {"node-name": "authn1"}, notify=False)
    yield server
    server.proc.terminate()


def create_token(srv: rf.RunningServer, monkeypatch: pytest.MonkeyPatch, *argv: str) -> None:
    monkeypatch.setenv("K3S_STANDIN_ROOT", str(srv.root))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert token_cmd.run(["create", *argv], env={}) == 0, err.getvalue()


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


REVIEW = json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}).encode()


def review(srv: rf.RunningServer, token: str) -> rf.HttpResult:
    return rf.request(srv.url + "/apis/authentication.k8s.io/v1/selfsubjectreviews", rf.ca_context(srv.root),
                      method="POST", body=REVIEW,
                      headers={**bearer(token), "Content-Type": "application/json"})


def test_bootstrap_token_identity_via_selfsubjectreview(srv: rf.RunningServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    create_token(srv, monkeypatch, "abcdef.0123456789abcdef")
    result = review(srv, "abcdef.0123456789abcdef")
    assert result.status == 201
    doc = result.json()
    assert doc["kind"] == "SelfSubjectReview"
    assert doc["status"]["userInfo"] == {
        "username": "system:bootstrap:abcdef",
        "groups": ["system:bootstrappers", "system:bootstrappers:k3s:default-node-token", "system:authenticated"]}


def test_bootstrap_token_discovery_allowed_reads_forbidden(srv: rf.RunningServer,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    create_token(srv, monkeypatch, "bbcdef.0123456789abcdef")
    ctx, auth = rf.ca_context(srv.root), bearer("bbcdef.0123456789abcdef")
    assert rf.request(srv.url + "/api", ctx, headers=auth).json()["kind"] == "APIVersions"
    assert rf.request(srv.url + "/apis", ctx, headers=auth).json()["kind"] == "APIGroupList"
    assert rf.request(srv.url + "/api/v1", ctx, headers=auth).json()["kind"] == "APIResourceList"
    assert rf.request(srv.url + "/version", ctx, headers=auth).status == 200

    listing = rf.request(srv.url + "/api/v1/namespaces", ctx, headers=auth)
    assert listing.status == 403
    assert listing.json() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'namespaces is forbidden: User "system:bootstrap:bbcdef" cannot list resource "namespaces" '
                   'in API group "" at the cluster scope',
        "reason": "Forbidden", "details": {"kind": "namespaces"}, "code": 403}
    secret = rf.request(srv.url + "/api/v1/namespaces/kube-system/secrets/bootstrap-token-bbcdef", ctx, headers=auth)
    assert secret.status == 403
    assert secret.json()["message"] == (
        'secrets "bootstrap-token-bbcdef" is forbidden: User "system:bootstrap:bbcdef" cannot get resource '
        '"secrets" in API group "" in the namespace "kube-system"')
    assert secret.json()["details"] == {"name": "bootstrap-token-bbcdef", "kind": "secrets"}
    deploy = rf.request(srv.url + "/apis/apps/v1/namespaces/default/deployments", ctx, method="POST",
                        body=b"{}", headers={**auth, "Content-Type": "application/json"})
    assert deploy.status == 403
    assert deploy.json()["message"] == (
        'deployments.apps is forbidden: User "system:bootstrap:bbcdef" cannot create resource "deployments" '
        'in API group "apps" in the namespace "default"')
    assert deploy.json()["details"] == {"group": "apps", "kind": "deployments"}
    # the admin certificate is still allowed everything
    assert rf.api_get(srv, "/api/v1/namespaces").status == 200


@pytest.mark.parametrize("token", ["zzzzzz.0123456789abcdef", "abcdef.ffffffffffffffff", "not-a-token"])
def test_unknown_bearer_token_is_401(srv: rf.RunningServer, monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    result = rf.request(srv.url + "/api/v1/namespaces", rf.ca_context(srv.root), headers=bearer(token))
    assert result.status == 401
    assert result.json() == UNAUTHORIZED
    assert review(srv, token).json() == UNAUTHORIZED


def test_expired_bearer_token_is_401(srv: rf.RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    create_token(srv, monkeypatch, "--ttl", "2s", "ccccde.0123456789abcdef")
    assert review(srv, "ccccde.0123456789abcdef").status == 201
    time.sleep(3)
    result = review(srv, "ccccde.0123456789abcdef")
    assert result.status == 401
    assert result.json() == UNAUTHORIZED


def test_foreign_ca_client_certificate_is_refused(srv: rf.RunningServer, tmp_path: Path) -> None:
    foreign = pki.ensure_ca(tmp_path / "foreign-ca.crt", tmp_path / "foreign-ca.key", "k3s-client-ca")
    pki.ensure_leaf(foreign, tmp_path / "admin.crt", tmp_path / "admin.key",
                    pki.CertSpec("system:admin", ("system:masters",), client_auth=True))
    ctx = rf.ca_context(srv.root)
    ctx.load_cert_chain(str(tmp_path / "admin.crt"), str(tmp_path / "admin.key"))
    with pytest.raises(ssl.SSLError) as caught:
        result = rf.request(srv.url + "/api/v1/namespaces", ctx)
        pytest.fail(f"served with a foreign client certificate: {result.status} {result.body[:200]!r}")
    assert caught.value.reason == "TLSV1_ALERT_UNKNOWN_CA", caught.value
    # the same request with the cluster's admin certificate is served
    assert rf.api_get(srv, "/api/v1/namespaces").status == 200
