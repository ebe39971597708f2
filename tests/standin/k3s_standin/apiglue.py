"""Glue between the HTTPS listener and the API engineer's ``kubeapi.KubeAPI``.

When ``kubeapi`` is not importable, a tiny built-in API answers the health endpoints and ``/version``
so that the runtime (and its tests) can run on their own.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from .httpsd import Request, Response, status_response
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


def make_api(store: Any, info: dict[str, str]) -> Callable[[Request, User], Response]:
    if _kubeapi is not None and hasattr(_kubeapi, "KubeAPI"):
        return _KubeAPIAdapter(_kubeapi.KubeAPI(store, info))
    return _MiniAPI(info)


class _KubeAPIAdapter:
    def __init__(self, api: Any) -> None:
        self.api = api

    def __call__(self, req: Request, user: User) -> Response:
        api_user = _kubeapi.UserInfo(user.name, list(user.groups))
        api_req = _kubeapi.ApiRequest(req.method, req.path, req.query, req.headers, req.body, api_user)
        resp = self.api.handle(api_req)
        return Response(resp.status, dict(resp.headers), resp.body)


class _MiniAPI:
    """Fallback: health endpoints and /version only."""

    def __init__(self, info: dict[str, str]) -> None:
        self.info = info

    def __call__(self, req: Request, user: User) -> Response:
        if req.path in ("/readyz", "/livez", "/healthz"):
            return Response(200, {"Content-Type": "text/plain; charset=utf-8"}, b"ok")
        if req.path == "/version":
            return Response(200, {"Content-Type": "application/json"}, json.dumps(self.info, indent=2).encode())
        return status_response(404, "NotFound", "the server could not find the requested resource",
                               {"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]})
