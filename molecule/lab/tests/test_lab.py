"""Verify step of the lab scenario (testinfra through Molecule's inventory)."""
from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))
from labverify import podman_hosts  # noqa: E402

testinfra_hosts = podman_hosts()

MIRROR = "http://mirror:8080"
VERSION = "v1.34.3+k3s1"
RELEASE = f"{MIRROR}/k3s-io/k3s/releases/download/{VERSION}"


def fetch(host, url: str) -> str:
    """GET from inside the host with its own python3 (a bare host has no curl)."""
    code = "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=30).read().decode())"
    return host.check_output("python3 -c %s %s", code, url)


def journal(host) -> str:
    return host.run("journalctl -u k3s --no-pager -n 60").stdout


def test_host_booted_to_running(host):
    assert host.run("systemctl is-system-running").stdout.strip() == "running", \
        host.run("systemctl list-units --failed --no-legend").stdout


def test_mirror_answers_from_inside(host):
    channels = json.loads(fetch(host, f"{MIRROR}/v1-release/channels"))
    assert {c["id"] for c in channels["data"]} >= {"stable", "latest"}


def test_k3s_binary_is_the_release_asset(host):
    binary = host.file("/usr/local/bin/k3s")
    assert binary.mode == 0o755 and binary.user == "root" and binary.group == "root"
    sums: dict[str, str] = {}
    for line in fetch(host, f"{RELEASE}/sha256sum-amd64.txt").splitlines():
        digest, name = line.split("  ", 1)
        sums[name] = digest
    assert binary.sha256sum == sums["k3s"]


def test_k3s_version(host):
    out = host.check_output("k3s --version")
    assert re.fullmatch(r"k3s version v1\.34\.3\+k3s1 \([0-9a-f]{8}\)\ngo version go[0-9.]+", out)


def test_k3s_service_runs_and_is_enabled(host):
    service = host.service("k3s")
    assert service.is_enabled, journal(host)
    assert service.is_running, journal(host)


def test_node_token_pins_the_server_ca(host):
    token = host.file("/var/lib/rancher/k3s/server/node-token").content_string.strip()
    # sha256 of the file bytes as on disk (testinfra's `content` drops the final newline).
    ca_hash = host.file("/var/lib/rancher/k3s/server/tls/server-ca.crt").sha256sum
    assert token.startswith(f"K10{ca_hash}::server:"), journal(host)


def test_node_is_ready(host):
    hostname = host.check_output("hostname")
    table = ""
    for _ in range(45):
        table = host.run("k3s kubectl get nodes --no-headers").stdout
        if any(line.split()[:2] == [hostname, "Ready"] for line in table.splitlines()):
            return
        time.sleep(2)
    raise AssertionError(f"node {hostname} not Ready:\n{table}\n{journal(host)}")
