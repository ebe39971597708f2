"""Auto-deploying manifests end to end: a real ``k3s server`` process and its own scan loop.

K3s scans ``<data-dir>/server/manifests`` every 15 s (manifests_and_registries.md Part A). The test sets the
stand-in-only knob ``K3S_STANDIN_ADDON_SCAN_SECONDS=1`` (server.ADDON_SCAN_ENV; not a K3s setting) so that
each step waits about a second instead of fifteen; everything else goes through the running server: the
file is written on disk, the objects are read back over HTTPS with the admin kubeconfig.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import runtime_fixture as rf

MANIFEST_TWO = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: e2e-keep
  namespace: default
data:
  key: one
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: e2e-drop
  namespace: default
data:
  key: two
"""

MANIFEST_ONE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: e2e-keep
  namespace: default
data:
  key: changed
"""


def _get(server: rf.RunningServer, path: str) -> dict | None:
    result = rf.api_get(server, path)
    return result.json() if result.status == 200 else None


def _status(server: rf.RunningServer, path: str) -> int:
    return rf.api_get(server, path).status


def test_scan_loop_deploys_prunes_and_keeps_on_delete(tmp_path: Path) -> None:
    root = tmp_path / "root"
    server = rf.start_server(root, {"node-name": "addons-e2e"}, notify=False,
                             env_extra={"K3S_STANDIN_ADDON_SCAN_SECONDS": "1"})
    try:
        manifests = server.data_dir / "server/manifests"
        # packaged manifests are staged by the server itself
        assert (manifests / "coredns.yaml").is_file()
        path = manifests / "e2e-demo.yaml"
        path.write_text(MANIFEST_TWO)

        addon = rf.wait_for(lambda: _get(server, "/apis/k3s.cattle.io/v1/namespaces/kube-system/addons/e2e-demo"),
                            timeout=20)
        assert addon["spec"]["source"] == str(path)
        keep = rf.wait_for(lambda: _get(server, "/api/v1/namespaces/default/configmaps/e2e-keep"), timeout=20)
        drop = rf.wait_for(lambda: _get(server, "/api/v1/namespaces/default/configmaps/e2e-drop"), timeout=20)
        assert keep["data"] == {"key": "one"}
        assert drop["data"] == {"key": "two"}
        owner = keep["metadata"]["annotations"]
        assert owner["objectset.rio.cattle.io/owner-gvk"] == "k3s.cattle.io/v1, Kind=Addon"
        assert owner["objectset.rio.cattle.io/owner-name"] == "e2e-demo"
        assert owner["objectset.rio.cattle.io/owner-namespace"] == "kube-system"
        events = rf.api_get(server, "/api/v1/namespaces/kube-system/events").json()["items"]
        reasons = [e["reason"] for e in events if e["involvedObject"].get("name") == "e2e-demo"]
        assert reasons[:2] == ["ApplyingManifest", "AppliedManifest"]

        # edit: one object removed, the other changed -> pruned and updated by the running loop
        path.write_text(MANIFEST_ONE)
        future = time.time() + 2  # a distinct mtime even on coarse-grained file systems
        os.utime(path, (future, future))
        rf.wait_for(lambda: _status(server, "/api/v1/namespaces/default/configmaps/e2e-drop") == 404, timeout=20)
        keep = rf.wait_for(lambda: (_get(server, "/api/v1/namespaces/default/configmaps/e2e-keep") or {})
                           .get("data") == {"key": "changed"} and
                           _get(server, "/api/v1/namespaces/default/configmaps/e2e-keep"), timeout=20)
        assert keep["data"] == {"key": "changed"}
        gone = rf.api_get(server, "/api/v1/namespaces/default/configmaps/e2e-drop").json()
        assert gone["reason"] == "NotFound"
        assert gone["message"] == 'configmaps "e2e-drop" not found'

        # delete the file: nothing happens (A.4) — the Addon and its objects stay
        path.unlink()
        time.sleep(3.5)  # more than three scans at 1 s
        assert _get(server, "/api/v1/namespaces/default/configmaps/e2e-keep")["data"] == {"key": "changed"}
        assert _status(server, "/apis/k3s.cattle.io/v1/namespaces/kube-system/addons/e2e-demo") == 200
        assert "Failed to process config" not in server.proc.log
    finally:
        assert server.proc.terminate() == 0


def test_scan_interval_knob_defaults_to_15_seconds(monkeypatch) -> None:
    import sys

    sys.path.insert(0, str(rf.STANDIN_SRC))
    from k3s_standin import server

    monkeypatch.delenv(server.ADDON_SCAN_ENV, raising=False)
    assert server.addon_scan_seconds() == 15.0
    monkeypatch.setenv(server.ADDON_SCAN_ENV, "0.5")
    assert server.addon_scan_seconds() == 0.5
    for bad in ("", "abc", "0", "-3"):
        monkeypatch.setenv(server.ADDON_SCAN_ENV, bad)
        assert server.addon_scan_seconds() == 15.0
