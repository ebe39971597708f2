"""``k3s etcd-snapshot``: snapshot files on embedded-etcd servers, a clear error elsewhere."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

import runtime_fixture as rf
from k3s_standin import etcd_snapshot


def call(root: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> tuple[int, str, str]:
    monkeypatch.setenv("K3S_STANDIN_ROOT", str(root))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = etcd_snapshot.run(argv)
    return code, out.getvalue(), err.getvalue()


def test_save_and_list_on_etcd_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "root"
    server = rf.start_server(root, {"cluster-init": True, "node-name": "etcd-a"}, notify=False)
    try:
        code, _, err = call(root, monkeypatch, ["save", "--node-name", "etcd-a"])
        assert code == 0
        files = list((rf.data_dir(root) / "server/db/snapshots").iterdir())
        assert len(files) == 1 and re.fullmatch(r"on-demand-etcd-a-\d{10}", files[0].name)
        assert f"Snapshot {files[0].name} saved." in err
        code, _, _ = call(root, monkeypatch, ["save", "--name", "pre-upgrade", "--node-name", "etcd-a"])
        code, out, _ = call(root, monkeypatch, ["ls"])
        assert code == 0
        lines = out.splitlines()
        assert lines[0].split() == ["Name", "Location", "Size", "Created"]
        assert any(line.startswith("pre-upgrade-etcd-a-") for line in lines[1:])
        assert "file:///var/lib/rancher/k3s/server/db/snapshots/on-demand-etcd-a-" in out
    finally:
        server.proc.terminate()


def test_sqlite_server_has_no_etcd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "root"
    (rf.data_dir(root) / "server/db").mkdir(parents=True)
    code, _, err = call(root, monkeypatch, ["save"])
    assert code == 1
    assert 'level=fatal msg="Error: etcd database not found in /var/lib/rancher/k3s/server"' in err
