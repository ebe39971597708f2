"""What the integration tests do inside lab hosts: HTTP with the host's own python3, installing the
K3s stand-in from the mirror, systemd units with the real K3s settings, and reading cluster state.

A lab host is a bare Debian server: no curl, no wget, no Python libraries beyond the standard ones,
so everything here runs `python3 -c` inside the host.
"""
from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import lablib

VERSION = "v1.34.3+k3s1"
OLD_VERSION = "v1.33.6+k3s1"
STABLE = "v1.33.6+k3s1"


def release_url(version: str = VERSION, base: str = lablib.MIRROR_URL) -> str:
    return f"{base}/k3s-io/k3s/releases/download/{version}"


DATA_DIR = "/var/lib/rancher/k3s"
SERVER_CA = f"{DATA_DIR}/server/tls/server-ca.crt"
NODE_TOKEN = f"{DATA_DIR}/server/node-token"
IMAGES_DIR = f"{DATA_DIR}/agent/images"

# --- HTTP from inside a host ----------------------------------------------------------------------

_HTTP = r"""
import hashlib, json, sys, urllib.error, urllib.request
url, method, headers, follow = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4] == "1"

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

opener = urllib.request.build_opener() if follow else urllib.request.build_opener(NoRedirect)
request = urllib.request.Request(url, method=method, headers=headers)
try:
    response = opener.open(request, timeout=30)
except urllib.error.HTTPError as error:
    response = error
body = response.read()
print(json.dumps({"status": response.status, "url": response.geturl(), "headers": dict(response.headers),
                  "body": body.decode("latin-1"), "sha256": hashlib.sha256(body).hexdigest(),
                  "size": len(body)}))
"""


@dataclass(frozen=True)
class HttpResult:
    status: int
    url: str  # final URL after redirects
    headers: Mapping[str, str]
    body: bytes
    sha256: str


def http(host: lablib.Host, url: str, method: str = "GET", headers: Mapping[str, str] | None = None,
         follow: bool = True) -> HttpResult:
    out = host.python(_HTTP, url, method, json.dumps(dict(headers or {})), "1" if follow else "0").stdout
    data = json.loads(out)
    return HttpResult(data["status"], data["url"], {k.lower(): v for k, v in data["headers"].items()},
                      data["body"].encode("latin-1"), data["sha256"])


_DOWNLOAD = r"""
import hashlib, os, shutil, sys, urllib.request
url, dest, mode = sys.argv[1], sys.argv[2], int(sys.argv[3], 8)
os.makedirs(os.path.dirname(dest), exist_ok=True)
digest = hashlib.sha256()
with urllib.request.urlopen(url, timeout=60) as response, open(dest + ".part", "wb") as out:
    while chunk := response.read(1 << 20):
        digest.update(chunk)
        out.write(chunk)
os.chmod(dest + ".part", mode)
os.replace(dest + ".part", dest)
print(digest.hexdigest())
"""


def download(host: lablib.Host, url: str, dest: str, mode: str = "0644") -> str:
    """Fetch url to dest inside the host; returns the sha256 of what was written."""
    return host.python(_DOWNLOAD, url, dest, mode).stdout.strip()


def sha256sums(host: lablib.Host, version: str = VERSION, arch: str = "amd64") -> list[tuple[str, str]]:
    """(hex, file name) lines of the release's sha256sum-<arch>.txt, in file order."""
    text = http(host, f"{release_url(version)}/sha256sum-{arch}.txt").body.decode()
    pairs = []
    for line in text.splitlines():
        digest, name = line.split("  ", 1)
        pairs.append((digest, name))
    return pairs


def install_k3s(host: lablib.Host, version: str = VERSION, asset: str = "k3s",
                dest: str = "/usr/local/bin/k3s") -> str:
    """Download the binary from the mirror as install.sh does, and check it against sha256sum-amd64.txt."""
    digest = download(host, f"{release_url(version)}/{asset}", dest, mode="0755")
    arch = {"k3s": "amd64", "k3s-arm64": "arm64", "k3s-armhf": "arm"}[asset]
    expected = dict((name, hexdigest) for hexdigest, name in sha256sums(host, version, arch))[asset]
    assert digest == expected, f"{asset} from the mirror has sha256 {digest}, sha256sum-{arch}.txt says {expected}"
    return digest


# --- systemd units with the settings install.sh writes (install_script.md §6) ---------------------

def k3s_unit(command: str, service: str, args: tuple[str, ...] = ()) -> str:
    exec_start = "ExecStart=/usr/local/bin/k3s \\\n    " + command + " \\\n"
    exec_start += "".join(f"\t'{arg}' \\\n" for arg in args)
    return (
        "[Unit]\nDescription=Lightweight Kubernetes\nDocumentation=https://k3s.io\n"
        "Wants=network-online.target\nAfter=network-online.target\n\n"
        "[Install]\nWantedBy=multi-user.target\n\n"
        "[Service]\nType=notify\n"
        "EnvironmentFile=-/etc/default/%N\nEnvironmentFile=-/etc/sysconfig/%N\n"
        f"EnvironmentFile=-/etc/systemd/system/{service}.service.env\n"
        "KillMode=process\nDelegate=yes\nUser=root\n"
        "LimitNOFILE=1048576\nLimitNPROC=infinity\nLimitCORE=infinity\nTasksMax=infinity\n"
        "TimeoutStartSec=0\nRestart=always\nRestartSec=5s\n"
        "ExecStartPre=-/sbin/modprobe br_netfilter\nExecStartPre=-/sbin/modprobe overlay\n"
        f"{exec_start}\n"
    )


def install_service(host: lablib.Host, command: str, env: Mapping[str, str] | None = None,
                    args: tuple[str, ...] = ()) -> str:
    """Write k3s.service / k3s-agent.service and its 0600 env file; returns the service name."""
    service = "k3s" if command == "server" else f"k3s-{command}"
    host.write_file(f"/etc/systemd/system/{service}.service", k3s_unit(command, service, args))
    env_lines = "".join(f"{key}='{value}'\n" for key, value in (env or {}).items())
    host.write_file(f"/etc/systemd/system/{service}.service.env", env_lines, mode="0600")
    host.exec(["systemctl", "daemon-reload"])
    host.exec(["systemctl", "enable", "--quiet", service])
    return service


def journal(host: lablib.Host, service: str, lines: int = 60) -> str:
    return host.exec(["journalctl", "-u", service, "--no-pager", "-n", str(lines)], check=False).stdout


# --- cluster state ----------------------------------------------------------------------------------

def nodes(host: lablib.Host) -> dict[str, bool]:
    """Node name -> Ready, as `k3s kubectl get nodes -o json` on a server reports it."""
    result = host.exec(["k3s", "kubectl", "get", "nodes", "-o", "json"], check=False, timeout=60)
    if not result.ok:
        return {}
    ready: dict[str, bool] = {}
    for item in json.loads(result.stdout).get("items", []):
        conditions = item.get("status", {}).get("conditions", [])
        ready[item["metadata"]["name"]] = any(c.get("type") == "Ready" and c.get("status") == "True"
                                              for c in conditions)
    return ready


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


TOKEN_RE = re.compile(r"^K10(?P<hash>[0-9a-f]{64})::(?P<user>[^:]+):(?P<password>.+)$")
VERSION_OUTPUT_RE = re.compile(r"^k3s version (?P<version>v\S+) \((?P<commit>[0-9a-f]{8})\)\ngo version go\d+\.\d+(\.\d+)?\n$")
