"""The stand-in's containerd shim (k3s_standin/shim.py): created with /run/k3s/containerd, survives the
k3s process (as with KillMode=process), reused across restarts, and not started with --disable-agent."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import runtime_fixture as rf
from k3s_standin import shim


def _cmdline(pid: int) -> list[str]:
    return [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_shim_survives_server_and_is_reused(tmp_path: Path) -> None:
    root, payload = tmp_path / "root", tmp_path / "payload"
    env = {"K3S_STANDIN_PAYLOAD": str(payload)}
    pid_file = root / shim.TASK_DIR.lstrip("/") / "shim.pid"
    first = rf.start_server(root, {"node-name": "shim1"}, notify=False, env_extra=env)
    pid = 0
    try:
        pid = int(rf.wait_for(lambda: pid_file.is_file() and pid_file.read_text().strip()))
        script = payload / "bin/containerd-shim-runc-v2"
        assert script.read_text() == shim.SHIM_SCRIPT
        assert script.stat().st_mode & 0o777 == 0o755
        assert (root / "run/k3s/containerd").is_dir()
        assert _cmdline(pid) == ["/bin/sh", str(script), "-namespace", "k8s.io", "-id", "standin-pause",
                                 "-address", "/run/k3s/containerd/containerd.sock"]
        assert os.getsid(pid) == pid  # its own session
        assert f"Started containerd-shim-runc-v2 for sandbox standin-pause (pid {pid})" in first.proc.log
        assert first.proc.terminate() == 0
        assert _alive(pid)  # outlives k3s

        second = rf.start_server(root, {"node-name": "shim1", "https-listen-port": first.port}, notify=False,
                                 env_extra=env, name="k3s-2")
        try:
            assert int(pid_file.read_text()) == pid
            assert "Started containerd-shim-runc-v2" not in second.proc.log
        finally:
            assert second.proc.terminate() == 0
        assert _alive(pid)
    finally:
        if pid and _alive(pid):
            os.killpg(pid, signal.SIGKILL)


def test_no_shim_with_disable_agent(tmp_path: Path) -> None:
    root, payload = tmp_path / "root", tmp_path / "payload"
    server = rf.start_server(root, {"disable-agent": True}, notify=False,
                             env_extra={"K3S_STANDIN_PAYLOAD": str(payload)})
    try:
        assert not (root / shim.TASK_DIR.lstrip("/")).exists()
        assert not (payload / "bin/containerd-shim-runc-v2").exists()
    finally:
        assert server.proc.terminate() == 0
