"""K3s's auto-deploying manifests controller (pkg/deploy), per manifests_and_registries.md Part A.

`AddonController(store, manifests_dir, disabled).scan_once()` is one pass of K3s's 15-second loop:
* files: recursive walk in lexical path order, symlinked directories followed (not links inside them),
  `.yaml`/`.yml`/`.json` (any case), no dot-files, none named by a `<name>.skip` file;
* a pass is "forced" (every file applied) until one pass succeeds; afterwards a file is looked at only
  when its mtime changed (or is the epoch), and applied only when its sha256 differs from the Addon's;
* one `k3s.cattle.io/v1 Addon` per file in kube-system, named by the file name up to its first dot;
* objects are applied like wrangler's apply with the Addon as owner: objectset labels/annotations, a
  three-way merge against the `objectset.rio.cattle.io/applied` annotation, namespace `default` for
  namespaced objects without one, and pruning of objects (found by the hash label across the file's
  current and previously recorded GVKs) that the file no longer contains;
* `disabled` names (file base name without extension, or a sub-directory) are actively uninstalled:
  objects deleted, file removed, Addon deleted;
* Events on the Addon in kube-system; errors are logged as
  `Failed to process config: failed to process <path>: <err>` and never stop the other files.
"""
from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import json
import os
import stat
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import yaml

from . import log, packaged
from .patching import three_way_merge
from .resources import ResourceType
from .store import ApiError, Store

ADDON_API_VERSION = "k3s.cattle.io/v1"
ADDON_NAMESPACE = "kube-system"
GVK_ANNOTATION = "addon.k3s.cattle.io/gvks"
LABEL_HASH = "objectset.rio.cattle.io/hash"
ANN_APPLIED = "objectset.rio.cattle.io/applied"
ANN_ID = "objectset.rio.cattle.io/id"
ANN_OWNER_GVK = "objectset.rio.cattle.io/owner-gvk"
ANN_OWNER_NAME = "objectset.rio.cattle.io/owner-name"
ANN_OWNER_NAMESPACE = "objectset.rio.cattle.io/owner-namespace"
FIELD_MANAGER = "k3s"
WRANGLER_DEFAULT_NAMESPACE = "default"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

def _emit(sink: Any, level: str, message: str) -> None:
    """Log through `sink`: a module/object with info/warning/error functions (such as `log`), a callable
    taking (level, message), or None for `log`."""
    target: Any = log if sink is None else sink
    emit = getattr(target, level, None)
    if callable(emit):
        emit(message)
    else:
        target(level, message)


# --------------------------------------------------------------------------------------------- parsing
class ManifestError(Exception):
    pass


def _is_empty_yaml(document: str) -> bool:
    for line in document.split("\n"):
        text = line.strip()
        if text and text != "---" and not text.startswith("#"):
            return False
    return True


def _split_documents(content: str) -> list[str]:
    """k8s.io/apimachinery's YAML reader: documents end at a line that is exactly `---` (plus spaces)."""
    documents: list[str] = []
    current: list[str] = []
    for line in content.split("\n"):
        if line.rstrip() == "---" or line.startswith("--- ") and not line[4:].strip():
            documents.append("\n".join(current))
            current = []
        else:
            current.append(line)
    documents.append("\n".join(current))
    return documents


def _yaml_error(err: Exception) -> str:
    """PyYAML's multi-line error in go-yaml's one-line shape: `yaml: line N: <problem>`."""
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    return f"yaml: line {mark.line + 1}: {problem}" if mark is not None else f"yaml: {problem}"


def _to_objects(document: str) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(document)
    except Exception as err:  # PyYAML's error types have no useful common base
        raise ManifestError(f"error converting YAML to JSON: {_yaml_error(err)}") from None
    if not isinstance(data, dict):
        raise ManifestError(f"Object 'Kind' is missing in '{json.dumps(data, separators=(',', ':'))}'")
    if isinstance(data.get("items"), list) and str(data.get("kind", "")).endswith("List"):
        items = []
        for item in data["items"]:
            if not isinstance(item, dict) or not item.get("kind"):
                raise ManifestError(f"Object 'Kind' is missing in '{json.dumps(item, separators=(',', ':'))}'")
            items.append(item)
        return items
    if not data.get("kind"):
        raise ManifestError(f"Object 'Kind' is missing in '{json.dumps(data, separators=(',', ':'))}'")
    if not data.get("apiVersion"):
        raise ManifestError(f"Object 'apiVersion' is missing in '{json.dumps(data, separators=(',', ':'))}'")
    return [data]


def parse_manifest(content: bytes) -> list[dict[str, Any]]:
    """Objects of a manifest file, deduplicated like wrangler's ObjectSet (last one wins)."""
    try:
        text = content.decode()
    except UnicodeDecodeError as err:
        raise ManifestError(str(err)) from None
    objects: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for document in _split_documents(text):
        if _is_empty_yaml(document):
            continue
        for obj in _to_objects(document):
            meta: dict[str, Any] = obj["metadata"] if isinstance(obj.get("metadata"), dict) else {}
            key = (str(obj["apiVersion"]), str(obj["kind"]), str(meta.get("namespace", "")), str(meta.get("name", "")))
            objects.pop(key, None)
            objects[key] = obj
    return list(objects.values())


def gvk_string(api_version: str, kind: str) -> str:
    """schema.GroupVersionKind.String(): `apps/v1, Kind=Deployment`, `/v1, Kind=ConfigMap`."""
    group, _, version = api_version.rpartition("/")
    return f"{group}/{version}, Kind={kind}"


def _parse_gvk(text: str) -> tuple[str, str] | None:
    head, sep, kind = text.partition(", Kind=")
    if not sep:
        return None
    group, _, version = head.partition("/")
    return (f"{group}/{version}" if group else version, kind)


def _gvk_order(objects: list[dict[str, Any]]) -> list[tuple[str, str]]:
    order: list[tuple[str, str]] = []
    for obj in objects:
        gvk = (str(obj["apiVersion"]), str(obj["kind"]))
        if gvk not in order:
            order.append(gvk)
    return order


# ------------------------------------------------------------------------------------------ file walk
@dataclass
class WatchedFile:
    name: str
    mtime: float
    is_dir: bool
    remove_on_disable: bool


def _walk(logical: str, real: str, follow_links: bool, remove: bool, out: dict[str, WatchedFile]) -> None:
    try:
        entries = sorted(os.scandir(real), key=lambda e: e.name)
    except OSError as err:
        raise ManifestError(f"lstat {real}: {err.strerror.lower() if err.strerror else err}") from None
    for entry in entries:
        path = os.path.join(logical, entry.name)
        info = entry.stat(follow_symlinks=False)
        if stat.S_ISLNK(info.st_mode) and follow_links:
            try:
                target = os.stat(entry.path)
            except OSError:
                target = None
            if target is not None and stat.S_ISDIR(target.st_mode):
                # Links are followed at the walk's own level only; what they lead to is never unlinked.
                _walk(path, os.path.realpath(entry.path), False, False, out)
                continue
        is_dir = stat.S_ISDIR(info.st_mode)
        out[path] = WatchedFile(entry.name, info.st_mtime, is_dir, remove)
        if is_dir:
            _walk(path, entry.path, follow_links, remove, out)


def walk_files(base: Path) -> dict[str, WatchedFile]:
    if not base.is_dir():
        raise ManifestError(f"lstat {base}: no such file or directory")
    files: dict[str, WatchedFile] = {}
    _walk(str(base), str(base), True, True, files)
    return files


def _has_manifest_suffix(name: str) -> bool:
    return name.lower().endswith(MANIFEST_SUFFIXES)


def should_skip(name: str, skips: set[str]) -> bool:
    return name.startswith(".") or name in skips or not _has_manifest_suffix(name)


def should_disable(base: str, path: str, disables: set[str]) -> bool:
    if not disables:
        return False
    # Every parent directory below base counts ("sub", "sub/deeper"), as in K3s's shouldDisableFile.
    parts = path[len(base):].split(os.sep)
    for index in range(1, len(parts)):
        if os.path.join(*parts[:index]) in disables:
            return True
    if not _has_manifest_suffix(path):
        return False
    stem, _ext = os.path.splitext(os.path.basename(path))
    return stem in disables


def addon_name(path: str) -> str:
    return os.path.basename(path).split(".", 1)[0]


# ------------------------------------------------------------------------------------------ controller
class AddonController:
    """One instance per server; call scan_once() at start and every 15 s (not thread-safe by itself)."""

    def __init__(self, store: Store, manifests_dir: Path, disabled: list[str], *, node_name: str = "",
                 log: Any = None, clock: Callable[[], float] = time.time, data_dir: Path | None = None,
                 cluster_dns: list[str] | None = None, cluster_domain: str = "cluster.local",
                 default_local_storage_path: str | None = None, system_default_registry: str = "") -> None:
        """With `data_dir` (a starting server passes it) the packaged manifests are staged first, as K3s
        rewrites them at every start; the other keyword arguments fill their template placeholders."""
        self.store = store
        self.base = Path(manifests_dir)
        self.disabled = set(disabled)
        self.node_name = node_name
        self._log_sink = log
        self.clock = clock
        self.force = True
        self.mod_times: dict[str, float] = {}
        self.last_errors: list[str] = []
        if data_dir is not None:
            values = packaged.template_values(
                cluster_dns, cluster_domain, default_local_storage_path or str(Path(data_dir) / "storage"),
                system_default_registry)
            self.base.mkdir(mode=0o700, parents=True, exist_ok=True)
            packaged.stage(self.base, list(disabled), values, lambda message: self.log("info", message))

    def log(self, level: str, message: str) -> None:
        _emit(self._log_sink, level, message)

    # ------------------------------------------------------------------------------------------ loop
    def scan_once(self) -> list[str]:
        """One pass; returns the errors it logged (empty when every file was handled)."""
        errors = self._list_files()
        if errors:
            self.log("error", "Failed to process config: " + "\n".join(errors))
        else:
            self.force = False
        self.last_errors = errors
        return errors

    tick = scan_once  # the name server.py's core loop looks for

    def _list_files(self) -> list[str]:
        try:
            files = walk_files(self.base)
        except ManifestError as err:
            return [str(err)]
        skips = {f.name[:-len(".skip")] for f in files.values() if f.name.endswith(".skip")}
        errors: list[str] = []
        base = str(self.base)
        for path in sorted(files):
            info = files[path]
            if info.is_dir:
                continue
            if should_disable(base, path, self.disabled):
                try:
                    self._delete(path, info.remove_on_disable)
                except (ApiError, ManifestError, OSError) as err:
                    errors.append(f"failed to delete {path}: {_message(err)}")
                continue
            if should_skip(info.name, skips):
                continue
            if not self.force and info.mtime != 0 and info.mtime == self.mod_times.get(path):
                continue
            try:
                self._deploy(path, compare_checksum=not self.force)
                self.mod_times[path] = info.mtime
            except (ApiError, ManifestError, OSError) as err:
                errors.append(f"failed to process {path}: {_message(err)}")
        return errors

    # ---------------------------------------------------------------------------------------- addons
    def _addon_type(self) -> ResourceType:
        return self.store.resolve(ADDON_API_VERSION, "Addon")

    def _get_addon(self, name: str) -> dict[str, Any]:
        try:
            return self.store.get_resource(self._addon_type(), "v1", ADDON_NAMESPACE, name)
        except ApiError as err:
            if err.status != 404:
                raise
            return {"apiVersion": ADDON_API_VERSION, "kind": "Addon",
                    "metadata": {"name": name, "namespace": ADDON_NAMESPACE}, "spec": {}}

    def _deploy(self, path: str, compare_checksum: bool) -> None:
        addon = self._get_addon(addon_name(path))
        addon["spec"]["source"] = path
        if not addon["metadata"].get("uid"):
            addon = self.store.create_resource(self._addon_type(), "v1", addon, field_manager=FIELD_MANAGER)
        try:
            content = Path(path).read_bytes()
        except OSError as err:
            self._event(addon, "Warning", "ReadManifestFailed", f"Read manifest at {json.dumps(path)} failed: "
                        f"{_message(err)}")
            raise
        checksum = hashlib.sha256(content).hexdigest()
        if compare_checksum and checksum == addon.get("spec", {}).get("checksum"):
            return
        try:
            objects = parse_manifest(content)
        except ManifestError as err:
            self._event(addon, "Warning", "ParseManifestFailed", f"Parse manifest at {json.dumps(path)} failed: {err}")
            raise
        gvks = _gvk_order(objects) + [g for g in self._recorded_gvks(addon) if g not in _gvk_order(objects)]
        gvks = [g for g in gvks if self.store.registry.by_kind(*g) is not None or g in _gvk_order(objects)]
        self._event(addon, "Normal", "ApplyingManifest", f"Applying manifest at {json.dumps(path)}")
        try:
            self._apply(addon, objects, gvks)
        except (ApiError, ManifestError) as err:
            self._event(addon, "Warning", "ApplyManifestFailed", f"Applying manifest at {json.dumps(path)} failed: "
                        f"{_message(err)}")
            raise
        self._event(addon, "Normal", "AppliedManifest", f"Applied manifest at {json.dumps(path)}")
        current = self._get_addon(addon["metadata"]["name"])
        current["spec"]["source"] = path
        current["spec"]["checksum"] = checksum
        annotations = current["metadata"].setdefault("annotations", {})
        annotations[GVK_ANNOTATION] = ";".join(gvk_string(*g) for g in _gvk_order(objects))
        self.store.update_resource(self._addon_type(), "v1", ADDON_NAMESPACE, current["metadata"]["name"], current,
                                   field_manager=FIELD_MANAGER)

    def _delete(self, path: str, remove_file: bool) -> None:
        addon = self._get_addon(addon_name(path))
        gvks = self._recorded_gvks(addon)
        try:
            content = Path(path).read_bytes()
        except OSError as err:
            self._event(addon, "Warning", "ReadManifestFailed", f"Read manifest at {json.dumps(path)} failed: "
                        f"{_message(err)}")
        else:
            try:
                gvks += [g for g in _gvk_order(parse_manifest(content)) if g not in gvks]
            except ManifestError as err:
                self._event(addon, "Warning", "ParseManifestFailed", f"Parse manifest at {json.dumps(path)} failed: "
                            f"{err}")
        gvks = [g for g in gvks if self.store.registry.by_kind(*g) is not None]
        self._apply(addon, [], gvks)
        if remove_file:
            os.remove(path)
        self._event(addon, "Normal", "DeletingManifest", f"Deleting manifest at {json.dumps(path)}")
        try:
            self.store.delete_resource(self._addon_type(), "v1", ADDON_NAMESPACE, addon["metadata"]["name"])
        except ApiError as err:
            if err.status != 404:
                raise

    @staticmethod
    def _recorded_gvks(addon: dict[str, Any]) -> list[tuple[str, str]]:
        text = (addon.get("metadata", {}).get("annotations") or {}).get(GVK_ANNOTATION, "")
        return [g for g in (_parse_gvk(part) for part in text.split(";")) if g]

    # ---------------------------------------------------------------------------------- wrangler apply
    @staticmethod
    def owner_annotations(addon: dict[str, Any]) -> dict[str, str]:
        meta = addon["metadata"]
        return {ANN_ID: "", ANN_OWNER_GVK: gvk_string(ADDON_API_VERSION, "Addon"),
                ANN_OWNER_NAME: meta["name"], ANN_OWNER_NAMESPACE: meta.get("namespace", "")}

    @classmethod
    def owner_hash(cls, addon: dict[str, Any]) -> str:
        annotations = cls.owner_annotations(addon)
        digest = hashlib.sha1()
        for key in (ANN_ID, ANN_OWNER_GVK, ANN_OWNER_NAME, ANN_OWNER_NAMESPACE):
            digest.update(annotations[key].encode())
        return digest.hexdigest()

    def _apply(self, addon: dict[str, Any], objects: list[dict[str, Any]], gvks: list[tuple[str, str]]) -> None:
        """Create, update and prune so that the owner's object set equals `objects` (errors are collected
        per object and raised together, like wrangler's desired set)."""
        owner_hash = self.owner_hash(addon)
        annotations = self.owner_annotations(addon)
        errors: list[str] = []
        for api_version, kind in gvks:
            rtype = self.store.registry.by_kind(api_version, kind)
            if rtype is None:
                errors.append(f"failed to discover client for {gvk_string(api_version, kind)}")
                continue
            wanted = [self._desired(o, rtype, owner_hash, annotations) for o in objects
                      if (o["apiVersion"], o["kind"]) == (api_version, kind)]
            existing = {(i["metadata"].get("namespace", ""), i["metadata"]["name"]): i
                        for i in self.store.list_resource(rtype, None, None, f"{LABEL_HASH}={owner_hash}")["items"]}
            wanted_keys = set()
            for obj in wanted:
                key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
                wanted_keys.add(key)
                try:
                    self._create_or_update(rtype, obj, existing.get(key))
                except ApiError as err:
                    errors.append(f"failed to create or update {key[0]}/{key[1]} "
                                  f"{gvk_string(api_version, kind)}: {err.message}")
            for key in sorted(set(existing) - wanted_keys):
                try:
                    self.store.delete_resource(rtype, None, key[0] or None, key[1], propagation="Background")
                except ApiError as err:
                    if err.status != 404:
                        errors.append(f"failed to delete {key[0]}/{key[1]} {gvk_string(api_version, kind)}: "
                                      f"{err.message}")
        if errors:
            raise ManifestError("\n".join(errors))

    def _desired(self, obj: dict[str, Any], rtype: ResourceType, owner_hash: str,
                 annotations: dict[str, str]) -> dict[str, Any]:
        desired = copy.deepcopy(obj)
        meta = desired.setdefault("metadata", {})
        if rtype.namespaced and not meta.get("namespace"):
            meta["namespace"] = WRANGLER_DEFAULT_NAMESPACE
        meta.setdefault("labels", {})[LABEL_HASH] = owner_hash
        meta_annotations = meta.setdefault("annotations", {})
        meta_annotations.pop(ANN_APPLIED, None)
        meta_annotations.update(annotations)
        applied = json.dumps(desired, sort_keys=True, separators=(",", ":"))
        meta_annotations[ANN_APPLIED] = applied_annotation(applied.encode())
        return desired

    def _create_or_update(self, rtype: ResourceType, desired: dict[str, Any], live: dict[str, Any] | None) -> None:
        meta = desired["metadata"]
        if live is None:
            try:
                self.store.create_resource(rtype, None, desired, field_manager=FIELD_MANAGER)
                return
            except ApiError as err:
                if err.status != 409:
                    raise
                # Taking over an object that exists but was not created by this owner.
                live = self.store.get_resource(rtype, None, meta.get("namespace"), meta["name"])
        previous = decode_applied((live["metadata"].get("annotations") or {}).get(ANN_APPLIED, ""))
        merged = three_way_merge(previous, desired, live)
        if merged == live:
            return
        self.store.update_resource(rtype, None, meta.get("namespace"), meta["name"], merged,
                                   field_manager=FIELD_MANAGER)

    # ------------------------------------------------------------------------------------------ events
    def _event(self, addon: dict[str, Any], event_type: str, reason: str, message: str) -> None:
        """An Event on the Addon as client-go's recorder writes it (repeats bump count/lastTimestamp)."""
        meta = addon["metadata"]
        now = datetime.fromtimestamp(self.clock(), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        event_type_res = self.store.resolve("v1", "Event")
        involved = {"kind": "Addon", "namespace": meta.get("namespace", ADDON_NAMESPACE), "name": meta["name"],
                    "uid": meta.get("uid", ""), "apiVersion": ADDON_API_VERSION,
                    "resourceVersion": meta.get("resourceVersion", "")}
        involved = {k: v for k, v in involved.items() if v}
        try:
            for existing in self.store.list_resource(event_type_res, "v1", ADDON_NAMESPACE)["items"]:
                ref = existing.get("involvedObject") or {}
                if (ref.get("uid"), ref.get("name"), existing.get("reason"), existing.get("message"),
                        existing.get("type")) == (involved.get("uid"), meta["name"], reason, message, event_type):
                    existing["count"] = int(existing.get("count", 1)) + 1
                    existing["lastTimestamp"] = now
                    self.store.update_resource(event_type_res, "v1", ADDON_NAMESPACE, existing["metadata"]["name"],
                                               existing, field_manager=FIELD_MANAGER)
                    return
            source = {"component": "deploy"}
            if self.node_name:
                source["host"] = self.node_name
            self.store.create_resource(event_type_res, "v1", {
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": f"{meta['name']}.{int(self.clock() * 1e9):x}", "namespace": ADDON_NAMESPACE},
                "involvedObject": involved, "reason": reason, "message": message, "source": source,
                "firstTimestamp": now, "lastTimestamp": now, "count": 1, "type": event_type,
                "reportingComponent": "", "reportingInstance": ""}, field_manager=FIELD_MANAGER)
        except ApiError as err:
            self.log("warning", f"Unable to record event {reason} for Addon {meta['name']}: {err.message}")


def applied_annotation(data: bytes) -> str:
    """wrangler's appliedToAnnotation: plain JSON when short, else gzip + unpadded base64."""
    if len(data) < 1024:
        return data.decode()
    return base64.b64encode(gzip.compress(data, mtime=0)).decode().rstrip("=")


def decode_applied(text: str) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        if text.startswith("{"):
            return json.loads(text)
        padded = text + "=" * (-len(text) % 4)
        return json.loads(gzip.decompress(base64.b64decode(padded)))
    except (ValueError, OSError):
        return None


def _message(err: BaseException) -> str:
    if isinstance(err, ApiError):
        return err.message
    if isinstance(err, OSError) and err.filename:
        return f"open {err.filename}: {(err.strerror or '').lower()}"
    return str(err)
