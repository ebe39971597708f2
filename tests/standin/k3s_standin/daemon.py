"""What ``k3s server`` and ``k3s agent`` share: the node part of their configuration, kubeconfig files,
the files under ``/etc/rancher/node``, fatal start-up errors and signal handling.
"""
from __future__ import annotations

import base64
import os
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import airgap, buildinfo, nodes, paths, pki, tokens


class FatalError(Exception):
    """Start-up failure; the message is what K3s prints after ``level=fatal msg=``."""


def flag(flags: Any, name: str, default: Any = None) -> Any:
    """A flag's value, ``default`` when it is unset (None) or not defined for the command."""
    try:
        value = flags.get(name)
    except KeyError:
        return default
    return default if value is None else value


def read_token_file(path: str) -> str:
    try:
        return paths.host(path).read_text().strip()
    except OSError as exc:
        raise FatalError(f"failed to read token file {path}: {exc}") from exc


@dataclass(kw_only=True)
class NodeConfig:
    """The agent flags a server and an agent interpret alike (the server runs an agent of its own)."""

    data_dir: str  # as the host sees it
    node_name: str
    host_name: str
    node_ips: list[str]
    external_ips: list[str]
    labels: dict[str, str]
    taints: list[dict[str, str]]
    pause_image: str
    with_node_id: bool
    node_args: list[str] = field(default_factory=list)

    @property
    def agent_dir(self) -> Path:
        return paths.host(self.data_dir) / "agent"

    def node_spec(self, control_plane: bool = False, etcd: bool = False) -> nodes.NodeSpec:
        """The Node this kubelet registers."""
        return nodes.NodeSpec(name=self.node_name, internal_ips=self.node_ips, external_ips=self.external_ips,
                              host_name=self.host_name, labels=self.labels, taints=self.taints,
                              control_plane=control_plane, etcd=etcd, version=buildinfo.get().version,
                              node_args=self.node_args, data_dir=paths.host(self.data_dir))


def node_config(flags: Any, command: str, argv: list[str] | None, system_default_registry: str = "") -> dict[str, Any]:
    """The :class:`NodeConfig` fields from the flags of ``command`` ("server" or "agent")."""
    try:
        labels = nodes.parse_labels(flag(flags, "node-label", []))
        taints = nodes.parse_taints(flag(flags, "node-taint", []))
    except nodes.NodeConfigError as exc:
        raise FatalError(str(exc)) from exc
    host_name = nodes.hostname()
    return {
        "data_dir": paths.resolve_data_dir(flag(flags, "data-dir")),
        "node_name": (flag(flags, "node-name", "") or host_name).lower(),
        "host_name": host_name,
        "node_ips": nodes.split_list(flag(flags, "node-ip", [])) or [nodes.detect_node_ip()],
        "external_ips": nodes.split_list(flag(flags, "node-external-ip", [])),
        "labels": labels,
        "taints": taints,
        "pause_image": airgap.pause_image_ref(flag(flags, "pause-image", ""), system_default_registry),
        "with_node_id": bool(flag(flags, "with-node-id", False)),
        "node_args": [command] + list(argv or []),
    }


def kubeconfig_text(server_url: str, ca_pem: bytes, cert_pem: bytes, key_pem: bytes) -> str:
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    return (
        "apiVersion: v1\n"
        "clusters:\n"
        "- cluster:\n"
        f"    certificate-authority-data: {b64(ca_pem)}\n"
        f"    server: {server_url}\n"
        "  name: default\n"
        "contexts:\n"
        "- context:\n"
        "    cluster: default\n"
        "    user: default\n"
        "  name: default\n"
        "current-context: default\n"
        "kind: Config\n"
        "preferences: {}\n"
        "users:\n"
        "- name: default\n"
        "  user:\n"
        f"    client-certificate-data: {b64(cert_pem)}\n"
        f"    client-key-data: {b64(key_pem)}\n"
    )


def ensure_node_password() -> str:
    """/etc/rancher/node/password: 16 random bytes hex, 0600, created once and kept forever."""
    path = paths.host(paths.NODE_CONFIG_DIR) / "password"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    password = tokens.random_password()
    pki.write_private(path, (password + "\n").encode(), 0o600)
    return password


def ensure_node_id() -> str:
    """/etc/rancher/node/id for --with-node-id: 8 hex characters."""
    path = paths.host(paths.NODE_CONFIG_DIR) / "id"
    if path.exists():
        return path.read_text().strip()
    node_id = os.urandom(4).hex()
    pki.write_private(path, (node_id + "\n").encode(), 0o600)
    return node_id


def proc_net() -> Path:
    """/proc/net of the emulated host: a simulated root may provide its own routing table."""
    simulated = paths.host("/proc/net")
    return simulated if simulated.is_dir() else Path("/proc/net")


def install_signal_handlers(stop: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _signum, _frame: stop.set())
