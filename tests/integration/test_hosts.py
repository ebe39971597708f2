"""The lab hosts themselves: booted systemd, bare like a fresh edge server, SSH, partitions."""
from __future__ import annotations

import subprocess

import lablib
from labhelpers import http


def test_every_host_boots_to_running(lab):
    for host in lab.hosts.values():
        boot = host.wait_booted()
        assert boot.state == "running", f"{host.name}: {boot.state}, failed units: {boot.failed_units}"


def test_hosts_are_bare_debian_servers(lab):
    host = lab.stranger
    expected = {"debian12": "12", "debian13": "13"}[lab.distro]
    assert host.exec(["cat", "/etc/debian_version"]).stdout.startswith(expected)
    for tool in ("python3", "sudo", "sshd", "ip", "ps", "systemctl", "tar", "gzip", "sha256sum", "flock"):
        assert host.exec(["sh", "-c", f"command -v {tool}"], check=False).ok, f"{tool} missing"
    for tool in ("curl", "wget", "iptables"):
        assert not host.exec(["sh", "-c", f"command -v {tool}"], check=False).ok, f"{tool} should not be there"
    assert host.exec(["hostname"]).stdout.strip() == "stranger"


def test_hosts_resolve_each_other_by_name(lab):
    result = lab.agent.python("import socket; print(socket.gethostbyname('server'))")
    assert result.stdout.strip() == lab.server.ip(lab.network)


def test_ssh_with_the_lab_key(lab):
    key = lablib.ensure_ssh_key()
    host = lab.stranger
    host.authorize_ssh_key(key.with_suffix(".pub").read_text())
    result = subprocess.run(
        ["ssh", "-i", str(key), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", f"root@{host.ip(lab.network)}", "hostname"],
        capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "stranger"


def test_partition_and_heal(lab):
    host = lab.stranger
    probe = "import urllib.request; urllib.request.urlopen('http://mirror:8080/healthz', timeout=3)"
    lablib.disconnect(host.name, lab.network)
    try:
        assert not host.python(probe, check=False).ok, "still reaches the mirror after the link was cut"
    finally:
        lablib.connect(host.name, lab.network, [host.hostname])
    assert http(host, f"{lablib.MIRROR_URL}/healthz").status == 200
    assert lab.agent.python("import socket; print(socket.gethostbyname('stranger'))").ok
