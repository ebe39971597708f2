"""``k3s agent``: CA pinning, join through the supervisor, Node registration, heartbeats, sd_notify.

Follows K3s' agent start-up (join_protocol.md §2-§4): validate the server CA against the token's hash
(retrying every 2 s), then fetch the agent configuration and certificates (retrying every 5 s and
logging ``Waiting to retrieve agent configuration; server is not ready: ...``), then act as the kubelet:
register the Node with the kubelet client certificate and post its status every 10 s.
"""
from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import airgap, buildinfo, log, nodes, paths, pki, sdnotify, shim, tokens
from .daemon import (FatalError, NodeConfig, ensure_node_id, ensure_node_password, flag, install_signal_handlers,
                     kubeconfig_text, node_config, proc_net, read_token_file)

VALIDATE_RETRY = 2.0
CONFIG_RETRY = 5.0
HEARTBEAT_SECONDS = 10.0
HTTP_TIMEOUT = 10.0
PASSWORD_REJECTED = ("Node password rejected, duplicate hostname or contents of '{path}' may not match server "
                     "node-passwd entry, try enabling a unique node name with the --with-node-id flag")


class JoinError(Exception):
    """A failed join step; the message is the Go error string K3s would log."""


# --- HTTP with Go-like error strings ------------------------------------------------------------------------

@dataclass
class Reply:
    status: int
    reason: str
    body: bytes


def _go_dial_error(method: str, url: str, exc: BaseException) -> str:
    host = urllib.parse.urlsplit(url).netloc
    verb = method[0] + method[1:].lower()
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f'{verb} "{url}": tls: failed to verify certificate: x509: certificate signed by unknown authority'
    if isinstance(reason, ConnectionRefusedError):
        return f'{verb} "{url}": dial tcp {host}: connect: connection refused'
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return f'{verb} "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
    if isinstance(reason, socket.gaierror):
        return f'{verb} "{url}": dial tcp: lookup {urllib.parse.urlsplit(url).hostname}: no such host'
    return f'{verb} "{url}": {reason}'


def http(method: str, url: str, ctx: ssl.SSLContext, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> Reply:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=HTTP_TIMEOUT) as resp:
            return Reply(resp.status, resp.reason, resp.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, err.reason, err.read())
    except (urllib.error.URLError, OSError) as exc:
        raise JoinError(_go_dial_error(method, url, exc)) from exc


def expect_ok(reply: Reply, url: str) -> bytes:
    if not 200 <= reply.status <= 299:
        raise JoinError(f"{url}: {reply.status} {reply.reason}")
    return reply.body


def insecure_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def bundle_context(ca_pem: bytes, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cadata=ca_pem.decode())
    if cert is not None and key is not None and cert.exists() and key.exists():
        ctx.load_cert_chain(str(cert), str(key))
    return ctx


# --- CA validation (clientaccess.ParseAndValidateToken) -----------------------------------------------------

def validate_server(server_url: str, token: tokens.Token) -> tuple[str, bytes | None]:
    """Base URL and CA bundle (None when the OS trust store already trusts the server)."""
    parsed = urllib.parse.urlsplit(server_url)
    if parsed.scheme != "https":
        raise JoinError(f"only https:// URLs are supported, invalid scheme: {server_url}")
    base = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, parsed.path.rstrip("/"), "", ""))
    url = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, "/cacerts", "", ""))
    try:
        http("GET", url, ssl.create_default_context())
        cacerts: bytes | None = None
    except JoinError:
        try:
            cacerts = expect_ok(http("GET", url, insecure_context()), url)
        except JoinError as exc:
            raise JoinError(f"failed to get CA certs: {exc}") from exc
        try:
            expect_ok(http("GET", url, bundle_context(cacerts)), url)
        except (JoinError, ssl.SSLError, ValueError) as exc:
            raise JoinError(f"CA cert validation failed: {exc}") from exc
    if token.ca_hash and cacerts is None:
        log.warning("Cluster CA certificate is trusted by the host CA bundle. Token CA hash will not be validated.")
    elif not token.ca_hash and cacerts is not None:
        log.warning("Cluster CA certificate is not trusted by the host CA bundle, but the token does not include "
                    "a CA hash. Use the full token from the server's node-token file to enable Cluster CA "
                    "validation.")
    elif cacerts is not None:
        server_hash = tokens.hash_ca(cacerts)
        if server_hash != token.ca_hash:
            raise JoinError(f"token CA hash does not match the Cluster CA certificate hash: "
                            f"{token.ca_hash} != {server_hash}")
    return base, cacerts


# --- configuration ------------------------------------------------------------------------------------------

@dataclass(kw_only=True)
class AgentConfig(NodeConfig):
    server: str
    token: str


def config_from_flags(flags: Any, argv: list[str] | None = None) -> AgentConfig:
    token = flag(flags, "token", "")
    token_file = flag(flags, "token-file", "")
    if token_file:
        token = read_token_file(token_file)
    data_dir = paths.resolve_data_dir(flag(flags, "data-dir"))
    has_cert = (paths.host(data_dir) / "agent" / "client-kubelet.crt").exists()
    if not token and not has_cert:
        raise FatalError("--token is required")
    server = flag(flags, "server", "")
    if not server:
        raise FatalError("--server is required")
    return AgentConfig(**node_config(flags, "agent", argv), server=server, token=token)


# --- the agent ---------------------------------------------------------------------------------------------

class Agent:
    def __init__(self, cfg: AgentConfig, stop: threading.Event) -> None:
        self.cfg = cfg
        self.stop = stop
        self.info = buildinfo.get()
        self.base = ""
        self.ca_pem = b""
        self.password_file = paths.NODE_CONFIG_DIR + "/password"
        self.pause = airgap.PauseImageChecker(cfg.agent_dir / "images", cfg.pause_image, proc_net())

    def validate(self) -> bool:
        """Retry CA validation every 2 s until it succeeds (or the agent is stopped)."""
        try:
            parsed = tokens.parse(self.cfg.token) if self.cfg.token else tokens.Token()
        except tokens.TokenError as exc:
            raise FatalError(str(exc)) from exc
        self.token = parsed.with_user("node")
        while not self.stop.is_set():
            try:
                self.base, cacerts = validate_server(self.cfg.server, self.token)
                self.ca_pem = cacerts or b""
                return True
            except JoinError as exc:
                log.error(f"Failed to validate connection to cluster at {self.cfg.server}: {exc}")
            self.stop.wait(VALIDATE_RETRY)
        return False

    # credentials for supervisor requests: bootstrap bearer token or basic auth as user "node"
    def _auth_headers(self) -> dict[str, str]:
        if self.token.is_bootstrap:
            return {"Authorization": f"Bearer {self.token.bootstrap}"}
        if self.token.password:
            raw = f"{self.token.username}:{self.token.password}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        return {}

    def _ctx(self, with_client_cert: bool = False) -> ssl.SSLContext:
        if not self.ca_pem:
            return ssl.create_default_context()
        agent = self.cfg.agent_dir
        if with_client_cert:
            return bundle_context(self.ca_pem, agent / "client-kubelet.crt", agent / "client-kubelet.key")
        return bundle_context(self.ca_pem)

    def _get(self, path: str) -> bytes:
        url = self.base + path
        return expect_ok(http("GET", url, self._ctx(), headers=self._auth_headers()), url)

    def retrieve_config(self) -> bool:
        while not self.stop.is_set():
            try:
                self._retrieve_once()
                return True
            except JoinError as exc:
                log.info(f"Waiting to retrieve agent configuration; server is not ready: {exc}")
            self.stop.wait(CONFIG_RETRY)
        return False

    def _retrieve_once(self) -> None:
        agent = self.cfg.agent_dir
        agent.mkdir(parents=True, exist_ok=True)
        os.chmod(agent, 0o700)
        self.server_config = json.loads(self._get("/v1-k3s/config") or b"{}")
        pki.write_private(agent / "client-ca.crt", self._get("/v1-k3s/client-ca.crt"), 0o644)
        pki.write_private(agent / "server-ca.crt", self._get("/v1-k3s/server-ca.crt"), 0o644)
        password = ensure_node_password()
        self._cert("serving-kubelet", self.cfg.node_name, password, node_auth=True)
        self._cert("client-kubelet", self.cfg.node_name, password, node_auth=True)
        self._cert("client-kube-proxy", "system:kube-proxy", password)
        self._cert("client-k3s-controller", "system:k3s-controller", password)
        self.apiservers = json.loads(self._get("/v1-k3s/apiservers") or b"[]")
        self._write_kubeconfigs()

    def _cert(self, base: str, common_name: str, password: str, node_auth: bool = False) -> None:
        agent = self.cfg.agent_dir
        key = pki.ensure_key(agent / f"{base}.key")
        headers = dict(self._auth_headers())
        headers.update({"K3s-Node-Name": self.cfg.node_name, "K3s-Node-Password": password,
                        "Content-Type": "application/octet-stream"})
        if base == "serving-kubelet":
            headers["K3s-Node-IP"] = ",".join(self.cfg.node_ips)
        url = f"{self.base}/v1-k3s/{base}.crt"
        reply = http("POST", url, self._ctx(), body=pki.make_csr(key, common_name), headers=headers)
        if node_auth and reply.status == 403:
            raise JoinError(PASSWORD_REJECTED.format(path=self.password_file))
        body = expect_ok(reply, url)
        pki.write_private(agent / f"{base}.crt", body, 0o600)

    def _write_kubeconfigs(self) -> None:
        agent = self.cfg.agent_dir
        for name, base in (("kubelet", "client-kubelet"), ("kubeproxy", "client-kube-proxy"),
                           ("k3scontroller", "client-k3s-controller")):
            text = kubeconfig_text(self.base, self.ca_pem, (agent / f"{base}.crt").read_bytes(),
                                   (agent / f"{base}.key").read_bytes())
            pki.write_private(agent / f"{name}.kubeconfig", text.encode(), 0o600)

    # --- kubelet part ----------------------------------------------------------------------------------
    def node_spec(self) -> nodes.NodeSpec:
        return self.cfg.node_spec()

    def _api(self, method: str, path: str, doc: dict | None = None) -> Reply:
        body = json.dumps(doc).encode() if doc is not None else None
        headers = {"Accept": "application/json", "User-Agent": f"k3s/{self.info.version}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return http(method, self.base + path, self._ctx(with_client_cert=True), body=body, headers=headers)

    def register(self) -> bool:
        spec = self.node_spec()
        verdict = self.pause.check()
        path = f"/api/v1/nodes/{spec.name}"
        reply = self._api("GET", path)
        if reply.status == 404:
            reply = self._api("POST", "/api/v1/nodes", nodes.build_node(spec, verdict.ready, verdict.message))
            if reply.status in (200, 201):
                log.info(f"Successfully registered node {spec.name}")
                return True
            log.error(f'Unable to register node with API server: "{_status_message(reply)}" node="{spec.name}"')
            return False
        if reply.status == 200:
            return self.post_status()
        log.error(f'Unable to register node with API server: "{_status_message(reply)}" node="{spec.name}"')
        return False

    def post_status(self) -> bool:
        spec = self.node_spec()
        verdict = self.pause.check()
        path = f"/api/v1/nodes/{spec.name}"
        for _ in range(3):
            current = self._api("GET", path)
            if current.status != 200:
                return False
            node = json.loads(current.body)
            nodes.refresh_status(node, spec, verdict.ready, verdict.message)
            reply = self._api("PUT", path + "/status", node)
            if reply.status == 200:
                return True
            if reply.status != 409:
                log.error(f'Error updating node status, will retry: "{_status_message(reply)}"')
                return False
        return False

    def run_kubelet(self) -> None:
        log.info(f"Connecting to proxy url=\"wss://{urllib.parse.urlsplit(self.base).netloc}/v1-k3s/connect\"")
        announced = False
        while not self.stop.is_set():
            try:
                ok = self.register() if not announced else self.post_status()
            except JoinError as exc:
                log.error(f"Error updating node status, will retry: {exc}")
                ok = False
            if ok and not announced:
                announced = True
                log.info("k3s agent is up and running")
                sdnotify.ready()
            self.stop.wait(HEARTBEAT_SECONDS if announced else CONFIG_RETRY)


def _status_message(reply: Reply) -> str:
    try:
        return json.loads(reply.body).get("message", "") or f"{reply.status} {reply.reason}"
    except ValueError:
        return f"{reply.status} {reply.reason}"


def run(flags: Any, stop: threading.Event | None = None, argv: list[str] | None = None) -> int:
    """``k3s agent``; returns the exit code (0 after SIGTERM, 1 on fatal configuration errors)."""
    stop = stop or threading.Event()
    install_signal_handlers(stop)
    try:
        cfg = config_from_flags(flags, argv)
        agent = Agent(cfg, stop)
        log.info(f"Starting k3s agent {agent.info.version} ({agent.info.git_commit})")
        if cfg.with_node_id:
            cfg.node_name = f"{cfg.node_name}-{ensure_node_id()}"
        (paths.host(cfg.data_dir) / "agent" / "images").mkdir(parents=True, exist_ok=True)
        if agent.validate() and agent.retrieve_config():
            shim.ensure_shim()  # the embedded containerd's state and a long-lived shim (shim.py)
            agent.run_kubelet()
        return 0
    except FatalError as exc:
        log.fatal_line(str(exc))
        return 1
