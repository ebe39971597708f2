"""Narrow adapter between the runtime and the API engineer's ``store.Store``.

The runtime needs only a handful of object operations (Nodes, Secrets, Leases). They go through
:class:`Objects` so that a change in ``store``'s calling conventions touches one place. When the
``store`` module is not importable (early development, isolated unit tests), :class:`MemoryStore`
provides the same contract, with JSON persistence.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any

try:
    from . import store as _store  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on the tree state
    _store = None


class _FallbackApiError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


ApiError: type[Exception] = getattr(_store, "ApiError", _FallbackApiError)


def error_status(exc: BaseException) -> int:
    for attr in ("status", "code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    return 500


def now_rfc3339() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class MemoryStore:
    """Minimal thread-safe object store with the ``store.Store`` method names (fallback only)."""

    def __init__(self, state_file: Path | None = None) -> None:
        self._lock = threading.RLock()
        self._objects: dict[tuple[str, str, str, str], dict] = {}
        self._rv = 0
        self._state_file = state_file
        if state_file is not None and state_file.exists():
            self._load(state_file)

    def _load(self, path: Path) -> None:
        doc = json.loads(path.read_text() or "{}")
        self._rv = int(doc.get("resourceVersion", 0))
        for obj in doc.get("objects", []):
            self._objects[self._key_of(obj)] = obj

    def _persist(self) -> None:
        if self._state_file is None:
            return
        self._state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"resourceVersion": self._rv, "objects": list(self._objects.values())}))
        os.chmod(tmp, 0o600)
        os.replace(tmp, self._state_file)

    @staticmethod
    def _key_of(obj: dict) -> tuple[str, str, str, str]:
        meta = obj.get("metadata", {})
        return obj["apiVersion"], obj["kind"], meta.get("namespace") or "", meta["name"]

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict:
        with self._lock:
            obj = self._objects.get((api_version, kind, namespace or "", name))
            if obj is None:
                raise _FallbackApiError(404, "NotFound", f'{kind.lower()}s "{name}" not found')
            return copy.deepcopy(obj)

    def list(self, api_version: str, kind: str, namespace: str | None = None, label_selector: str = "") -> list[dict]:
        with self._lock:
            return [copy.deepcopy(o) for (av, k, ns, _), o in sorted(self._objects.items())
                    if av == api_version and k == kind and (namespace is None or ns == namespace)]

    def create(self, obj: dict, dry_run: bool = False) -> dict:
        with self._lock:
            key = self._key_of(obj)
            if key in self._objects:
                raise _FallbackApiError(409, "AlreadyExists", f'{obj["kind"].lower()}s "{key[3]}" already exists')
            stored = copy.deepcopy(obj)
            meta = stored.setdefault("metadata", {})
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", now_rfc3339())
            return self._save(key, stored, dry_run)

    def update(self, obj: dict, dry_run: bool = False) -> dict:
        with self._lock:
            key = self._key_of(obj)
            if key not in self._objects:
                raise _FallbackApiError(404, "NotFound", f'{obj["kind"].lower()}s "{key[3]}" not found')
            return self._save(key, copy.deepcopy(obj), dry_run)

    def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict:
        with self._lock:
            obj = self._objects.pop((api_version, kind, namespace or "", name), None)
            if obj is None:
                raise _FallbackApiError(404, "NotFound", f'{kind.lower()}s "{name}" not found')
            self._persist()
            return obj

    def _save(self, key: tuple[str, str, str, str], obj: dict, dry_run: bool) -> dict:
        if dry_run:
            return obj
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        self._objects[key] = obj
        self._persist()
        return copy.deepcopy(obj)


def open_store(state_file: Path, root_ca_pem: str | None = None) -> Any:
    """The API engineer's Store when available, else the fallback."""
    if _store is not None and hasattr(_store, "Store"):
        try:
            return _store.Store(state_file, root_ca_pem=root_ca_pem)
        except TypeError:  # an older Store signature
            return _store.Store(state_file)
    return MemoryStore(state_file)


class Objects:
    """The operations the runtime performs, with not-found mapped to None."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict | None:
        try:
            return self.backend.get(api_version, kind, namespace, name)
        except ApiError as exc:
            if error_status(exc) == 404:
                return None
            raise
        except _FallbackApiError as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, api_version: str, kind: str, namespace: str | None = None) -> list[dict]:
        result = self.backend.list(api_version, kind, namespace)
        if isinstance(result, dict):  # a List object rather than a plain list
            return list(result.get("items", []))
        return list(result)

    def create(self, obj: dict) -> dict:
        return self.backend.create(obj)

    def update(self, obj: dict) -> dict:
        """Write spec/metadata and, when it changed, status (through the status subresource, which a
        real API server requires: a plain update ignores status for most kinds)."""
        updated = self.backend.update(obj)
        if "status" in obj and updated.get("status") != obj.get("status"):
            retry = dict(updated)
            retry["status"] = obj["status"]
            try:
                updated = self.backend.update(retry, subresource="status")
            except TypeError:  # the fallback store keeps status on plain updates
                updated = self.backend.update(retry)
        return updated

    def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> bool:
        try:
            self.backend.delete(api_version, kind, namespace, name)
            return True
        except (ApiError, _FallbackApiError) as exc:
            if error_status(exc) == 404:
                return False
            raise

    def is_conflict(self, exc: BaseException) -> bool:
        return error_status(exc) == 409

    def mutate(self, api_version: str, kind: str, namespace: str | None, name: str,
               change: "Any", attempts: int = 5) -> dict | None:
        """Read-modify-write with retries on conflicts; ``change(obj)`` edits in place."""
        for _ in range(attempts):
            obj = self.get(api_version, kind, namespace, name)
            if obj is None:
                return None
            change(obj)
            try:
                return self.update(obj)
            except (ApiError, _FallbackApiError) as exc:
                if not self.is_conflict(exc):
                    raise
        return None
