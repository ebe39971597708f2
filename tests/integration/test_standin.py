"""The K3s stand-in installed from the mirror, run on a bare lab host: CLI behaviour of real K3s."""
from __future__ import annotations

import pytest

from labhelpers import VERSION, VERSION_OUTPUT_RE, install_k3s


@pytest.fixture(scope="module")
def k3s_host(lab):
    """The stranger host with /usr/local/bin/k3s from the mirror (checked against sha256sum-amd64.txt)."""
    install_k3s(lab.stranger)
    return lab.stranger


@pytest.mark.parametrize("flag", ["--version", "-v"])
def test_version_prints_the_real_format(k3s_host, flag):
    result = k3s_host.exec(["k3s", flag], check=False)
    assert result.returncode == 0, result.describe()
    match = VERSION_OUTPUT_RE.match(result.stdout)
    assert match, f"not the K3s --version format: {result.stdout!r}"
    assert match["version"] == VERSION
    assert match["commit"] == "48ffa7b6"


def test_version_does_not_unpack_the_payload(k3s_host):
    k3s_host.exec(["rm", "-rf", "/var/lib/rancher/k3s/data"])
    k3s_host.exec(["k3s", "--version"])
    assert not k3s_host.exec(["test", "-e", "/var/lib/rancher/k3s/data"], check=False).ok


@pytest.mark.parametrize("asset", ["k3s-arm64", "k3s-armhf"])
def test_wrong_architecture_fails_like_a_foreign_binary(k3s_host, asset):
    path = f"/usr/local/bin/{asset}"
    install_k3s(k3s_host, asset=asset, dest=path)
    result = k3s_host.exec([path, "--version"], check=False)
    assert result.returncode == 126
    assert result.stderr.strip() == f"{path}: cannot execute binary file: Exec format error"
    assert result.stdout == ""


def test_agent_config_with_a_server_only_key_exits_1(k3s_host):
    config = "/etc/rancher/k3s/config.yaml"
    k3s_host.write_file(config, 'write-kubeconfig-mode: "0644"\n', mode="0600")
    try:
        result = k3s_host.exec(["k3s", "agent", "--server", "https://server:6443", "--token", "not-used"],
                               check=False, timeout=60)
    finally:
        k3s_host.exec(["rm", "-f", config])
    assert result.returncode == 1, result.describe()
    assert "flag provided but not defined: -write-kubeconfig-mode" in result.stdout + result.stderr


def test_unpacked_payload_carries_no_compiled_files(k3s_host):
    k3s_host.exec(["k3s", "--help"], check=False)
    found = k3s_host.exec("find /var/lib/rancher/k3s/data/current/lib -name '*.so*' -o -name '*.pyd'").stdout
    assert found.strip() == ""
    assert k3s_host.exec(["test", "-x", "/var/lib/rancher/k3s/data/current/bin/kubectl"], check=False).ok
