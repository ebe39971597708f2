"""The runtime's narrow view of ``store.Store``.

The runtime (server heartbeat, node lifecycle, node passwords, supervisor authentication) performs a
handful of object operations on Nodes and Secrets. :class:`Objects` offers them with "not found" as
``None`` and read-modify-write with retries on conflicts.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from .store import ApiError, Store


def now_rfc3339() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Objects:
    """The operations the runtime performs, with not-found mapped to None."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict | None:
        try:
            return self.store.get(api_version, kind, namespace, name)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, api_version: str, kind: str, namespace: str | None = None) -> list[dict]:
        return list(self.store.list(api_version, kind, namespace)["items"])

    def create(self, obj: dict) -> dict:
        return self.store.create(obj)

    def update(self, obj: dict) -> dict:
        """Write spec/metadata and, when it changed, status through the status subresource (as on a real
        API server, a plain update keeps the stored status of kinds that have one, such as Node)."""
        updated = self.store.update(obj)
        if "status" in obj and updated.get("status") != obj["status"]:
            updated = self.store.update({**updated, "status": obj["status"]}, subresource="status")
        return updated

    def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> bool:
        try:
            self.store.delete(api_version, kind, namespace, name)
            return True
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise

    def mutate(self, api_version: str, kind: str, namespace: str | None, name: str,
               change: Callable[[dict], Any], attempts: int = 5) -> dict | None:
        """Read-modify-write with retries on conflicts; ``change(obj)`` edits in place."""
        for _ in range(attempts):
            obj = self.get(api_version, kind, namespace, name)
            if obj is None:
                return None
            change(obj)
            try:
                return self.update(obj)
            except ApiError as exc:
                if exc.status != 409:
                    raise
        return None
