"""``k3s token`` against a running stand-in server; bootstrap tokens authenticate until they expire."""
from __future__ import annotations

import base64
import contextlib
import io
import time

import pytest

import runtime_fixture as rf
from k3s_standin import token_cmd


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> rf.RunningServer:
    server = rf.start_server(tmp_path_factory.mktemp("token") / "root", {"node-name": "tok1"}, notify=False)
    yield server
    server.proc.terminate()


def run(srv: rf.RunningServer, monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setenv("K3S_STANDIN_ROOT", str(srv.root))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = token_cmd.run(list(argv), env={})
    return code, out.getvalue(), err.getvalue()


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def test_create_prints_k10_token_and_stores_secret(srv: rf.RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(srv, monkeypatch, "create", "--description", "edge join", "aaaaaa.bbbbbbbbbbbbbbbb")
    assert code == 0
    assert out.strip() == srv.token()[:67] + "::aaaaaa.bbbbbbbbbbbbbbbb"
    secret = rf.api_get(srv, "/api/v1/namespaces/kube-system/secrets/bootstrap-token-aaaaaa").json()
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert secret["type"] == "bootstrap.kubernetes.io/token"
    assert data["token-id"] == "aaaaaa" and data["token-secret"] == "bbbbbbbbbbbbbbbb"
    assert data["usage-bootstrap-authentication"] == "true" and data["usage-bootstrap-signing"] == "true"
    assert data["auth-extra-groups"] == "system:bootstrappers:k3s:default-node-token"
    assert data["description"] == "edge join" and data["expiration"].endswith("Z")


def test_duplicate_id_is_refused(srv: rf.RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    run(srv, monkeypatch, "create", "cccccc.dddddddddddddddd")
    code, _, err = run(srv, monkeypatch, "create", "cccccc.eeeeeeeeeeeeeeee")
    assert code == 1
    assert 'a token with id \\"cccccc\\" already exists' in err


def test_bootstrap_token_authenticates_agent_routes_only(srv: rf.RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    run(srv, monkeypatch, "create", "ffffff.0000000000000000")
    ctx = rf.ca_context(srv.root)
    assert rf.request(srv.url + "/v1-k3s/config", ctx, headers=bearer("ffffff.0000000000000000")).status == 200
    assert rf.request(srv.url + "/v1-k3s/server-bootstrap", ctx,
                      headers=bearer("ffffff.0000000000000000")).status == 403
    wrong = rf.request(srv.url + "/v1-k3s/config", ctx, headers=bearer("ffffff.1111111111111111"))
    assert wrong.status == 401 and wrong.json()["message"] == "not authorized"


def test_expired_token_is_refused(srv: rf.RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, _ = run(srv, monkeypatch, "create", "--ttl", "2s", "gggggg.0000000000000000")
    assert code == 0
    ctx = rf.ca_context(srv.root)
    assert rf.request(srv.url + "/v1-k3s/config", ctx, headers=bearer("gggggg.0000000000000000")).status == 200
    time.sleep(3)
    assert rf.request(srv.url + "/v1-k3s/config", ctx, headers=bearer("gggggg.0000000000000000")).status == 401


def test_list_and_delete(srv: rf.RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    run(srv, monkeypatch, "create", "--ttl", "0", "hhhhhh.0000000000000000")
    code, out, _ = run(srv, monkeypatch, "list")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split()[:3] == ["TOKEN", "TTL", "EXPIRES"]
    forever = next(r for r in rows if r.startswith("hhhhhh.0000000000000000"))
    assert "<forever>" in forever and "authentication,signing" in forever
    code, out, _ = run(srv, monkeypatch, "delete", "hhhhhh")
    assert (code, out.strip()) == (0, 'bootstrap token "hhhhhh" deleted')
    assert rf.api_get(srv, "/api/v1/namespaces/kube-system/secrets/bootstrap-token-hhhhhh").status == 404
    code, _, err = run(srv, monkeypatch, "delete")
    assert code == 1 and "missing argument; 'token delete' is missing token" in err


def test_generate_creates_nothing(srv: rf.RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(srv, monkeypatch, "generate")
    assert code == 0
    token_id = out.strip().split(".")[0]
    assert rf.api_get(srv, f"/api/v1/namespaces/kube-system/secrets/bootstrap-token-{token_id}").status == 404
