#!/usr/bin/env python3
"""The test lab: podman networks, the release mirror and systemd-booted Debian hosts.

Used by the Makefile (``lablib.py up|down|status``), by Molecule's create/destroy hooks
(``lablib.py network-create|mirror-start|...``) and, as a library, by tests/integration.

Everything made here carries the label ``io.edgefleet.project=edgefleet-k3s`` and a run label
``io.edgefleet.run=<run id>``, so that clean-up removes exactly what the project made (all of it, or
one run's share) and nothing else on the machine. Podman always runs with the project's
``tests/lab/containers.conf`` (runc, lower ulimits), passed through ``CONTAINERS_CONF``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LAB_DIR = REPO / ".lab"
CONTAINERS_CONF = REPO / "tests" / "lab" / "containers.conf"
MIRROR_SCRIPT = REPO / "tests" / "lab" / "mirror.py"
MIRROR_ROOT = LAB_DIR / "mirror"
SSH_KEY = LAB_DIR / "ssh" / "id_ed25519"
INVENTORY_DIR = REPO / "inventories" / "lab"

PROJECT_LABEL = "io.edgefleet.project"
PROJECT = "edgefleet-k3s"
RUN_LABEL = "io.edgefleet.run"
ROLE_LABEL = "io.edgefleet.role"
MIRROR_SCRIPT_LABEL = "io.edgefleet.mirror-script"

IMAGES = {
    "debian12": "localhost/edgefleet-debian12:latest",
    "debian13": "localhost/edgefleet-debian13:latest",
}
MIRROR_TLS_DIR = LAB_DIR / "mirror-tls"
MIRROR_ALIAS = "mirror"
MIRROR_PORT = 8080
MIRROR_TLS_PORT = 8443
MIRROR_URL = f"http://{MIRROR_ALIAS}:{MIRROR_PORT}"
MIRROR_HTTPS_URL = f"https://{MIRROR_ALIAS}:{MIRROR_TLS_PORT}"
MIRROR_CA_ON_HOST = "/usr/local/share/ca-certificates/edgefleet-lab-mirror-ca.crt"

# `make lab`: one run id, fixed names, so that the lab is found again by later commands.
LAB_RUN = "lab"
LAB_NETWORK = "edgefleet-lab"
LAB_AIRGAP_NETWORK = "edgefleet-lab-airgap"
LAB_MIRROR = "edgefleet-mirror"


class LabError(RuntimeError):
    """A lab operation failed; the message says what and shows podman's own words."""


# ----------------------------------------------------------------------------------------------
# podman
# ----------------------------------------------------------------------------------------------

def podman_env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def podman(*args: str, check: bool = True, input: bytes | None = None,
           timeout: float | None = 300) -> subprocess.CompletedProcess[bytes]:
    """Run podman with the project's containers.conf; raise LabError with its stderr on failure."""
    try:
        result = subprocess.run(["podman", *args], env=podman_env(), input=input, capture_output=True,
                                timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"podman {' '.join(args[:3])} ... timed out after {timeout} s") from exc
    if check and result.returncode != 0:
        raise LabError(f"podman {shlex.join(args)} failed ({result.returncode}): "
                       f"{result.stderr.decode(errors='replace').strip()}")
    return result


def podman_json(*args: str) -> list[dict[str, Any]]:
    out = podman(*args).stdout.decode().strip()
    data = json.loads(out) if out else []
    return data if isinstance(data, list) else [data]


def labels(run_id: str, role: str, extra: Mapping[str, str] | None = None) -> list[str]:
    """podman --label arguments that mark a resource as the project's, of one run, in one role."""
    values = {PROJECT_LABEL: PROJECT, RUN_LABEL: run_id, ROLE_LABEL: role, **(extra or {})}
    return [arg for key, value in values.items() for arg in ("--label", f"{key}={value}")]


def container_exists(name: str) -> bool:
    return podman("container", "exists", name, check=False).returncode == 0


def container_running(name: str) -> bool:
    result = podman("container", "inspect", "--format", "{{.State.Running}}", name, check=False)
    return result.returncode == 0 and result.stdout.decode().strip() == "true"


def container_labels(name: str) -> dict[str, str]:
    result = podman("container", "inspect", "--format", "{{json .Config.Labels}}", name, check=False)
    return json.loads(result.stdout or b"{}") or {} if result.returncode == 0 else {}


def image_exists(image: str) -> bool:
    return podman("image", "exists", image, check=False).returncode == 0


# ----------------------------------------------------------------------------------------------
# networks
# ----------------------------------------------------------------------------------------------

def create_network(name: str, run_id: str, internal: bool = False) -> str:
    """A bridge network with DNS (hosts reach each other and `mirror` by name); internal = no route out."""
    if podman("network", "exists", name, check=False).returncode == 0:
        return name
    podman("network", "create", *labels(run_id, "airgap-network" if internal else "network"),
           *(["--internal"] if internal else []), name)
    return name


def remove_network(name: str) -> None:
    if podman("network", "exists", name, check=False).returncode == 0:
        podman("network", "rm", "--force", name)


def disconnect(container: str, network: str) -> None:
    """Cut a running host's link to a network (partition tests)."""
    podman("network", "disconnect", network, container)


def connect(container: str, network: str, aliases: Sequence[str] = ()) -> None:
    """Restore (or add) a running host's link to a network, with its DNS aliases."""
    podman("network", "connect", *[a for alias in aliases for a in ("--alias", alias)], network, container)


# ----------------------------------------------------------------------------------------------
# hosts
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExecResult:
    command: Sequence[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe(self) -> str:
        return (f"{shlex.join(self.command)} -> {self.returncode}\n"
                f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}")


@dataclass(frozen=True)
class BootState:
    state: str  # what `systemctl is-system-running` said: running or degraded
    failed_units: tuple[str, ...] = ()


@dataclass
class Host:
    """A container booted with systemd that plays one lab machine."""

    name: str  # container name (what the podman connection and `podman exec` use)
    hostname: str
    image: str
    networks: list[str] = field(default_factory=list)

    def exec(self, command: Sequence[str] | str, *, check: bool = True, input: bytes | str | None = None,
             env: Mapping[str, str] | None = None, timeout: float | None = 120) -> ExecResult:
        """Run a command inside the host (a string runs through `sh -c`) as root."""
        argv = ["sh", "-c", command] if isinstance(command, str) else list(command)
        env_args = [a for key, value in (env or {}).items() for a in ("--env", f"{key}={value}")]
        data = input.encode() if isinstance(input, str) else input
        interactive = ["--interactive"] if data is not None else []
        result = podman("exec", *interactive, *env_args, self.name, *argv, check=False, input=data,
                        timeout=timeout)
        outcome = ExecResult(argv, result.returncode, result.stdout.decode(errors="replace"),
                             result.stderr.decode(errors="replace"))
        if check and not outcome.ok:
            raise LabError(f"on {self.name}: {outcome.describe()}")
        return outcome

    def python(self, code: str, *args: str, check: bool = True, timeout: float | None = 120) -> ExecResult:
        """Run Python code with the host's own python3 (the only interpreter a bare host has)."""
        return self.exec(["python3", "-c", code, *args], check=check, timeout=timeout)

    def write_file(self, path: str, content: bytes | str, mode: str = "0644") -> None:
        script = 'mkdir -p "$(dirname "$1")" && cat >"$1" && chmod "$2" "$1"'
        self.exec(["sh", "-c", script, "sh", path, mode], input=content)

    def read_file(self, path: str) -> str:
        return self.exec(["cat", path]).stdout

    def ip(self, network: str) -> str:
        result = podman("container", "inspect", "--format",
                        f'{{{{(index .NetworkSettings.Networks "{network}").IPAddress}}}}', self.name)
        return result.stdout.decode().strip()

    def wait_booted(self, timeout: float = 120) -> BootState:
        """Wait until systemd finished booting; `degraded` is accepted and reports the failed units."""
        deadline = time.monotonic() + timeout
        state = "unknown"
        while time.monotonic() < deadline:
            result = self.exec(["systemctl", "is-system-running"], check=False, timeout=30)
            state = result.stdout.strip() or result.stderr.strip()
            if state == "running":
                return BootState(state)
            if state == "degraded":
                failed = self.exec(["systemctl", "list-units", "--failed", "--plain", "--no-legend"],
                                   check=False).stdout.split("\n")
                return BootState(state, tuple(line.split()[0] for line in failed if line.strip()))
            time.sleep(0.5)
        jobs = self.exec(["systemctl", "list-jobs", "--no-pager"], check=False).stdout
        raise LabError(f"{self.name} did not finish booting in {timeout:.0f} s (state: {state})\n{jobs}")

    def trust_mirror_ca(self) -> None:
        """Add the lab mirror's CA to the host's trust store, as a real host trusts GitHub's."""
        self.write_file(MIRROR_CA_ON_HOST, (MIRROR_TLS_DIR / "ca.crt").read_bytes())
        self.exec(["update-ca-certificates", "--fresh"], timeout=120)

    def authorize_ssh_key(self, public_key: str) -> None:
        """Let the lab's key log in as root, for the tests where the SSH transport itself matters."""
        self.exec(["sh", "-c", "install -d -m 0700 /root/.ssh && cat >/root/.ssh/authorized_keys && "
                               "chmod 0600 /root/.ssh/authorized_keys"], input=public_key)


def start_host(name: str, hostname: str, image: str, network: str, run_id: str,
               role: str = "host", aliases: Sequence[str] = ()) -> Host:
    """Start one systemd host; the hostname is also its DNS name on the network."""
    image_ref = IMAGES.get(image, image)
    if not image_exists(image_ref):
        raise LabError(f"image {image_ref} missing: run tests/lab/images.sh")
    network_aliases = [a for alias in (hostname, *aliases) for a in ("--network-alias", alias)]
    podman("run", "--detach", "--name", name, "--hostname", hostname, "--network", network,
           *network_aliases, "--systemd=always", *labels(run_id, role, {"io.edgefleet.image": image}),
           image_ref, "/sbin/init")
    return Host(name=name, hostname=hostname, image=image_ref, networks=[network])


def start_hosts(specs: Iterable[tuple[str, str]], image: str, network: str, run_id: str,
                role: str = "host", boot_timeout: float = 120) -> list[Host]:
    """Start hosts given as (container name, hostname) pairs, then wait until each has booted."""
    hosts = [start_host(name, hostname, image, network, run_id, role) for name, hostname in specs]
    for host in hosts:
        boot = host.wait_booted(boot_timeout)
        if boot.state != "running":
            print(f"[lab] {host.name} booted {boot.state}; failed units: {', '.join(boot.failed_units)}",
                  file=sys.stderr)
    return hosts


def existing_host(name: str) -> Host:
    inspect = podman_json("container", "inspect", name)[0]
    config = inspect.get("Config", {})
    networks = list((inspect.get("NetworkSettings", {}) or {}).get("Networks", {}) or {})
    return Host(name=name, hostname=str(config.get("Hostname", name)),
                image=str(inspect.get("ImageName", "")), networks=networks)


def remove_container(name: str) -> None:
    if container_exists(name):
        podman("rm", "--force", "--time", "0", name)


# ----------------------------------------------------------------------------------------------
# mirror
# ----------------------------------------------------------------------------------------------

def mirror_script_hash() -> str:
    return hashlib.sha256(MIRROR_SCRIPT.read_bytes()).hexdigest()[:12]


def build_mirror() -> bool:
    """Build or refresh .lab/mirror and its TLS files (fast when nothing changed)."""
    sys.path.insert(0, str(MIRROR_SCRIPT.parent))
    import mirror  # noqa: PLC0415  (lablib is also used where only podman is needed)

    mirror.ensure_tls(MIRROR_TLS_DIR)
    return mirror.build(MIRROR_ROOT)


def start_mirror(name: str, networks: Sequence[str], run_id: str, image: str = "debian12",
                 root: Path = MIRROR_ROOT) -> str:
    """Run the mirror (tree and script read-only) as `mirror` on every given network.

    A running mirror with the same script is kept: the tree is bind-mounted, so a rebuilt tree is
    served at once; a changed script means a new container.
    """
    if not (root / "k3s-io").is_dir():
        raise LabError(f"{root} is empty: run tests/lab/mirror.py build")
    script_hash = mirror_script_hash()
    if container_running(name) and container_labels(name).get(MIRROR_SCRIPT_LABEL) == script_hash:
        attached = existing_host(name).networks
        for network in networks:
            if network not in attached:
                connect(name, network, [MIRROR_ALIAS])
        return name
    remove_container(name)
    tls = ["--tls-port", str(MIRROR_TLS_PORT), "--tls-cert", "/srv/tls/server.crt",
           "--tls-key", "/srv/tls/server.key"] if (MIRROR_TLS_DIR / "server.crt").is_file() else []
    podman("run", "--detach", "--name", name, "--hostname", MIRROR_ALIAS,
           "--network", networks[0], "--network-alias", MIRROR_ALIAS,
           *labels(run_id, "mirror", {MIRROR_SCRIPT_LABEL: script_hash}),
           "--volume", f"{root}:/srv/mirror:ro", "--volume", f"{MIRROR_SCRIPT}:/opt/edgefleet/mirror.py:ro",
           *(["--volume", f"{MIRROR_TLS_DIR}:/srv/tls:ro"] if tls else []),
           IMAGES.get(image, image),
           "python3", "-u", "/opt/edgefleet/mirror.py", "serve", "--root", "/srv/mirror",
           "--port", str(MIRROR_PORT), *tls)
    for network in networks[1:]:
        connect(name, network, [MIRROR_ALIAS])
    wait_mirror(name)
    return name


def wait_mirror(name: str, timeout: float = 30) -> None:
    probe = (f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{MIRROR_PORT}/healthz', "
             "timeout=2).read()")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if podman("exec", name, "python3", "-c", probe, check=False).returncode == 0:
            return
        if not container_running(name):
            logs = podman("logs", name, check=False).stderr.decode(errors="replace")
            raise LabError(f"mirror container {name} exited:\n{logs}")
        time.sleep(0.3)
    raise LabError(f"mirror {name} did not answer on port {MIRROR_PORT} in {timeout:.0f} s")


# ----------------------------------------------------------------------------------------------
# images, SSH key, clean-up
# ----------------------------------------------------------------------------------------------

def image_name(name_or_ref: str) -> str:
    """debian12 for debian12 or localhost/edgefleet-debian12:latest."""
    for name, ref in IMAGES.items():
        if name_or_ref in (name, ref, ref.removesuffix(":latest")):
            return name
    raise LabError(f"not a lab image: {name_or_ref} (known: {', '.join(IMAGES)})")


def ensure_images(names: Iterable[str] = tuple(IMAGES)) -> None:
    """Build missing host images (tests/lab/images.sh skips the ones that exist)."""
    missing = [n for n in names if not image_exists(IMAGES[n])]
    if missing:
        subprocess.run([str(REPO / "tests" / "lab" / "images.sh"), *missing], env=podman_env(), check=True)


def ensure_ssh_key() -> Path:
    """A lab-only key pair under .lab/ (gitignored) for the hosts' openssh-server."""
    if not SSH_KEY.is_file():
        SSH_KEY.parent.mkdir(parents=True, exist_ok=True)
        SSH_KEY.parent.chmod(0o700)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "edgefleet-lab", "-f", str(SSH_KEY)],
                       check=True)
    return SSH_KEY


@dataclass(frozen=True)
class Removed:
    containers: list[str]
    networks: list[str]
    volumes: list[str]


def project_resources(kind: str, run_id: str | None, name_prefix: str = "") -> list[str]:
    """Names of the project's containers/networks/volumes, of one run (or all), optionally by prefix."""
    commands = {
        "container": ("ps", "--all", "--format", "json"),
        "network": ("network", "ls", "--format", "json"),
        "volume": ("volume", "ls", "--format", "json"),
    }
    items = podman_json(*commands[kind], "--filter", f"label={PROJECT_LABEL}={PROJECT}")
    names: list[str] = []
    for item in items:
        item_labels = item.get("Labels") or item.get("labels") or {}
        if run_id is not None and item_labels.get(RUN_LABEL) != run_id:
            continue
        name = item.get("Names") or item.get("Name") or item.get("name")
        name = name[0] if isinstance(name, list) else str(name)
        if name.startswith(name_prefix):
            names.append(name)
    return sorted(names)


def remove_project_resources(run_id: str | None = None, name_prefix: str = "") -> Removed:
    """Remove every container, then network and volume, the project made (or one run made)."""
    containers = project_resources("container", run_id, name_prefix)
    if containers:
        podman("rm", "--force", "--time", "0", *containers)
    networks = project_resources("network", run_id, name_prefix)
    for network in networks:
        podman("network", "rm", "--force", network, check=False)
    volumes = project_resources("volume", run_id, name_prefix)
    if volumes:
        podman("volume", "rm", "--force", *volumes)
    return Removed(containers, networks, volumes)


# ----------------------------------------------------------------------------------------------
# the `make lab` lab
# ----------------------------------------------------------------------------------------------

def lab_host_specs(edges: int) -> list[tuple[str, str]]:
    return [(f"edgefleet-lab-edge{i}", f"edge{i}") for i in range(1, edges + 1)]


def lab_up(edges: int, image: str) -> list[Host]:
    """Bring the lab up (idempotent): networks, mirror, N edge hosts, inventory."""
    ensure_images([image, "debian12"])  # the mirror runs on the Debian 12 image
    build_mirror()
    create_network(LAB_NETWORK, LAB_RUN)
    create_network(LAB_AIRGAP_NETWORK, LAB_RUN, internal=True)
    start_mirror(LAB_MIRROR, [LAB_NETWORK, LAB_AIRGAP_NETWORK], LAB_RUN)
    wanted = lab_host_specs(edges)
    wanted_names = {name for name, _ in wanted}
    for stale in project_resources("container", LAB_RUN):
        if stale.startswith("edgefleet-lab-edge") and stale not in wanted_names:
            remove_container(stale)
    to_start = []
    for name, hostname in wanted:
        if container_running(name) and container_labels(name).get("io.edgefleet.image") == image:
            continue
        remove_container(name)
        to_start.append((name, hostname))
    start_hosts(to_start, image, LAB_NETWORK, LAB_RUN, role="edge")
    hosts = [existing_host(name) for name, _ in wanted]
    public_key = ensure_ssh_key().with_suffix(".pub").read_text()
    for host in hosts:
        host.wait_booted()
        host.authorize_ssh_key(public_key)
        host.trust_mirror_ca()
    write_inventories(hosts)
    return hosts


def write_inventories(hosts: Sequence[Host]) -> None:
    """inventories/lab/hosts.yml (podman connection) and hosts-ssh.yml (real SSH to the same hosts)."""
    INVENTORY_DIR.mkdir(parents=True, exist_ok=True)
    header = ("# Generated by `make lab` (tests/lab/lablib.py); rewritten on every run, not committed.\n"
              f"# Run ansible with CONTAINERS_CONF={CONTAINERS_CONF.relative_to(REPO)} exported.\n")
    common = {"ansible_python_interpreter": "/usr/bin/python3", "edgefleet_lab_mirror_url": MIRROR_URL,
              "edgefleet_lab_mirror_https_url": MIRROR_HTTPS_URL}
    podman_inventory = {"all": {
        "vars": {**common, "ansible_connection": "containers.podman.podman",
                 "ansible_podman_executable": "podman"},
        "children": {"edge": {"hosts": {h.hostname: {"ansible_host": h.name} for h in hosts}}},
    }}
    ssh_inventory = {"all": {
        "vars": {**common, "ansible_connection": "ssh", "ansible_user": "root",
                 "ansible_ssh_private_key_file": str(SSH_KEY),
                 "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"},
        "children": {"edge": {"hosts": {h.hostname: {"ansible_host": h.ip(LAB_NETWORK)} for h in hosts}}},
    }}
    for file_name, inventory in (("hosts.yml", podman_inventory), ("hosts-ssh.yml", ssh_inventory)):
        (INVENTORY_DIR / file_name).write_text(header + to_yaml(inventory))


def to_yaml(data: object) -> str:
    """YAML when PyYAML is there (the project venv has it); JSON, which is YAML too, otherwise."""
    try:
        import yaml  # noqa: PLC0415
    except ImportError:
        return json.dumps(data, indent=2) + "\n"
    return str(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))


def lab_status() -> list[tuple[str, str, str, str]]:
    """(container, role, state, address) of every project container."""
    rows = []
    for name in project_resources("container", None):
        inspect = podman_json("container", "inspect", name)[0]
        state = inspect.get("State", {}).get("Status", "?")
        container_labels_ = inspect.get("Config", {}).get("Labels") or {}
        networks = (inspect.get("NetworkSettings", {}) or {}).get("Networks", {}) or {}
        address = ", ".join(f"{net}={info.get('IPAddress', '')}" for net, info in sorted(networks.items()))
        rows.append((name, f"{container_labels_.get(RUN_LABEL, '?')}/{container_labels_.get(ROLE_LABEL, '?')}",
                     state, address))
    return rows


def print_summary(hosts: Sequence[Host]) -> None:
    print("\nedgefleet lab is up")
    print(f"  mirror: {MIRROR_URL} and {MIRROR_HTTPS_URL} as the hosts see it (lab CA trusted)")
    print(f"          container {LAB_MIRROR} on {LAB_NETWORK} and {LAB_AIRGAP_NETWORK} (internal, no route out)")
    for host in hosts:
        state = host.exec(["systemctl", "is-system-running"], check=False).stdout.strip()
        print(f"  {host.hostname:<8} container {host.name:<22} {state:<9} {host.ip(LAB_NETWORK)}"
              f"  ({host.image.split('/')[-1]})")
    print(f"  inventory: {(INVENTORY_DIR / 'hosts.yml').relative_to(REPO)} (podman connection), "
          f"{(INVENTORY_DIR / 'hosts-ssh.yml').relative_to(REPO)} (SSH)")


# ----------------------------------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="bring the lab up (make lab)")
    up.add_argument("--edges", type=int, default=3)
    up.add_argument("--image", choices=sorted(IMAGES), default="debian12")
    down = sub.add_parser("down", help="remove the project's containers, networks and volumes")
    down.add_argument("--run", help="only this run's (default: everything the project made)")
    sub.add_parser("status", help="list the project's containers")
    net = sub.add_parser("network-create")
    net.add_argument("name")
    net.add_argument("--run", required=True)
    net.add_argument("--internal", action="store_true")
    net_rm = sub.add_parser("network-remove")
    net_rm.add_argument("name")
    mirror_start = sub.add_parser("mirror-start", help="build the tree if needed and run the mirror")
    mirror_start.add_argument("--name", required=True)
    mirror_start.add_argument("--network", action="append", required=True)
    mirror_start.add_argument("--run", required=True)
    mirror_stop = sub.add_parser("mirror-stop")
    mirror_stop.add_argument("--name", required=True)
    images = sub.add_parser("ensure-images", help="build the named host images if missing")
    images.add_argument("images", nargs="+", help="debian12, debian13 or their localhost/ references")
    booted = sub.add_parser("wait-booted", help="wait until systemd has booted these containers")
    booted.add_argument("containers", nargs="+")
    booted.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args(argv)

    try:
        if args.command == "up":
            if args.edges < 1:
                parser.error("--edges must be at least 1")
            print_summary(lab_up(args.edges, args.image))
        elif args.command == "down":
            removed = remove_project_resources(args.run)
            print(f"removed {len(removed.containers)} containers, {len(removed.networks)} networks, "
                  f"{len(removed.volumes)} volumes")
        elif args.command == "status":
            for row in lab_status():
                print("  ".join(row))
        elif args.command == "network-create":
            create_network(args.name, args.run, internal=args.internal)
        elif args.command == "network-remove":
            remove_network(args.name)
        elif args.command == "mirror-start":
            ensure_images(["debian12"])
            build_mirror()
            start_mirror(args.name, args.network, args.run)
        elif args.command == "mirror-stop":
            remove_container(args.name)
        elif args.command == "ensure-images":
            ensure_images([image_name(ref) for ref in args.images])
        elif args.command == "wait-booted":
            for name in args.containers:
                boot = existing_host(name).wait_booted(args.timeout)
                print(f"{name}: {boot.state}" + (f" (failed: {', '.join(boot.failed_units)})"
                                                 if boot.failed_units else ""))
    except LabError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
