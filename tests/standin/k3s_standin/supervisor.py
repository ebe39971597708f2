"""The K3s supervisor: authentication and the ``/cacerts``, ``/ping``, ``/v1-k3s/*``, ``/db/info`` routes.

Follows K3s' ``pkg/server/handlers/router.go`` and ``pkg/server/auth/auth.go``:

* ``/cacerts``, ``/ping`` and ``/static/*`` need no credentials.
* The ``/v1-k3s`` routes are wrapped in role checks: a request whose credentials fail to authenticate
  gets 401 ``not authorized``; one without credentials, or without one of the required groups, gets 403
  ``forbidden``. Both are ``Status`` JSON, sent with ``Connection: close``.
* Anything not matched falls through to the Kubernetes API (``kubeapi.KubeAPI``) with the user that
  kube-apiserver's authenticators accept (client certificates and bootstrap tokens, no basic auth), or
  none. K3s runs kube-apiserver with ``--anonymous-auth=false``, so the API answers every request without
  a user — including ``/version``, ``/healthz``, ``/livez`` and ``/readyz`` — with 401 ``Unauthorized``.
"""
from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import io
import ipaddress
import json
import mimetypes
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from asn1crypto import x509 as asn1_x509

from . import kubeapi, log, nodes, pki, tokens
from .httpsd import Request, Response, status_response
from .objstore import Objects

PROGRAM = "k3s"
AGENT_ROLES = ("k3s:agent", "system:nodes", "system:bootstrappers")
SERVER_ROLES = ("k3s:server",)
BOOTSTRAP_GROUP = "system:bootstrappers"
BOOTSTRAP_SECRET_TYPE = "bootstrap.kubernetes.io/token"
SERVER_ONLY_PATHS = ("/encrypt/status", "/encrypt/config", "/cert/cacerts", "/server-bootstrap", "/token")
AGENT_PATHS = ("/serving-kubelet.crt", "/client-kubelet.crt", "/client-kube-proxy.crt",
               "/client-k3s-controller.crt", "/client-ca.crt", "/server-ca.crt", "/apiservers",
               "/config", "/readyz")


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""

    def has_any(self, roles: tuple[str, ...]) -> bool:
        return any(g in roles for g in self.groups)


class AuthError(Exception):
    """Credentials were presented but are invalid (HTTP 401)."""


# --- authentication ----------------------------------------------------------------------------------------

def read_passwd(path: Path) -> dict[str, tuple[str, User]]:
    """``server/cred/passwd``: CSV ``password,user,uid[,group1,group2...]`` (groups in one field)."""
    users: dict[str, tuple[str, User]] = {}
    try:
        text = path.read_text()
    except OSError:
        return users
    for record in csv.reader(io.StringIO(text)):
        if len(record) < 3:
            continue
        groups = tuple(record[3].split(",")) if len(record) >= 4 else ()
        users[record[1]] = (record[0], User(record[1], groups, record[2]))
    return users


class Authenticator:
    """Union of basic auth (passwd file), bootstrap bearer tokens and client certificates."""

    def __init__(self, passwd_file: Path, objects: Callable[[], Objects | None]) -> None:
        self.passwd_file = passwd_file
        self.objects = objects

    def authenticate(self, req: Request, allow_basic: bool = True) -> User | None:
        """The user, None when no credentials were sent, or :class:`AuthError`."""
        header = req.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value:
            return self._bearer(value.strip())
        if scheme.lower() == "basic" and value and allow_basic:
            return self._basic(value.strip())
        if req.peer_cert_der:
            return self._certificate(req.peer_cert_der)
        if header and scheme.lower() in ("basic", "bearer"):
            raise AuthError("invalid credentials")
        return None

    def _basic(self, value: str) -> User:
        try:
            username, _, password = base64.b64decode(value).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise AuthError("invalid username/password combination") from exc
        entry = read_passwd(self.passwd_file).get(username)
        if entry is None or entry[0] != password:
            raise AuthError("invalid username/password combination")
        return _authenticated(entry[1])

    def _bearer(self, token: str) -> User:
        match = tokens.BOOTSTRAP_TOKEN_RE.match(token)
        objects = self.objects()
        if match is None or objects is None:
            raise AuthError("invalid bearer token")
        token_id, token_secret = match.groups()
        secret = objects.get("v1", "Secret", "kube-system", f"bootstrap-token-{token_id}")
        if secret is None or not bootstrap_secret_valid(secret, token_id, token_secret):
            raise AuthError("invalid bearer token")
        extra = [g for g in (nodes.secret_value(secret, "auth-extra-groups") or "").split(",") if g]
        return _authenticated(User(f"system:bootstrap:{token_id}", tuple([BOOTSTRAP_GROUP] + extra)))

    @staticmethod
    def _certificate(der: bytes) -> User:
        cert = asn1_x509.Certificate.load(der)
        common_name, orgs = pki.subject_identity(cert)
        return _authenticated(User(common_name, tuple(orgs)))


def _authenticated(user: User) -> User:
    if "system:authenticated" in user.groups:
        return user
    return User(user.name, user.groups + ("system:authenticated",), user.uid)


def bootstrap_secret_valid(secret: dict, token_id: str, token_secret: str) -> bool:
    """The checks of Kubernetes' bootstrap token authenticator."""
    if secret.get("type") != BOOTSTRAP_SECRET_TYPE or secret.get("metadata", {}).get("deletionTimestamp"):
        return False
    if nodes.secret_value(secret, "token-id") not in (None, token_id):
        return False
    if nodes.secret_value(secret, "token-secret") != token_secret:
        return False
    if nodes.secret_value(secret, "usage-bootstrap-authentication") != "true":
        return False
    expiration = nodes.secret_value(secret, "expiration")
    if expiration:
        try:
            when = dt.datetime.fromisoformat(expiration.replace("Z", "+00:00"))
        except ValueError:
            return False
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        if when < dt.datetime.now(dt.timezone.utc):
            return False
    return True


# --- the supervisor -----------------------------------------------------------------------------------------

@dataclass
class ControlInfo:
    """What the routes need to know about the running server."""

    data_dir: Path  # ${data-dir}/server
    server_ca: Path
    server_ca_key: Path
    client_ca: Path
    client_ca_key: Path
    client_kubelet_key: Path
    serving_kubelet_key: Path
    client_kube_proxy_key: Path
    client_k3s_controller_key: Path
    config: dict = field(default_factory=dict)
    apiservers: Callable[[], list[str]] = lambda: []
    etcd_members: Callable[[], list[dict]] | None = None  # None: no embedded etcd
    core_ready: threading.Event = field(default_factory=threading.Event)
    bootstrap_data: Callable[[], bytes] | None = None


class Supervisor:
    def __init__(self, control: ControlInfo, authenticator: Authenticator,
                 objects: Callable[[], Objects | None], api: kubeapi.KubeAPI,
                 node_passwords: Callable[[], nodes.NodePasswords | None]) -> None:
        self.control = control
        self.auth = authenticator
        self.objects = objects
        self.api = api
        self.node_passwords = node_passwords
        self.prefix = f"/v1-{PROGRAM}"

    # entry point for every HTTPS request
    def handle(self, req: Request) -> Response:
        if req.path == "/cacerts":
            return self._file(self.control.server_ca)
        if req.path == "/ping":
            return Response(200, {"Content-Type": "text/plain"}, b"pong")
        if req.path.startswith("/static/"):
            return self._static(req.path[len("/static/"):])
        if req.method == "CONNECT":
            return self._guarded(req, ("system:masters",), lambda _r, _u: _error(req, 405, "method not allowed"))
        route = self._route(req)
        if route is not None:
            roles, handler = route
            return self._guarded(req, roles, handler)
        return self._to_api(req)

    def _route(self, req: Request) -> tuple[tuple[str, ...], Callable[[Request, User], Response]] | None:
        path = req.path
        if path == "/db/info" and self.control.etcd_members is not None:
            return ("k3s:server",), self._db_info
        if not path.startswith(self.prefix + "/"):
            return None
        sub = path[len(self.prefix):]
        if sub in SERVER_ONLY_PATHS:
            return SERVER_ROLES, self._server_route
        if sub == "/connect":
            return ("system:nodes",), lambda r, _u: _error(r, 400, "websocket upgrade required")
        if sub in AGENT_PATHS:
            return AGENT_ROLES, self._agent_route
        return None

    def _guarded(self, req: Request, roles: tuple[str, ...],
                 handler: Callable[[Request, User], Response]) -> Response:
        if req.path == "/db/info" and _is_loopback(req.remote_addr):
            return handler(req, User("system:anonymous"))
        try:
            user = self.auth.authenticate(req)
        except AuthError as exc:
            log.error(f"Failed to authenticate request from {req.remote_addr}: {exc}")
            return _error(req, 401, "not authorized")
        if user is None or not user.has_any(roles):
            return _error(req, 403, "forbidden")
        return handler(req, user)

    def _to_api(self, req: Request) -> Response:
        """kube-apiserver authentication (no basic auth), then the KubeAPI, which rejects requests without
        a user (it runs with anonymous auth off)."""
        try:
            user = self.auth.authenticate(req, allow_basic=False)
        except AuthError:
            user = None
        api_user = kubeapi.UserInfo(user.name, list(user.groups)) if user is not None else None
        resp = self.api.handle(kubeapi.ApiRequest(req.method, req.path, req.query, req.headers, req.body, api_user))
        return Response(resp.status, dict(resp.headers), resp.body)

    # --- /v1-k3s routes -------------------------------------------------------------------------------

    def _agent_route(self, req: Request, user: User) -> Response:
        sub = req.path[len(self.prefix):]
        if sub == "/client-ca.crt":
            return self._file(self.control.client_ca)
        if sub == "/server-ca.crt":
            return self._file(self.control.server_ca)
        if sub == "/readyz":
            if not self.control.core_ready.is_set():
                return _error(req, 503, "runtime core not ready")
            return Response(200, {"Content-Type": "text/plain"}, b"ok")
        if sub == "/apiservers":
            return _json(self.control.apiservers())
        if sub == "/config":
            return _json(self.control.config)
        if sub == "/serving-kubelet.crt":
            return self._serving_kubelet(req, user)
        if sub == "/client-kubelet.crt":
            return self._client_kubelet(req, user)
        if sub == "/client-kube-proxy.crt":
            return self._sign(req, self.control.client_ca, self.control.client_ca_key,
                              self.control.client_kube_proxy_key,
                              pki.CertSpec("system:kube-proxy", client_auth=True))
        return self._sign(req, self.control.client_ca, self.control.client_ca_key,
                          self.control.client_k3s_controller_key,
                          pki.CertSpec(f"system:{PROGRAM}-controller", client_auth=True))

    def _server_route(self, req: Request, user: User) -> Response:
        sub = req.path[len(self.prefix):]
        if sub == "/server-bootstrap":
            if self.control.bootstrap_data is None:
                log.warning(f"Received HTTP bootstrap request from {req.remote_addr}, "
                            "but embedded etcd is not enabled.")
                return _error(req, 400, "etcd disabled")
            return Response(200, {"Content-Type": "application/json"}, self.control.bootstrap_data())
        if sub in ("/token", "/encrypt/config", "/cert/cacerts") and req.method != "PUT":
            return _error(req, 405, "method not allowed")
        if sub == "/encrypt/status":
            return _json({"Enable": False, "Stage": "", "HashMatch": True, "HashError": "", "ActiveKey": ""})
        return _error(req, 500, f"{sub.strip('/')} is not supported by the stand-in")

    def _db_info(self, req: Request, _user: User) -> Response:
        members = self.control.etcd_members() if self.control.etcd_members else []
        return _json({"header": {}, "members": members})

    # --- certificates ---------------------------------------------------------------------------------

    def _node_auth(self, req: Request, user: User) -> tuple[str, Response | None]:
        """K3s' NodeAuthValidator: header checks, node identity, node-password secret."""
        node_name = req.headers.get(f"{PROGRAM}-node-name", "")
        if not node_name:
            return "", _error(req, 400, "node name not set")
        password = req.headers.get(f"{PROGRAM}-node-password", "")
        if not password:
            return "", _error(req, 400, "node password not set")
        node_name = node_name.lower()
        identity = _node_identity(user)
        if identity is not None and identity != node_name:
            return "", _error(req, 400, "header node name does not match auth node name")
        objects, passwords = self.objects(), self.node_passwords()
        if objects is None or passwords is None:
            return "", _error(req, 503, "runtime core not ready")
        if identity is not None and objects.get("v1", "Node", None, identity) is None:
            return "", _error(req, 401, f'unable to verify node identity: nodes "{identity}" not found')
        try:
            passwords.ensure(node_name, password)
        except nodes.NodePasswordRejected as exc:
            return "", _error(req, 403, str(exc))
        return node_name, None

    def _serving_kubelet(self, req: Request, user: User) -> Response:
        node_name, failure = self._node_auth(req, user)
        if failure is not None:
            return failure
        ips = ["127.0.0.1"]
        for value in filter(None, req.headers.get(f"{PROGRAM}-node-ip", "").split(",")):
            try:
                ips.append(str(ipaddress.ip_address(value.strip())))
            except ValueError:
                return _error(req, 500, "invalid node IP address <nil>")
        spec = pki.CertSpec(node_name, server_auth=True, dns_names=[node_name, "localhost"], ip_addresses=ips)
        return self._sign(req, self.control.server_ca, self.control.server_ca_key,
                          self.control.serving_kubelet_key, spec)

    def _client_kubelet(self, req: Request, user: User) -> Response:
        node_name, failure = self._node_auth(req, user)
        if failure is not None:
            return failure
        spec = pki.CertSpec(f"system:node:{node_name}", ("system:nodes",), client_auth=True)
        return self._sign(req, self.control.client_ca, self.control.client_ca_key,
                          self.control.client_kubelet_key, spec)

    def _sign(self, req: Request, ca_cert: Path, ca_key: Path, legacy_key: Path, spec: pki.CertSpec) -> Response:
        """Sign the CSR in a POST body; without one, sign the shared legacy key and return it too."""
        ca_pem = ca_cert.read_bytes()
        ca = pki.KeyPair(pki.load_certs(ca_pem)[0], pki.load_key(ca_key.read_bytes()))
        key_bytes = b""
        public_key = None
        if req.method == "POST" and req.body:
            try:
                public_key = pki.csr_public_key(req.body)
            except pki.PKIError:
                public_key = None
        if public_key is None:
            key_bytes = legacy_key.read_bytes()
            cert = ca.issue(spec, key=pki.load_key(key_bytes))
        else:
            cert = ca.issue(spec, public_key=public_key)
        chain = pki.cert_pem(cert) + b"".join(pki.cert_pem(c) for c in pki.load_certs(ca_pem))
        return Response(200, {"Content-Type": "text/plain; charset=utf-8"}, chain + key_bytes)

    # --- files ----------------------------------------------------------------------------------------

    @staticmethod
    def _file(path: Path) -> Response:
        try:
            data = path.read_bytes()
        except OSError as exc:
            return status_response(500, "InternalError", f"Internal error occurred: {exc}")
        return Response(200, {"Content-Type": "text/plain"}, data)

    def _static(self, rel: str) -> Response:
        base = (self.control.data_dir / "static").resolve()
        target = (base / rel).resolve()
        if base not in target.parents or not target.is_file():
            return Response(404, {"Content-Type": "text/plain; charset=utf-8"}, b"404 page not found\n")
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return Response(200, {"Content-Type": ctype}, target.read_bytes())


def _node_identity(user: User) -> str | None:
    """Kubernetes' default node identifier: system:node:<name> in group system:nodes."""
    if user.name.startswith("system:node:") and "system:nodes" in user.groups:
        return user.name[len("system:node:"):]
    return None


def _is_loopback(remote_addr: str) -> bool:
    host = remote_addr.rsplit(":", 1)[0].strip("[]")
    return host in ("127.0.0.1", "::1")


_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 405: "MethodNotAllowed",
            500: "InternalError", 503: "ServiceUnavailable"}


def _error(req: Request, code: int, message: str) -> Response:
    """K3s' util.SendError: log, then a Status object with Connection: close."""
    log.error(f"Sending {req.proto} {code} response to {req.remote_addr}: {message}")
    reason = _REASONS.get(code, "Unknown")
    details = None
    if code == 500:
        details = {"causes": [{"message": message}]}
        message = f"Internal error occurred: {message}"
    return status_response(code, reason, message, details, close=True)


def _json(value: object) -> Response:
    return Response(200, {"Content-Type": "application/json"}, (json.dumps(value) + "\n").encode())
