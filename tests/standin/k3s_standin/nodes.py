"""Nodes as K3s and its embedded kubelet present them, node passwords, and the node lifecycle.

* :func:`build_node` renders the Node object a K3s kubelet registers (labels, annotations, addresses,
  capacity, nodeInfo, conditions).
* :class:`NodePasswords` is the server side of join_protocol.md §4 (secret
  ``<node>.node-password.k3s`` holding a scrypt hash in K3s' own ``$1:<salt>:15:8:1:<key>`` format).
* :class:`Lifecycle` plays kube-controller-manager's part: marks nodes whose kubelet stopped posting
  status as Unknown after the 40 s grace period, adds the usual taints, allocates pod CIDRs, and (like
  the ``tokencleaner`` controller K3s enables) deletes expired bootstrap-token secrets.
"""
from __future__ import annotations

import base64
import datetime as dt
import fcntl
import hashlib
import hmac
import ipaddress
import json
import os
import platform
import secrets
import socket
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import buildinfo
from .objstore import Objects, now_rfc3339

CONTAINERD_VERSION = "containerd://2.1.5-k3s1"
NODE_MONITOR_GRACE = dt.timedelta(seconds=40)
ORPHAN_PASSWORD_AGE = dt.timedelta(minutes=10)
SCRYPT_N_LOG2, SCRYPT_R, SCRYPT_P, SCRYPT_KEYLEN, SCRYPT_SALTLEN = 15, 8, 1, 64, 8

# --- host facts -----------------------------------------------------------------------------------------

GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "armv6l": "arm", "s390x": "s390x",
           "riscv64": "riscv64", "ppc64le": "ppc64le"}


def go_arch() -> str:
    machine = platform.machine()
    return GO_ARCH.get(machine, machine)


def hostname() -> str:
    return socket.gethostname()


def _iface_ipv4(iface: str) -> str | None:
    """IPv4 address of an interface via SIOCGIFADDR (no traffic, stdlib only)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            packed = struct.pack("256s", iface[:15].encode())
            data = fcntl.ioctl(sock.fileno(), 0x8915, packed)  # SIOCGIFADDR
            return socket.inet_ntoa(data[20:24])
    except OSError:
        return None


def default_route_iface(proc_net: Path = Path("/proc/net")) -> str | None:
    try:
        for line in (proc_net / "route").read_text().splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 8 and fields[1] == "00000000" and fields[7] == "00000000":
                return fields[0]
    except OSError:
        return None
    return None


def detect_node_ip() -> str:
    """K3s' auto-detected node IP: the address of the default-route interface, else loopback."""
    iface = default_route_iface()
    if iface:
        ip = _iface_ipv4(iface)
        if ip:
            return ip
    return "127.0.0.1"


def split_list(values: list[str] | None) -> list[str]:
    """Flatten comma-separated elements, as K3s does for IP lists and (in effect) labels/taints."""
    out: list[str] = []
    for value in values or []:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return out


def _meminfo_kib() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 1024 * 1024


def _os_image() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"


def _machine_id() -> str:
    for candidate in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            value = Path(candidate).read_text().strip()
            if value:
                return value
        except OSError:
            continue
    return hashlib.md5(hostname().encode()).hexdigest()


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "00000000-0000-0000-0000-000000000000"


def _ephemeral_kib(data_dir: Path) -> int:
    try:
        st = os.statvfs(data_dir if data_dir.exists() else "/")
        return st.f_blocks * st.f_frsize // 1024
    except OSError:
        return 20 * 1024 * 1024


# --- labels and taints ---------------------------------------------------------------------------------

class NodeConfigError(ValueError):
    """An invalid --node-label / --node-taint, with the kubelet's wording."""


def parse_labels(values: list[str] | None) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in split_list(values):
        if "=" not in item:
            raise NodeConfigError(f"invalid label: {item!r}")
        key, value = item.split("=", 1)
        labels[key] = value
    return labels


TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def parse_taints(values: list[str] | None) -> list[dict[str, str]]:
    taints: list[dict[str, str]] = []
    for item in split_list(values):
        spec, _, effect = item.rpartition(":")
        if not spec or effect not in TAINT_EFFECTS:
            raise NodeConfigError(f"invalid taint spec: {item}")
        key, _, value = spec.partition("=")
        taint = {"key": key, "effect": effect}
        if value:
            taint["value"] = value
        taints.append(taint)
    return taints


# --- Node object ------------------------------------------------------------------------------------------

@dataclass
class NodeSpec:
    """What a K3s node registers; filled from the server/agent flags."""

    name: str
    internal_ips: list[str]
    external_ips: list[str] = field(default_factory=list)
    host_name: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[dict[str, str]] = field(default_factory=list)
    control_plane: bool = False
    etcd: bool = False
    version: str = buildinfo.DEFAULT_VERSION
    node_args: list[str] = field(default_factory=list)
    data_dir: Path = Path("/var/lib/rancher/k3s")


def base_labels(spec: NodeSpec) -> dict[str, str]:
    arch = go_arch()
    labels = {
        "beta.kubernetes.io/arch": arch,
        "beta.kubernetes.io/instance-type": "k3s",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": arch,
        "kubernetes.io/hostname": spec.name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": "k3s",
    }
    if spec.control_plane:
        labels["node-role.kubernetes.io/control-plane"] = "true"
        labels["node-role.kubernetes.io/master"] = "true"
    if spec.etcd:
        labels["node-role.kubernetes.io/etcd"] = "true"
    labels.update(spec.labels)
    return labels


def node_annotations(spec: NodeSpec) -> dict[str, str]:
    """K3s' node annotations; k3s.io/hostname and k3s.io/internal-ip are annotations in real K3s."""
    notes = {
        "alpha.kubernetes.io/provided-node-ip": ",".join(spec.internal_ips),
        "k3s.io/hostname": spec.host_name or spec.name,
        "k3s.io/internal-ip": ",".join(spec.internal_ips),
        "k3s.io/node-args": json.dumps(spec.node_args, separators=(",", ":")),
        "k3s.io/node-config-hash": base64.b32encode(
            hashlib.sha256(json.dumps(spec.node_args).encode()).digest()[:20]).decode().rstrip("="),
        "k3s.io/node-env": "{}",
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
    }
    if spec.external_ips:
        notes["k3s.io/external-ip"] = ",".join(spec.external_ips)
    return notes


def addresses(spec: NodeSpec) -> list[dict[str, str]]:
    out = [{"type": "InternalIP", "address": ip} for ip in spec.internal_ips]
    out += [{"type": "ExternalIP", "address": ip} for ip in spec.external_ips]
    out.append({"type": "Hostname", "address": spec.host_name or spec.name})
    return out


def capacity(data_dir: Path) -> dict[str, str]:
    return {
        "cpu": str(os.cpu_count() or 1),
        "ephemeral-storage": f"{_ephemeral_kib(data_dir)}Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": f"{_meminfo_kib()}Ki",
        "pods": "110",
    }


def node_info(spec: NodeSpec) -> dict[str, str]:
    return {
        "architecture": go_arch(),
        "bootID": _boot_id(),
        "containerRuntimeVersion": CONTAINERD_VERSION,
        "kernelVersion": platform.release(),
        "kubeProxyVersion": spec.version,
        "kubeletVersion": spec.version,
        "machineID": _machine_id(),
        "operatingSystem": "linux",
        "osImage": _os_image(),
        "systemUUID": _machine_id(),
    }


def conditions(ready: bool, not_ready_message: str, now: str, previous: list[dict] | None = None) -> list[dict]:
    """Kubelet conditions; lastTransitionTime only moves when a status changes."""
    before = {c.get("type"): c for c in previous or []}
    rows = [
        ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ("Ready", "True", "KubeletReady", "kubelet is posting ready status")
        if ready else ("Ready", "False", "KubeletNotReady", not_ready_message),
    ]
    out = []
    for ctype, status, reason, message in rows:
        old = before.get(ctype, {})
        transition = old.get("lastTransitionTime") if old.get("status") == status else now
        out.append({"type": ctype, "status": status, "reason": reason, "message": message,
                    "lastHeartbeatTime": now, "lastTransitionTime": transition or now})
    return out


NOT_READY_TAINT = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}
UNREACHABLE_TAINTS = [{"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"},
                      {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]
CONTROLLER_TAINT_KEYS = {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}


def build_node(spec: NodeSpec, ready: bool, not_ready_message: str = "") -> dict:
    now = now_rfc3339()
    taints = list(spec.taints)
    if not ready:
        taints.append(dict(NOT_READY_TAINT))
    node: dict = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": spec.name, "labels": base_labels(spec), "annotations": node_annotations(spec)},
        "spec": {"providerID": f"k3s://{spec.name}"},
        "status": {
            "addresses": addresses(spec),
            "allocatable": capacity(spec.data_dir),
            "capacity": capacity(spec.data_dir),
            "conditions": conditions(ready, not_ready_message, now),
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": node_info(spec),
        },
    }
    if taints:
        node["spec"]["taints"] = taints
    return node


def refresh_status(node: dict, spec: NodeSpec, ready: bool, not_ready_message: str) -> None:
    """A kubelet heartbeat: new conditions and addresses; keep user-managed labels and taints."""
    status = node.setdefault("status", {})
    status["conditions"] = conditions(ready, not_ready_message, now_rfc3339(), status.get("conditions"))
    status["addresses"] = addresses(spec)
    status["nodeInfo"] = node_info(spec)
    node_spec = node.setdefault("spec", {})
    kept = [t for t in node_spec.get("taints") or [] if t.get("key") not in CONTROLLER_TAINT_KEYS]
    if not ready:
        kept.append(dict(NOT_READY_TAINT))
    if kept:
        node_spec["taints"] = kept
    else:
        node_spec.pop("taints", None)
    meta = node.setdefault("metadata", {})
    meta.setdefault("annotations", {}).update(node_annotations(spec))


# --- node passwords ------------------------------------------------------------------------------------------

def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SCRYPT_SALTLEN)
    key = hashlib.scrypt(password.encode(), salt=salt, n=1 << SCRYPT_N_LOG2, r=SCRYPT_R, p=SCRYPT_P,
                         dklen=SCRYPT_KEYLEN, maxmem=64 * 1024 * 1024)
    encoded = base64.b64encode(key).decode().rstrip("=")
    return f"$1:{salt.hex()}:{SCRYPT_N_LOG2}:{SCRYPT_R}:{SCRYPT_P}:{encoded}"


def verify_password(stored: str, password: str) -> bool:
    try:
        version, salt_hex, n_log2, r, p, encoded = stored.lstrip("$").split(":")
        if version != "1":
            return False
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
        check = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), n=1 << int(n_log2),
                               r=int(r), p=int(p), dklen=len(key), maxmem=64 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(key, check)


def password_secret_name(node_name: str) -> str:
    return f"{node_name}.node-password.k3s".lower()


class NodePasswordRejected(Exception):
    """The stored hash does not match (HTTP 403)."""


class NodePasswords:
    """Create-or-verify the per-node password secret, serialised per node name."""

    def __init__(self, objects: Objects) -> None:
        self.objects = objects
        self._lock = threading.Lock()

    def ensure(self, node_name: str, password: str) -> None:
        name = password_secret_name(node_name)
        with self._lock:
            secret = self.objects.get("v1", "Secret", "kube-system", name)
            if secret is None:
                self.objects.create(self._new_secret(name, node_name, password))
                return
        stored = base64.b64decode((secret.get("data") or {}).get("hash", "")).decode(errors="replace")
        if not stored:
            raise NodePasswordRejected(f"unable to locate hash data for node secret '{name}'")
        if not verify_password(stored, password):
            raise NodePasswordRejected(f"unable to verify hash for node '{node_name}': hash does not match")

    def _new_secret(self, name: str, node_name: str, password: str) -> dict:
        secret: dict = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": "kube-system"},
            "immutable": True,
            "type": "k3s.cattle.io/node-password",
            "data": {"hash": base64.b64encode(hash_password(password).encode()).decode()},
        }
        node = self.objects.get("v1", "Node", None, node_name)
        if node is not None:
            secret["metadata"]["ownerReferences"] = [owner_reference(node)]
        return secret


def owner_reference(node: dict) -> dict:
    meta = node.get("metadata", {})
    return {"apiVersion": "v1", "kind": "Node", "name": meta.get("name"), "uid": meta.get("uid", "")}


# --- server-side lifecycle ---------------------------------------------------------------------------------

def _parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class Lifecycle:
    """Periodic controller work for the server (every few seconds)."""

    def __init__(self, objects: Objects, own_node: str, cluster_cidr: str = "10.42.0.0/16",
                 log: Callable[[str], None] | None = None) -> None:
        # kube-controller-manager's --node-monitor-grace-period (40 s); tests may shorten it.
        self.grace = dt.timedelta(seconds=float(os.environ.get("K3S_STANDIN_NODE_MONITOR_GRACE", "40")))
        self.objects = objects
        self.own_node = own_node
        self.cluster_cidr = ipaddress.ip_network(cluster_cidr, strict=False)
        self.log = log or (lambda _msg: None)

    def tick(self) -> None:
        for node in self.objects.list("v1", "Node"):
            name = node["metadata"]["name"]
            if name != self.own_node:
                self._check_heartbeat(name, node)
            self._ensure_pod_cidr(name, node)
            self._link_password_secret(node)
        self._clean_bootstrap_tokens()
        self._clean_orphan_passwords()

    def _check_heartbeat(self, name: str, node: dict) -> None:
        ready = next((c for c in node.get("status", {}).get("conditions", []) if c.get("type") == "Ready"), None)
        if ready is None or ready.get("status") == "Unknown":
            return
        beat = _parse_time(ready.get("lastHeartbeatTime"))
        if beat is None or dt.datetime.now(dt.timezone.utc) - beat <= self.grace:
            return
        self.objects.mutate("v1", "Node", None, name, _mark_unknown)
        self.log(f"Node {name} became unreachable: Kubelet stopped posting node status.")

    def _ensure_pod_cidr(self, name: str, node: dict) -> None:
        if node.get("spec", {}).get("podCIDR"):
            return
        used = {n.get("spec", {}).get("podCIDR") for n in self.objects.list("v1", "Node")}
        for subnet in self.cluster_cidr.subnets(new_prefix=24):
            if str(subnet) not in used:
                cidr = str(subnet)
                self.objects.mutate("v1", "Node", None, name,
                                    lambda obj: obj.setdefault("spec", {}).update(podCIDR=cidr, podCIDRs=[cidr]))
                return

    def _link_password_secret(self, node: dict) -> None:
        """Add the Node ownerReference so that deleting the Node garbage-collects the secret."""
        name = password_secret_name(node["metadata"]["name"])
        secret = self.objects.get("v1", "Secret", "kube-system", name)
        if secret is None or secret.get("metadata", {}).get("ownerReferences"):
            return
        ref = owner_reference(node)
        self.objects.mutate("v1", "Secret", "kube-system", name,
                            lambda obj: obj["metadata"].__setitem__("ownerReferences", [ref]))

    def _clean_bootstrap_tokens(self) -> None:
        now = dt.datetime.now(dt.timezone.utc)
        for secret in self.objects.list("v1", "Secret", "kube-system"):
            if secret.get("type") != "bootstrap.kubernetes.io/token":
                continue
            expires = _parse_time(secret_value(secret, "expiration"))
            if expires is not None and expires < now:
                self.objects.delete("v1", "Secret", "kube-system", secret["metadata"]["name"])

    def _clean_orphan_passwords(self) -> None:
        """Node-password secrets whose Node is gone: owned ones at once (GC), others after 10 min."""
        nodes = {n["metadata"]["name"]: n for n in self.objects.list("v1", "Node")}
        now = dt.datetime.now(dt.timezone.utc)
        for secret in self.objects.list("v1", "Secret", "kube-system"):
            meta = secret.get("metadata", {})
            if secret.get("type") != "k3s.cattle.io/node-password" and not meta.get("name", "").endswith(".node-password.k3s"):
                continue
            owners = meta.get("ownerReferences") or []
            owner_alive = any(o.get("kind") == "Node" and o.get("name") in nodes
                              and nodes[o["name"]]["metadata"].get("uid", o.get("uid")) == o.get("uid") for o in owners)
            created = _parse_time(meta.get("creationTimestamp"))
            expired = created is None or now - created > ORPHAN_PASSWORD_AGE
            node_name = meta["name"][: -len(".node-password.k3s")]
            if (owners and not owner_alive) or (not owners and node_name not in nodes and expired):
                self.objects.delete("v1", "Secret", "kube-system", meta["name"])


def _mark_unknown(node: dict) -> None:
    now = now_rfc3339()
    for cond in node.get("status", {}).get("conditions", []):
        if cond.get("status") != "Unknown":
            cond["lastTransitionTime"] = now
        cond.update(status="Unknown", reason="NodeStatusUnknown", message="Kubelet stopped posting node status.")
    spec = node.setdefault("spec", {})
    kept = [t for t in spec.get("taints") or [] if t.get("key") not in CONTROLLER_TAINT_KEYS]
    spec["taints"] = kept + [dict(t, timeAdded=now) if t["effect"] == "NoExecute" else dict(t)
                             for t in UNREACHABLE_TAINTS]


def secret_value(secret: dict, key: str) -> str | None:
    """A Secret value from ``data`` (base64) or ``stringData`` (plain)."""
    data = secret.get("data") or {}
    if key in data:
        try:
            return base64.b64decode(data[key]).decode()
        except (ValueError, TypeError):
            return None
    plain = secret.get("stringData") or {}
    return plain.get(key)


