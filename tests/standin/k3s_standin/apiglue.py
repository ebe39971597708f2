"""Glue between the HTTPS listener and the API engineer's ``kubeapi.KubeAPI``.

When ``kubeapi`` is not importable, a tiny built-in API answers the health endpoints and ``/version``
so that the runtime (and its tests) can run on their own.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from .httpsd import Request, Response, status_response
from .objstore import Objects, error_status
from .supervisor import User

try:
    from . import kubeapi as _kubeapi  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on the tree state
    _kubeapi = None


def version_info(version: str, git_commit: str, go_version: str, arch: str) -> dict[str, str]:
    """``/version`` as the K3s apiserver reports it."""
    core = version.lstrip("v").split("+")[0].split("-")[0]
    major, minor = core.split(".")[:2]
    return {
        "major": major,
        "minor": minor,
        "emulationMajor": major,
        "emulationMinor": minor,
        "minCompatibilityMajor": major,
        "minCompatibilityMinor": str(max(int(minor) - 1, 0)),
        "gitVersion": version,
        "gitCommit": git_commit,
        "gitTreeState": "clean",
        "buildDate": "2025-12-10T00:00:00Z",
        "goVersion": go_version,
        "compiler": "gc",
        "platform": f"linux/{arch}",
    }


def make_api(store: Any, info: dict[str, str], server_address: str = "") -> Callable[[Request, User], Response]:
    """The request handler behind the supervisor. Authentication happens before it (anonymous requests
    never reach it: K3s runs kube-apiserver with --anonymous-auth=false)."""
    if _kubeapi is not None and hasattr(_kubeapi, "KubeAPI"):
        try:
            api = _kubeapi.KubeAPI(store, info, server_address=server_address) if server_address \
                else _kubeapi.KubeAPI(store, info)
        except TypeError:
            api = _kubeapi.KubeAPI(store, info)
        return _KubeAPIAdapter(api)
    return _MiniAPI(info, store)


class _KubeAPIAdapter:
    def __init__(self, api: Any) -> None:
        self.api = api

    def __call__(self, req: Request, user: User) -> Response:
        api_user = _kubeapi.UserInfo(user.name, list(user.groups))
        api_req = _kubeapi.ApiRequest(req.method, req.path, req.query, req.headers, req.body, api_user)
        resp = self.api.handle(api_req)
        return Response(resp.status, dict(resp.headers), resp.body)


class _MiniAPI:
    """Fallback: health endpoints, /version, and Node/Secret reads and writes (what the kubelet needs)."""

    def __init__(self, info: dict[str, str], store: Any) -> None:
        self.info = info
        self.objects = Objects(store)

    def __call__(self, req: Request, user: User) -> Response:
        if req.path in ("/readyz", "/livez", "/healthz"):
            return Response(200, {"Content-Type": "text/plain; charset=utf-8"}, b"ok")
        if req.path in ("/version", "/version/"):
            return Response(200, {"Content-Type": "application/json"}, json.dumps(self.info, indent=2).encode())
        parts = req.path.strip("/").split("/")
        if parts[:3] == ["api", "v1", "nodes"]:
            return self._nodes(req, parts[3:])
        if parts[:3] == ["api", "v1", "namespaces"] and len(parts) >= 5 and parts[4] == "secrets":
            return self._secrets(req, parts[3], parts[5:])
        return self._not_found()

    def _nodes(self, req: Request, rest: list[str]) -> Response:
        if not rest:
            if req.method == "POST":
                return self._write(self.objects.create, json.loads(req.body), 201)
            items = self.objects.list("v1", "Node")
            return _json_response(200, {"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": items})
        if req.method == "GET":
            obj = self.objects.get("v1", "Node", None, rest[0])
            return _json_response(200, obj) if obj else _named_not_found("nodes", rest[0])
        if req.method == "PUT":
            return self._write(self.objects.update, json.loads(req.body), 200)
        if req.method == "DELETE":
            return _json_response(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"}) \
                if self.objects.delete("v1", "Node", None, rest[0]) else _named_not_found("nodes", rest[0])
        return self._not_found()

    def _secrets(self, req: Request, namespace: str, rest: list[str]) -> Response:
        if rest and req.method == "GET":
            obj = self.objects.get("v1", "Secret", namespace, rest[0])
            return _json_response(200, obj) if obj else _named_not_found("secrets", rest[0])
        if not rest and req.method == "GET":
            items = self.objects.list("v1", "Secret", namespace)
            return _json_response(200, {"kind": "SecretList", "apiVersion": "v1", "metadata": {}, "items": items})
        if not rest and req.method == "POST":
            doc = json.loads(req.body)
            doc.setdefault("metadata", {})["namespace"] = namespace
            return self._write(self.objects.create, doc, 201)
        if rest and req.method == "DELETE":
            return _json_response(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"}) \
                if self.objects.delete("v1", "Secret", namespace, rest[0]) else _named_not_found("secrets", rest[0])
        return self._not_found()

    @staticmethod
    def _write(op: Callable[[dict], dict], doc: dict, code: int) -> Response:
        try:
            return _json_response(code, op(doc))
        except Exception as exc:  # store errors carry an HTTP status
            status = error_status(exc)
            reason = {404: "NotFound", 409: "AlreadyExists"}.get(status, "InternalError")
            return status_response(status, reason, str(exc))

    @staticmethod
    def _not_found() -> Response:
        return status_response(404, "NotFound", "the server could not find the requested resource",
                               {"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]})


def _json_response(code: int, doc: Any) -> Response:
    return Response(code, {"Content-Type": "application/json"}, json.dumps(doc).encode())


def _named_not_found(resource: str, name: str) -> Response:
    return status_response(404, "NotFound", f'{resource} "{name}" not found',
                           {"name": name, "kind": resource})
