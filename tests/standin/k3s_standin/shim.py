"""What K3s's embedded containerd leaves on the host: ``/run/k3s/containerd/`` and a container shim.

Real K3s runs containerd with its state under ``/run/k3s/containerd`` and, per pod sandbox, a
``<payload>/bin/containerd-shim-runc-v2`` process that outlives the k3s process: the unit has
``KillMode=process``, so ``systemctl stop k3s`` leaves the shims (and the containers under them) running
until ``k3s-killall.sh`` kills the process trees of ``${K3S_DATA_DIR}/data/*/bin/containerd-shim*`` and
removes ``/run/k3s`` (install_script.md §8).

The stand-in keeps one such shim so that killall/uninstall have something real to clean:
* ``<payload>/bin/containerd-shim-runc-v2`` is a tiny ``sh`` script, written into the payload directory
  (env ``K3S_STANDIN_PAYLOAD``, set by the launcher) the first time it is needed, atomically;
* it runs in its own session (like real shims, which containerd starts with setsid), with the arguments
  a real shim has, and a ``sleep`` child, so that it is a process tree;
* its PID is kept in ``/run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io/standin-pause/shim.pid``;
  a later start (restart of the unit) reuses the running shim instead of starting another.
Without ``K3S_STANDIN_PAYLOAD`` (in-process unit tests) only the directory is created.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from . import log, paths

RUN_DIR = "/run/k3s/containerd"
TASK_DIR = RUN_DIR + "/io.containerd.runtime.v2.task/k8s.io/standin-pause"
SHIM_NAME = "containerd-shim-runc-v2"
SHIM_SCRIPT = """#!/bin/sh
# k3s stand-in: plays containerd-shim-runc-v2 for one pod sandbox (see k3s_standin/shim.py).
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
"""


def shim_path(payload: str) -> Path:
    return Path(payload) / "bin" / SHIM_NAME


def _install_script(path: Path) -> None:
    if path.is_file() and path.read_text(errors="replace") == SHIM_SCRIPT:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{SHIM_NAME}.{os.getpid()}")
    tmp.write_text(SHIM_SCRIPT)
    tmp.chmod(0o755)
    os.replace(tmp, path)


def _running(pid: int, path: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z" and str(path).encode() in cmdline.split(b"\0")


def ensure_shim() -> int | None:
    """Create /run/k3s/containerd and make sure one shim runs; returns its PID (None without a payload)."""
    run_dir = paths.host(RUN_DIR)
    run_dir.mkdir(parents=True, exist_ok=True)
    payload = os.environ.get("K3S_STANDIN_PAYLOAD", "")
    if not payload:
        return None
    path = shim_path(payload)
    _install_script(path)
    task = paths.host(TASK_DIR)
    task.mkdir(parents=True, exist_ok=True)
    pid_file = task / "shim.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        pid = 0
    if pid and _running(pid, path):
        return pid
    with open(os.devnull, "rb") as devnull_in, open(os.devnull, "wb") as devnull_out:
        proc = subprocess.Popen([str(path), "-namespace", "k8s.io", "-id", "standin-pause",
                                 "-address", f"{RUN_DIR}/containerd.sock"],
                                stdin=devnull_in, stdout=devnull_out, stderr=devnull_out, cwd=str(task),
                                start_new_session=True, close_fds=True)
    pid_file.write_text(f"{proc.pid}\n")
    log.info(f"Started {SHIM_NAME} for sandbox standin-pause (pid {proc.pid})")
    return proc.pid
