"""systemd and the stand-in on a bare lab host (the stranger): what `systemctl stop` leaves behind and what
k3s-killall.sh (install_script.md §8) cleans; a fatal configuration seen through systemd; the v1.33 asset.

Real K3s runs with KillMode=process: stopping the unit ends the k3s process only, the containerd shims
(`${K3S_DATA_DIR}/data/<hash>/bin/containerd-shim-runc-v2`, own session) keep running, and their state stays
under /run/k3s until k3s-killall.sh kills their process trees and k3s-uninstall.sh removes /run/k3s.
"""
from __future__ import annotations

import re

import pytest

from labhelpers import OLD_VERSION, VERSION_OUTPUT_RE, install_k3s, install_service, journal

SHIM_PATTERN = "/var/lib/rancher/k3s/data/[^/]*/bin/containerd-shim"

# The parts of install.sh's k3s-killall.sh (§8) that apply to a host without CNI: stop the k3s units, kill
# the process trees of the shims, unmount and remove what is mounted under the K3s directories.
KILLALL = r"""#!/bin/sh
K3S_DATA_DIR=${K3S_DATA_DIR:-/var/lib/rancher/k3s}
for bin in ${K3S_DATA_DIR}/data/**/bin/; do
    [ -d $bin ] && export PATH=$PATH:$bin:$bin/aux
done
set -x
for service in /etc/systemd/system/k3s*.service; do
    [ -s $service ] && systemctl stop $(basename $service)
done
pschildren() {
    ps -e -o ppid= -o pid= | sed -e 's/^\s*//g; s/\s\s*/\t/g;' | grep -w "^$1" | cut -f2
}
pstree() {
    for pid in $@; do
        echo $pid
        for child in $(pschildren $pid); do
            pstree $child
        done
    done
}
killtree() {
    kill -9 $({ set +x; } 2>/dev/null; pstree $@; set -x;) 2>/dev/null
}
getshims() {
    ps -e -o pid= -o args= | sed -e 's/^ *//; s/\s\s*/\t/;' | grep -w "${K3S_DATA_DIR}"'/data/[^/]*/bin/containerd-shim' | cut -f1
}
killtree $({ set +x; } 2>/dev/null; getshims; set -x)
do_unmount_and_remove() {
    set +x
    while read -r _ path _; do
        case "$path" in $1*) echo "$path" ;; esac
    done < /proc/self/mounts | sort -r | xargs -r -t -n 1 sh -c 'umount -f "$0" && rm -rf "$0"'
    set -x
}
do_unmount_and_remove '/run/k3s'
do_unmount_and_remove '/var/lib/kubelet/pods'
do_unmount_and_remove '/var/lib/kubelet/plugins'
do_unmount_and_remove '/run/netns/cni-'
rm -rf /var/lib/cni/
"""


@pytest.fixture
def host(lab):
    """The stranger with the stand-in from the mirror; afterwards no unit, process or state is left."""
    host = lab.stranger
    install_k3s(host)
    yield host
    host.exec("systemctl stop k3s 2>/dev/null; systemctl disable k3s 2>/dev/null; "
              "systemctl reset-failed k3s 2>/dev/null; "
              "pkill -9 -f '" + SHIM_PATTERN + "'; "
              "rm -f /etc/systemd/system/k3s.service /etc/systemd/system/k3s.service.env "
              "/etc/rancher/k3s/config.yaml /etc/rancher/k3s/k3s.yaml; systemctl daemon-reload; "
              "rm -rf /run/k3s /var/lib/rancher/k3s/server /var/lib/rancher/k3s/agent", check=False)


def processes(host) -> list[str]:
    """`<pid> <args>` of every k3s and shim process."""
    out = host.exec(["ps", "-e", "-o", "pid=", "-o", "args="]).stdout
    return [line.strip() for line in out.splitlines()
            if ("k3s_standin" in line or "containerd-shim" in line) and " ps -e" not in line]


def shim_pids(host) -> list[int]:
    out = host.exec(["pgrep", "-f", SHIM_PATTERN], check=False).stdout
    return [int(p) for p in out.split()]


def start(host, service: str = "k3s") -> None:
    result = host.exec(["systemctl", "start", service], check=False, timeout=300)
    assert result.ok, f"{result.describe()}\n{journal(host, service)}"


def test_stop_leaves_the_shim_and_killall_cleans_up(host):
    service = install_service(host, "server")
    start(host, service)
    assert host.exec(["test", "-d", "/run/k3s/containerd"], check=False).ok
    pids = shim_pids(host)
    assert len(pids) == 1, processes(host)
    shim = pids[0]
    args = host.exec(["ps", "-o", "args=", "-p", str(shim)]).stdout.strip()
    assert re.fullmatch(r"/bin/sh /var/lib/rancher/k3s/data/[0-9a-f]{64}/bin/containerd-shim-runc-v2 "
                        r"-namespace k8s\.io -id standin-pause -address /run/k3s/containerd/containerd\.sock",
                        args), args
    sid = host.exec(["ps", "-o", "sid=", "-p", str(shim)]).stdout.strip()
    assert sid == str(shim)  # own session, like containerd's shims

    # a restart reuses the running shim
    host.exec(["systemctl", "restart", service], timeout=300)
    assert shim_pids(host) == [shim]

    # KillMode=process: stop ends k3s, the shim (and its child) stays
    host.exec(["systemctl", "stop", service], timeout=120)
    assert host.exec(["systemctl", "is-active", service], check=False).stdout.strip() == "inactive"
    left = processes(host)
    assert not [p for p in left if "k3s_standin" in p], left
    assert shim_pids(host) == [shim]
    children = host.exec(["pgrep", "-P", str(shim)], check=False).stdout.split()
    assert len(children) == 1  # the shim's sleep: a process tree for killtree

    host.write_file("/usr/local/bin/k3s-killall.sh", KILLALL, mode="0755")
    result = host.exec(["/usr/local/bin/k3s-killall.sh"], check=False, timeout=120)
    assert result.returncode == 0, result.describe()
    assert processes(host) == []
    assert host.exec(["grep", "-c", " /run/k3s", "/proc/self/mounts"], check=False).stdout.strip() == "0"

    # k3s-uninstall.sh (§9) then removes /run/k3s
    host.exec("systemctl disable k3s && rm -f /etc/systemd/system/k3s.service /etc/systemd/system/k3s.service.env"
              " && systemctl daemon-reload && rm -rf /etc/rancher/k3s /run/k3s /run/flannel /var/lib/kubelet")
    assert not host.exec(["test", "-e", "/run/k3s"], check=False).ok
    assert processes(host) == []


def test_fatal_config_fails_the_unit(host):
    host.write_file("/etc/rancher/k3s/config.yaml", "https-listen-port: abc\n", mode="0600")
    service = install_service(host, "server")
    result = host.exec(["systemctl", "start", service], check=False, timeout=300)
    assert result.returncode != 0, result.describe()
    assert f"Job for {service}.service failed because the control process exited with error code." \
        in result.stderr
    shown = host.exec(["systemctl", "show", service, "-p", "Result", "-p", "ExecMainStatus", "-p", "ActiveState"]).stdout
    props = dict(line.split("=", 1) for line in shown.split())
    assert props["Result"] == "exit-code"
    assert props["ExecMainStatus"] == "1"
    assert props["ActiveState"] in ("activating", "failed")  # Restart=always: waiting for the next try
    log = journal(host, service, 200)
    assert 'level=fatal msg="Error: invalid value \\"abc\\" for flag -https-listen-port: parse error"' in log, log


def test_v1_33_asset_prints_its_version(host):
    # under its own name: K3s prints the basename it was called by ("k3s-1.33 version ..." otherwise)
    path = "/opt/k3s-v1.33/k3s"
    host.exec(["mkdir", "-p", "/opt/k3s-v1.33"])
    install_k3s(host, version=OLD_VERSION, dest=path)
    try:
        result = host.exec([path, "--version"])
        match = VERSION_OUTPUT_RE.match(result.stdout)
        assert match, result.stdout
        assert match["version"] == "v1.33.6+k3s1"
        assert result.stdout.startswith("k3s version v1.33.6+k3s1 (")
        assert result.stdout != host.exec(["k3s", "--version"]).stdout  # not the v1.34 asset
    finally:
        host.exec(["rm", "-rf", "/opt/k3s-v1.33"])


def test_unquoted_0644_kubeconfig_mode_through_systemd(host):
    host.write_file("/etc/rancher/k3s/config.yaml", "write-kubeconfig-mode: 0644\n", mode="0600")
    service = install_service(host, "server")
    start(host, service)
    # YAML 1.1 reads 0644 as the integer 420, which K3s then parses as the octal mode 0420
    assert host.exec(["stat", "-c", "%a", "/etc/rancher/k3s/k3s.yaml"]).stdout.strip() == "420"
