"""Verify step of the default scenario: a standalone K3s on each edge host, installed by site.yml.

Molecule hands testinfra its inventory; testinfra has no backend for the podman connection plugin and
would send every command through Ansible (seconds each, and into the scenario's ANSIBLE_LOG_PATH).
The `node` fixture talks to the same container with `podman exec` instead; `host` is still used for
the inventory's variables. Secrets are compared by hash on the host, never printed.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pytest
import testinfra

VERSION = "v1.34.3+k3s1"
EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
CONFIG_DIR = "/etc/rancher/k3s"
UNIT = "/etc/systemd/system/k3s.service"
ENV_FILE = "/etc/systemd/system/k3s.service.env"

# install_script.md §6: the unit's settings, in order (comments and blank lines aside).
UNIT_LINES = [
    "[Unit]",
    "Description=Lightweight Kubernetes",
    "Documentation=https://k3s.io",
    "Wants=network-online.target",
    "After=network-online.target",
    "[Install]",
    "WantedBy=multi-user.target",
    "[Service]",
    "Type=notify",
    "EnvironmentFile=-/etc/default/%N",
    "EnvironmentFile=-/etc/sysconfig/%N",
    f"EnvironmentFile=-{ENV_FILE}",
    "KillMode=process",
    "Delegate=yes",
    "User=root",
    "LimitNOFILE=1048576",
    "LimitNPROC=infinity",
    "LimitCORE=infinity",
    "TasksMax=infinity",
    "TimeoutStartSec=0",
    "Restart=always",
    "RestartSec=5s",
    "ExecStartPre=-/sbin/modprobe br_netfilter",
    "ExecStartPre=-/sbin/modprobe overlay",
    "ExecStart=/usr/local/bin/k3s server",
]


@pytest.fixture
def node(host):
    """The host under test over `podman exec` (the inventory names hosts by container name)."""
    os.environ.setdefault("CONTAINERS_CONF", os.path.join(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."),
                                                          "tests/lab/containers.conf"))
    return testinfra.get_host(f"podman://{host.backend.get_hostname()}")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def variables(host) -> dict:
    return host.ansible.get_variables()


def journal(node) -> str:
    return node.run("journalctl --unit k3s --no-pager --lines 60").stdout


def secrets(host) -> dict[str, str]:
    """The secret values of the scenario's inventory, by what they are."""
    hostvars = variables(host)
    return {
        "token": hostvars["k3s_token"],
        "proxy password": "p%40ss$w\"o'rd\\`x",
        "registry password": hostvars["k3s_registries"]["configs"]["registry.example.com:5000"]["auth"]["password"],
    }


# Runs first: the tests after it run commands through Ansible, which logs to the same file.
def test_play_output_never_shows_a_secret(host):
    log = (EPHEMERAL / "ansible.log").read_text()
    assert "TASK [edgefleet.k3s.k3s_service" in log, "the scenario's runs were not logged"
    for what, value in secrets(host).items():
        assert value not in log, f"the {what} appears in the play output ({EPHEMERAL / 'ansible.log'})"


def test_secret_values_are_the_hard_ones(host):
    """The inventory really holds the characters the peers' tools break on (molecule.yml escaping)."""
    assert secrets(host)["token"] == "edge+/%*$'\"\\token"
    assert variables(host)["k3s_proxy"]["http_proxy"] == "http://edge:p%40ss$w\"o'rd\\`x@proxy.invalid:3128"


def test_k3s_service_is_enabled_and_running(host, node):
    service = node.service("k3s")
    assert service.is_enabled, journal(node)
    assert service.is_running, journal(node)


def test_unit_has_exactly_the_install_script_settings(host, node):
    unit = node.file(UNIT)
    assert (unit.user, unit.group, unit.mode) == ("root", "root", 0o644)
    lines = [line.strip() for line in unit.content_string.splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert lines == UNIT_LINES


@pytest.mark.parametrize("path", [
    f"{CONFIG_DIR}/token",
    f"{CONFIG_DIR}/config.yaml",
    f"{CONFIG_DIR}/config.yaml.d/50-kubelet.yaml",
    f"{CONFIG_DIR}/registries.yaml",
    ENV_FILE,
])
def test_files_with_settings_or_secrets_are_0600_root(host, node, path):
    f = node.file(path)
    assert f.is_file, f"{path} is missing"
    assert (f.user, f.group, f.mode) == ("root", "root", 0o600)


def test_token_file_holds_the_token_exactly(host, node):
    assert node.file(f"{CONFIG_DIR}/token").sha256sum == sha256(secrets(host)["token"] + "\n")


def test_token_is_nowhere_else(host, node):
    digest = sha256(secrets(host)["token"])
    # The check runs on the host and prints only file names, so the token never crosses the wire.
    script = (
        "import hashlib, os, sys\n"
        "token = None\n"
        "want = sys.argv[1]\n"
        "for path in ('/etc/rancher/k3s/token',):\n"
        "    token = open(path, 'rb').read().rstrip(b'\\n')\n"
        "assert hashlib.sha256(token).hexdigest() == want, 'token file differs'\n"
        "found = []\n"
        "for path in ['/etc/systemd/system/k3s.service', '/etc/systemd/system/k3s.service.env',\n"
        "             '/etc/rancher/k3s/config.yaml', '/etc/rancher/k3s/registries.yaml']:\n"
        "    if token in open(path, 'rb').read():\n"
        "        found.append(path)\n"
        "for pid in filter(str.isdigit, os.listdir('/proc')):\n"
        "    try:\n"
        "        cmdline = open(f'/proc/{pid}/cmdline', 'rb').read()\n"
        "    except OSError:\n"
        "        continue\n"
        "    if token in cmdline:\n"
        "        found.append(f'process {pid}')\n"
        "print(' '.join(found))\n"
    )
    out = node.check_output("python3 -c %s %s", script, digest)
    assert out.strip() == "", f"token found in: {out}"
    # And what `ps` shows: no k3s process has an argument beyond its command.
    assert "token" not in node.check_output("ps -eo args"), "something with 'token' on a command line"
    assert node.check_output("systemctl show k3s --property=ExecStart").count("k3s server") == 1


def test_proxy_reaches_k3s_literally(host, node):
    """systemd's reading of the environment file gives K3s exactly the inventory's proxy values."""
    wanted = variables(host)["k3s_proxy"]
    script = (
        "import hashlib, json, subprocess\n"
        "pid = subprocess.check_output(['systemctl', 'show', 'k3s', '--property=MainPID', '--value']).strip()\n"
        "env = dict(item.split(b'=', 1) for item in open(b'/proc/' + pid + b'/environ', 'rb').read().split(b'\\0') if b'=' in item)\n"
        "print(json.dumps({k: hashlib.sha256(env[k.encode()]).hexdigest() for k in ('HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY') if k.encode() in env}))\n"
    )
    got = json.loads(node.check_output("python3 -c %s", script))
    assert got == {
        "HTTP_PROXY": sha256(wanted["http_proxy"]),
        "HTTPS_PROXY": sha256(wanted["https_proxy"]),
        "NO_PROXY": sha256(",".join(wanted["no_proxy"])),
    }


def test_config_yaml_is_what_the_user_meant(host, node):
    text = node.check_output(f"cat {CONFIG_DIR}/config.yaml")
    assert text.startswith("# Managed by edgefleet.k3s")
    assert 'write-kubeconfig-mode: "0600"' in text
    assert 'token-file: "/etc/rancher/k3s/token"' in text
    assert '  - "edgefleet.io/site=molecule"' in text
    # The address of the default route, which is what ansible_default_ipv4 reports.
    ip = re.search(r"\bsrc (\S+)", node.check_output("ip -4 -o route get 1.1.1.1")).group(1)
    assert re.search(r'^tls-san\+:\n  - "%s"$' % re.escape(ip), text, re.M)
    dropin = node.check_output(f"cat {CONFIG_DIR}/config.yaml.d/50-kubelet.yaml")
    assert 'kubelet-arg+:\n  - "max-pods=50"' in dropin


def test_binary_is_the_verified_release_behind_a_stable_link(host, node):
    link = node.file("/usr/local/bin/k3s")
    assert link.is_symlink and link.linked_to == f"/opt/edgefleet/k3s/{VERSION}/k3s"
    binary = node.file(f"/opt/edgefleet/k3s/{VERSION}/k3s")
    assert (binary.user, binary.group, binary.mode) == ("root", "root", 0o755)
    sums = node.file(f"/opt/edgefleet/k3s/{VERSION}/sha256sum-amd64.txt").content_string
    assert re.search(rf"^{binary.sha256sum}  k3s$", sums, re.M), sums
    for tool in ("kubectl", "crictl", "ctr"):
        assert node.file(f"/usr/local/bin/{tool}").linked_to == f"/opt/edgefleet/k3s/{VERSION}/k3s"
    assert node.check_output("k3s --version").startswith(f"k3s version {VERSION} ")
    assert node.run("ls -A /opt/edgefleet/k3s/.staging").stdout.strip() == "", "staging left behind"


def test_airgap_archive_only_where_asked(host, node):
    archive = node.file("/var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst")
    if not variables(host).get("k3s_artifacts_airgap_images"):
        assert not archive.exists
        return
    assert (archive.user, archive.group, archive.mode) == ("root", "root", 0o644)
    sums = node.file(f"/opt/edgefleet/k3s/{VERSION}/sha256sum-amd64.txt").content_string
    assert re.search(rf"^{archive.sha256sum}  k3s-airgap-images-amd64\.tar\.zst$", sums, re.M), sums


def test_k3s_was_not_restarted_by_the_second_run(host, node):
    name = host.backend.get_hostname()
    records = [p.read_text() for p in sorted(EPHEMERAL.glob(f"k3s-start-{name}-*"))]
    assert len(records) >= 2, f"expected a record of converge and of idempotence, found {len(records)}"
    assert "MainPID=0" not in records[0], records[0]
    assert len(set(records)) == 1, "K3s restarted between the runs:\n" + "\n".join(records)
    # And it started once in all: the first real run applied every change with one start.
    messages = node.check_output("journalctl --unit k3s --no-pager --output cat").splitlines()
    assert len([m for m in messages if m.startswith("Started k3s")]) == 1, journal(node)


def test_scripts_are_installed(host, node):
    for script in ("k3s-killall.sh", "k3s-uninstall.sh"):
        f = node.file(f"/usr/local/bin/{script}")
        assert (f.user, f.mode) == ("root", 0o755)
        assert node.run(f"sh -n /usr/local/bin/{script}").rc == 0


def test_kubeconfig_reaches_the_cluster_with_the_kubernetes_client(host, node):
    import yaml
    from kubernetes import client, config

    name = host.backend.get_hostname()
    path = EPHEMERAL / "kubeconfigs" / f"{name}.yaml"
    assert path.stat().st_mode & 0o777 == 0o600
    kubeconfig = yaml.safe_load(path.read_text())
    assert kubeconfig["current-context"] == name
    assert [c["name"] for c in kubeconfig["clusters"]] == [name]
    assert kubeconfig["clusters"][0]["cluster"]["server"].startswith("https://10.")
    api = client.CoreV1Api(config.new_client_from_config(str(path)))
    nodes = api.list_node().items
    assert [n.metadata.name for n in nodes] == [node.check_output("hostname")]
    node = nodes[0]
    assert {c.type: c.status for c in node.status.conditions}.get("Ready") == "True"
    assert node.metadata.labels.get("edgefleet.io/site") == "molecule"
