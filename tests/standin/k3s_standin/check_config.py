"""``k3s check-config``: a short version of K3s' kernel/cgroup check script.

It reports only what it actually finds on the machine: the kernel options from the kernel config (the
script's search order: ``$CONFIG`` or the first argument, /proc/config.gz, /boot/config-<release>,
/usr/src/linux-<release>/.config, /usr/src/linux/.config) and the cgroup controllers. Every absolute path
goes through ``paths.host`` so tests can supply their own files.

Differences from the real script (kept small on purpose): no binary checksum or iptables checks, and a
missing kernel config is a warning that skips the option checks (the real script exits 1 there).
"""
from __future__ import annotations

import gzip
import os
import sys
from pathlib import Path
from typing import Iterable, Mapping, TextIO

from . import paths

GENERALLY_NECESSARY = (
    "NAMESPACES", "NET_NS", "PID_NS", "IPC_NS", "UTS_NS", "CGROUPS", "CGROUP_CPUACCT", "CGROUP_DEVICE",
    "CGROUP_FREEZER", "CGROUP_SCHED", "CPUSETS", "MEMCG", "KEYS", "VETH", "BRIDGE", "BRIDGE_NETFILTER",
    "IP_NF_FILTER", "IP_NF_TARGET_MASQUERADE", "NETFILTER_XT_MATCH_ADDRTYPE", "NETFILTER_XT_MATCH_CONNTRACK",
    "NETFILTER_XT_MATCH_IPVS", "IP_NF_NAT", "NF_NAT", "POSIX_MQUEUE",
)
OPTIONAL_FEATURES = (
    "USER_NS", "SECCOMP", "BLK_CGROUP", "BLK_DEV_THROTTLING", "CGROUP_PERF", "CGROUP_HUGETLB",
    "NET_CLS_CGROUP", "CGROUP_NET_PRIO", "CFS_BANDWIDTH", "FAIR_GROUP_SCHED", "IP_NF_TARGET_REDIRECT",
    "IP_SET", "IP_VS", "IP_VS_NFCT", "IP_VS_PROTO_TCP", "IP_VS_PROTO_UDP", "IP_VS_RR", "EXT4_FS",
    "EXT4_FS_POSIX_ACL", "EXT4_FS_SECURITY", "VXLAN", "OVERLAY_FS",
)
REQUIRED_CONTROLLERS = ("cpu", "cpuset", "memory")


def kernel_config_candidates(release: str, env: Mapping[str, str], argv: list[str]) -> list[str]:
    explicit = argv[0] if argv else env.get("CONFIG", "")
    if explicit:
        return [explicit]
    return ["/proc/config.gz", f"/boot/config-{release}", f"/usr/src/linux-{release}/.config",
            "/usr/src/linux/.config"]


def read_kernel_config(path: Path) -> dict[str, str]:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    options: dict[str, str] = {}
    for line in raw.decode("utf-8", "replace").splitlines():
        if line.startswith("CONFIG_") and "=" in line:
            key, _, value = line.partition("=")
            options[key[len("CONFIG_"):]] = value
    return options


def _host(path: str) -> Path:
    return paths.host(path) if os.path.isabs(path) else Path(path)


def cgroup_status() -> tuple[bool, str]:
    """(ok, text) for the cgroup line: v2 controllers file, else v1 /proc/cgroups."""
    unified = _host("/sys/fs/cgroup/cgroup.controllers")
    if unified.is_file():
        present = set(unified.read_text().split())
        missing = [c for c in REQUIRED_CONTROLLERS if c not in present]
        if missing:
            return False, f"cgroups V2 mounted, missing controllers: {'|'.join(missing)}"
        return True, "cgroups V2 mounted, cpu|cpuset|memory controllers status: good"
    table = _host("/proc/cgroups")
    if table.is_file():
        enabled = set()
        for line in table.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 4 and not line.startswith("#") and fields[3] == "1":
                enabled.add(fields[0])
        missing = [c for c in REQUIRED_CONTROLLERS if c not in enabled]
        if missing:
            return False, f"cgroups V1 mounted, missing controllers: {'|'.join(missing)}"
        return True, "cgroups V1 mounted, cpu|cpuset|memory controllers status: good"
    return False, "no cgroup hierarchy found (neither /sys/fs/cgroup/cgroup.controllers nor /proc/cgroups)"


def swap_enabled() -> bool | None:
    swaps = _host("/proc/swaps")
    if not swaps.is_file():
        return None
    return len([line for line in swaps.read_text().splitlines() if line.strip()]) > 1


def _option_lines(options: Mapping[str, str], names: Iterable[str]) -> tuple[list[str], int]:
    lines, missing = [], 0
    for name in names:
        value = options.get(name)
        if value == "y":
            state = "enabled"
        elif value == "m":
            state = "enabled (as module)"
        else:
            state, missing = "missing", missing + 1
        lines.append(f"- CONFIG_{name}: {state}")
    return lines, missing


def report(env: Mapping[str, str], argv: list[str], release: str) -> tuple[list[str], int]:
    """The report lines and the number of failed necessary checks."""
    failures = 0
    lines = ["", "System:", f"- kernel: {release}"]
    cgroups_ok, cgroups_text = cgroup_status()
    failures += 0 if cgroups_ok else 1
    lines.append(f"- cgroup hierarchy: {cgroups_text}")
    swap = swap_enabled()
    if swap is not None:
        lines.append("- swap: should be disabled" if swap else "- swap: disabled")
    lines.append("")
    found = None
    for candidate in kernel_config_candidates(release, env, argv):
        if _host(candidate).is_file():
            found = candidate
            break
    if found is None:
        lines += [f"warning: kernel config not found (looked at {', '.join(kernel_config_candidates(release, env, argv))}); "
                  "kernel options not checked", ""]
    else:
        options = read_kernel_config(_host(found))
        lines += [f"info: reading kernel config from {found} ...", "", "Generally Necessary:"]
        necessary, missing = _option_lines(options, GENERALLY_NECESSARY)
        failures += missing
        optional, _ = _option_lines(options, OPTIONAL_FEATURES)
        lines += [*necessary, "", "Optional Features:", *optional, ""]
    status = "pass" if failures == 0 else f"{failures} (fail)"
    lines.append(f"STATUS: {status}")
    return lines, failures


def run(argv: list[str] | None = None, env: Mapping[str, str] | None = None, out: TextIO | None = None) -> int:
    lines, failures = report(os.environ if env is None else env, list(argv or []), os.uname().release)
    stream = out or sys.stdout
    stream.write("\n".join(lines) + "\n")
    stream.flush()
    return 0 if failures == 0 else 1
