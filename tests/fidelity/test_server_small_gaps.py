"""Small end-to-end checks of a running ``k3s server``: the own Node Ready with a pause image archive,
the default 24 h TTL of ``k3s token create``, ``/livez`` over TLS, unquoted ``write-kubeconfig-mode: 0644``."""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import stat
import tarfile
from pathlib import Path

import pytest

import runtime_fixture as rf
from k3s_standin import token_cmd


def _pause_archive(path: Path) -> None:
    """A docker-archive whose manifest.json names the default pause image (what the airgap tarball holds)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest = json.dumps([{"Config": "config.json", "RepoTags": ["rancher/mirrored-pause:3.6"],
                            "Layers": []}]).encode()
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> rf.RunningServer:
    root = tmp_path_factory.mktemp("small") / "root"
    _pause_archive(rf.data_dir(root) / "agent/images/k3s-airgap-images-amd64.tar")
    server = rf.start_server(root, {"node-name": "small1"}, notify=False)
    yield server
    server.proc.terminate()


def _ready(srv: rf.RunningServer) -> dict | None:
    result = rf.api_get(srv, "/api/v1/nodes/small1")
    if result.status != 200:
        return None
    for cond in result.json()["status"].get("conditions", []):
        if cond["type"] == "Ready" and cond["status"] == "True":
            return cond
    return None


def test_own_node_ready_with_pause_archive(srv: rf.RunningServer) -> None:
    cond = rf.wait_for(lambda: _ready(srv), timeout=30)
    assert cond["reason"] == "KubeletReady"
    assert cond["message"] == "kubelet is posting ready status"


def test_token_create_default_ttl_is_24h(srv: rf.RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K3S_STANDIN_ROOT", str(srv.root))
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert token_cmd.run(["create", "tttttt.0123456789abcdef"], env={}) == 0
    after = dt.datetime.now(dt.timezone.utc)
    secret = rf.api_get(srv, "/api/v1/namespaces/kube-system/secrets/bootstrap-token-tttttt").json()
    import base64
    expiration = base64.b64decode(secret["data"]["expiration"]).decode()
    expires = dt.datetime.strptime(expiration, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    assert before + dt.timedelta(hours=24) <= expires <= after + dt.timedelta(hours=24)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert token_cmd.run(["list"], env={}) == 0
    row = next(r for r in out.getvalue().splitlines() if r.startswith("tttttt.0123456789abcdef"))
    assert row.split()[1] == "23h"


def test_livez_over_tls(srv: rf.RunningServer) -> None:
    plain = rf.request(srv.url + "/livez", srv.admin())
    assert (plain.status, plain.body) == (200, b"ok")
    assert plain.headers["Content-Type"] == "text/plain; charset=utf-8"
    verbose = rf.request(srv.url + "/livez?verbose", srv.admin())
    assert verbose.status == 200
    assert verbose.body.decode().endswith("livez check passed\n")
    assert "[+]ping ok\n" in verbose.body.decode()
    # K3s runs kube-apiserver with --anonymous-auth=false: no credentials, no /livez
    anonymous = rf.request(srv.url + "/livez", rf.ca_context(srv.root))
    assert anonymous.status == 401
    assert anonymous.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def test_unquoted_0644_kubeconfig_mode_ends_as_0420(tmp_path: Path) -> None:
    root = tmp_path / "root"
    config = root / "etc/rancher/k3s/config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("write-kubeconfig-mode: 0644\n")  # YAML 1.1 octal -> 420 -> parsed as octal 0420
    server = rf.start_server(root, {"node-name": "mode1"}, notify=False)
    try:
        mode = stat.S_IMODE((root / "etc/rancher/k3s/k3s.yaml").stat().st_mode)
        assert oct(mode) == oct(0o420)
    finally:
        server.proc.terminate()
