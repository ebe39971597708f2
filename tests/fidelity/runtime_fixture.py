"""Helpers for the runtime fidelity tests: simulated host roots, free ports, servers and agents.

A server or agent runs either in-process (``server.run`` in a thread with its own stop event and
:class:`StubFlags`) or as a subprocess (``python3 -m k3s_standin``). Each one gets its own
``K3S_STANDIN_ROOT`` so that two "machines" can run side by side on this host.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

STANDIN_SRC = Path(__file__).resolve().parents[1] / "standin"
FLAGS_JSON = STANDIN_SRC / "k3s_standin" / "data" / "k3s_flags.json"
PYTHON = sys.executable


class StubFlags:
    """``flags.Flags`` stand-in: values given by name, defaults from the flag table."""

    def __init__(self, command: str, values: dict[str, Any] | None = None) -> None:
        table = json.loads(FLAGS_JSON.read_text())[command]
        self._defaults = {f["name"]: f.get("default") for f in table}
        self._kinds = {f["name"]: f["type"] for f in table}
        self._values = dict(values or {})

    def get(self, name: str) -> Any:
        if name in self._values:
            return self._values[name]
        default = self._defaults.get(name)
        if default is None and self._kinds.get(name) == "stringSlice":
            return []
        return default

    def is_set(self, name: str) -> bool:
        return name in self._values


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def env_for(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("K3S_") and k != "NOTIFY_SOCKET"}
    env["K3S_STANDIN_ROOT"] = str(root)
    env["PYTHONPATH"] = str(STANDIN_SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def to_argv(values: dict[str, Any]) -> list[str]:
    argv: list[str] = []
    for name, value in values.items():
        if isinstance(value, bool):
            argv.append(f"--{name}={'true' if value else 'false'}")
        elif isinstance(value, list):
            for item in value:
                argv += [f"--{name}", str(item)]
        else:
            argv += [f"--{name}", str(value)]
    return argv


def command_line(command: str, values: dict[str, Any]) -> list[str]:
    return [PYTHON, "-m", "k3s_standin", command] + to_argv(values)


@dataclass
class Proc:
    """A stand-in process with its log captured to a file."""

    root: Path
    popen: subprocess.Popen
    log_path: Path
    port: int = 0

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log
            if text in log:
                return log
            if self.popen.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"{text!r} not seen in log (rc={self.popen.poll()}):\n{self.log[-4000:]}")

    def terminate(self, timeout: float = 15.0) -> int:
        if self.popen.poll() is None:
            self.popen.terminate()
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait(5)


def start(command: str, root: Path, values: dict[str, Any], env: dict[str, str] | None = None,
          name: str = "k3s") -> Proc:
    root.mkdir(parents=True, exist_ok=True)
    log_path = root.parent / f"{root.name}-{name}.log"
    handle = log_path.open("ab")
    popen = subprocess.Popen(command_line(command, values), stdout=handle, stderr=subprocess.STDOUT,
                             env=env if env is not None else env_for(root), cwd=str(root))
    handle.close()
    return Proc(root, popen, log_path, int(values.get("https-listen-port", 0) or 0))


def data_dir(root: Path) -> Path:
    return root / "var/lib/rancher/k3s"


def admin_context(root: Path, kubeconfig: str = "etc/rancher/k3s/k3s.yaml") -> ssl.SSLContext:
    """TLS context from the admin kubeconfig's embedded CA and client certificate."""
    import base64
    import tempfile

    import yaml

    doc = yaml.safe_load((root / kubeconfig).read_text())
    cluster, user = doc["clusters"][0]["cluster"], doc["users"][0]["user"]
    ctx = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = Path(tmp) / "c.pem", Path(tmp) / "k.pem"
        cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
        key.write_bytes(base64.b64decode(user["client-key-data"]))
        ctx.load_cert_chain(str(cert), str(key))
    return ctx


def ca_context(root: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(data_dir(root) / "server/tls/server-ca.crt"))


def insecure_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


@dataclass
class HttpResult:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


def request(url: str, ctx: ssl.SSLContext, method: str = "GET", body: bytes | None = None,
            headers: dict[str, str] | None = None, timeout: float = 10.0) -> HttpResult:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=timeout) as resp:
            return HttpResult(resp.status, resp.read(), dict(resp.headers))
    except urllib.error.HTTPError as err:
        return HttpResult(err.code, err.read(), dict(err.headers))


def wait_http(url: str, ctx: ssl.SSLContext, timeout: float = 30.0) -> HttpResult:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            return request(url, ctx, timeout=3)
        except (OSError, ssl.SSLError) as exc:
            last = exc
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer: {last}")


@contextlib.contextmanager
def in_process(module: Any, command: str, root: Path, values: dict[str, Any]) -> Iterator[threading.Event]:
    """Run ``module.run`` in a thread inside a simulated root; yields the stop event."""
    old = os.environ.get("K3S_STANDIN_ROOT")
    os.environ["K3S_STANDIN_ROOT"] = str(root)
    stop = threading.Event()
    result: dict[str, int] = {}
    thread = threading.Thread(target=lambda: result.setdefault("rc", module.run(StubFlags(command, values), stop=stop)),
                              daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(20)
        if old is None:
            os.environ.pop("K3S_STANDIN_ROOT", None)
        else:
            os.environ["K3S_STANDIN_ROOT"] = old


# --- sd_notify receiver ---------------------------------------------------------------------------------------

class NotifyListener:
    """An abstract-namespace datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, on_ready: Any = None) -> None:
        self.name = f"@k3s-standin-test-{os.getpid()}-{id(self)}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.name[1:])
        self.messages: list[str] = []
        self.on_ready = on_ready
        self.ready_check: Any = None
        self.ready = threading.Event()
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                return
            text = data.decode()
            if "READY=1" in text and self.on_ready is not None:
                # Probe the API at the moment the notification arrives.
                self.ready_check = self.on_ready()
            self.messages.append(text)
            if "READY=1" in text:
                self.ready.set()

    def close(self) -> None:
        self.sock.close()


@dataclass
class RunningServer:
    root: Path
    port: int
    proc: Proc
    notify: NotifyListener | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return data_dir(self.root)

    def token(self) -> str:
        return (self.data_dir / "server/token").read_text().strip()

    def admin(self) -> ssl.SSLContext:
        return admin_context(self.root)


def start_server(root: Path, values: dict[str, Any] | None = None, env_extra: dict[str, str] | None = None,
                 notify: bool = True, wait: bool = True, name: str = "k3s") -> RunningServer:
    port = int((values or {}).get("https-listen-port") or free_port())
    merged = {"https-listen-port": port, **(values or {})}
    listener = None
    extra = dict(env_extra or {})
    if notify:
        listener = NotifyListener()
        extra["NOTIFY_SOCKET"] = listener.name
        listener.on_ready = lambda: _probe_readyz(root, port)
    proc = start("server", root, merged, env_for(root, **extra), name=name)
    server = RunningServer(root, port, proc, listener)
    if wait:
        proc.wait_log("k3s is up and running", 60)
    return server


def _probe_readyz(root: Path, port: int) -> int:
    try:
        return request(f"https://127.0.0.1:{port}/readyz", admin_context(root), timeout=5).status
    except Exception as exc:  # report rather than raise in the listener thread
        return -1 if exc else -1


def start_agent(root: Path, server: RunningServer, values: dict[str, Any] | None = None,
                env_extra: dict[str, str] | None = None, name: str = "agent") -> Proc:
    merged = {"server": server.url, "token": server.token(), **(values or {})}
    return start("agent", root, merged, env_for(root, **(env_extra or {})), name=name)


def api_get(server: RunningServer, path: str) -> HttpResult:
    return request(server.url + path, server.admin())


def wait_for(predicate: Any, timeout: float = 30.0, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")
